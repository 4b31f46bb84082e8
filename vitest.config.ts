import { defineConfig } from "vitest/config";

// Unit tests: pure, no hosts, fast.
export default defineConfig({
  test: { include: ["test/unit/**/*.test.ts"], testTimeout: 20_000 },
});
