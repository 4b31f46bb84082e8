// Part of `npm run build`, after tsc (issue 16): bundles the CLI's own modules and yaml into one CommonJS
// file, dist/bundle-cli.cjs, and writes V8's code cache for it, which bin/pgha.js loads instead of
// dist/cli.js (bin/bundle-loader.cjs). Resolving and reading ~90 files (yaml alone is 72) and compiling
// them was a measurable share of `pgha validate`. The other dependencies stay external and are required
// only where a command needs them (esbuild turns their dynamic imports into lazy requires), as before.
// Without esbuild (a dependency of vitest) nothing is bundled and bin/pgha.js uses dist/cli.js.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
// A stale bundle is never left behind.
for (const f of readdirSync(dist)) if (f.startsWith("bundle-")) rmSync(join(dist, f));

let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  console.warn("scripts/bundle.mjs: esbuild not installed, the CLI runs unbundled from dist/cli.js");
  process.exit(0);
}
const { BUNDLE, CACHE, compileBundle, runBundle } = createRequire(import.meta.url)("../bin/bundle-loader.cjs");
const { dependencies } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
await esbuild.build({
  entryPoints: [join(dist, "cli.js")],
  outfile: BUNDLE,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  external: Object.keys(dependencies).filter((d) => d !== "yaml"),
  // The modules find the schema, templates and playbooks from their own URL; the bundle sits in dist/ as they do.
  define: { "import.meta.url": "__pghaModuleUrl" },
  banner: { js: 'const __pghaModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
});

// The cache holds what a run compiled: validate an example, quietly, then serialize.
const script = compileBundle();
const { main } = runBundle(script);
process.env.PGHA_REPL_PASSWORD ||= "code-cache";
const example = join(root, "inventories", "paf-3node");
const quiet = { out: () => undefined, err: (s) => console.warn(`scripts/bundle.mjs: ${s}`) };
// An example that no longer validates only makes the cache smaller: the tests say what is wrong with it.
if ((await main(["validate", "-i", join(example, "hosts.yml"), "-s", join(example, "cluster.yml")], quiet)) !== 0) console.warn("scripts/bundle.mjs: inventories/paf-3node did not validate; the code cache covers less");
writeFileSync(CACHE, script.createCachedData());
