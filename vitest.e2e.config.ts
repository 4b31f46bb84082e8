import { defineConfig } from "vitest/config";

// End-to-end tests: real hosts (the lab, test/lab/lab.sh), so root only, slow and serial.
// The global setup brings up a 3-node lab once; the teardown takes it down.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    pool: "forks",
    fileParallelism: false, // one lab, shared by every file
    testTimeout: 180_000, // a cluster start includes Pacemaker's 20 s DC election
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
