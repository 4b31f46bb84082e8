// Part of `npm run build`, after tsc: bundles the CLI's own modules and yaml into dist/bundle-*.js, which
// bin/pgha.js loads instead of dist/cli.js (issue 16). Resolving and reading ~90 files (yaml alone is 72)
// was a measurable share of `pgha validate`. The other dependencies stay external: validate does not load
// them, and ssh2 has native parts. Dynamic imports (render, gather, apply, ...) become chunks that load
// only where the command needs them, as before. Without esbuild (a dependency of vitest) nothing is
// bundled and bin/pgha.js uses dist/cli.js.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
// A stale bundle is never left behind: bin/pgha.js would otherwise run it.
for (const f of readdirSync(dist)) if (f.startsWith("bundle-")) rmSync(join(dist, f));

let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  console.warn("scripts/bundle.mjs: esbuild not installed, the CLI runs unbundled from dist/cli.js");
  process.exit(0);
}
const { dependencies } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
await esbuild.build({
  entryPoints: { "bundle-cli": join(dist, "cli.js") },
  outdir: dist,
  chunkNames: "bundle-chunk-[hash]",
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: Object.keys(dependencies).filter((d) => d !== "yaml"),
  // yaml is CommonJS: its require() calls of Node's own modules need a real require in an ES module.
  banner: { js: 'import { createRequire as __pghaRequire } from "node:module"; const require = __pghaRequire(import.meta.url);' },
  logLevel: "warning",
});
