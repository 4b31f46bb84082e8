// Part of `npm run build`, after tsc (issue 16): bundles the CLI's own modules and its dependencies into one
// CommonJS file, dist/bundle-cli.cjs, and writes V8's code cache for it, which bin/pgha.js loads instead of
// dist/cli.js (bin/bundle-loader.cjs). Resolving, reading and compiling ~90 files for validate (yaml alone is
// 72), and as many again for ssh2, listr2 and the rest on apply, diff and status, was a measurable share of
// their time. A dependency's code still runs only where a command needs it (esbuild turns the dynamic imports
// into lazy initialisers). Left outside: what is loaded only to compile at run time (ajv for a stale schema,
// Handlebars' compiler for a template the build did not compile) and ssh2's optional native parts.
// Without esbuild (a dependency of vitest) nothing is bundled and bin/pgha.js uses dist/cli.js.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
const { BUNDLE, BUNDLE_REMOTE, cacheOf, compileBundle, runBundle } = createRequire(import.meta.url)("../bin/bundle-loader.cjs");
const { dependencies } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
// In the remote bundle Handlebars' runtime is bundled; its compiler (the bare "handlebars") is not.
const OUTSIDE = /^(ajv|handlebars|cpu-features)(\/|$)/;
const bundle = (outfile, remote) =>
  esbuild.build({
    entryPoints: [join(dist, "cli.js")],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: remote ? [] : Object.keys(dependencies).filter((d) => d !== "yaml"),
    plugins: remote
      ? [
          {
            name: "outside",
            setup(build) {
              build.onResolve({ filter: OUTSIDE }, (a) => (a.path.startsWith("handlebars/runtime") ? undefined : { path: a.path, external: true }));
              // ssh2's optional native crypto (for chacha20-poly1305; it picks AES-GCM first), from its own package.
              build.onResolve({ filter: /\.node$/ }, () => ({ path: "ssh2/lib/protocol/crypto/build/Release/sshcrypto.node", external: true }));
            },
          },
        ]
      : [],
    // The modules find the schema, templates and playbooks from their own URL; the bundle sits in dist/ as they do.
    define: { "import.meta.url": "__pghaModuleUrl" },
    banner: { js: 'const __pghaModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: "warning",
  });
await bundle(BUNDLE, false);
await bundle(BUNDLE_REMOTE, true);

// A cache holds what a run compiled. The CLI bundle's: validate an example, quietly. The remote bundle's: the
// same, a render, then apply, diff and status of it with every host refusing the connection (127.0.0.1 port 1),
// which loads and runs their modules up to connecting and fails before any command could run anywhere.
process.env.PGHA_REPL_PASSWORD ||= "code-cache";
const example = join(root, "inventories", "paf-3node");
const scratch = mkdtempSync(join(tmpdir(), "pgha-code-cache-"));
const refused = join(scratch, "hosts.yml");
const refusedText = readFileSync(join(example, "hosts.yml"), "utf8").replace(/ansible_host: [\d.]+/g, "ansible_host: 127.0.0.1, ansible_port: 1");
// Every host must point at the refusing port: a name left in would send the runs below to a real host.
if ((refusedText.match(/ansible_host:/g) ?? []).length !== (refusedText.match(/ansible_host: 127\.0\.0\.1, ansible_port: 1\b/g) ?? []).length) throw new Error("scripts/bundle.mjs: an inventory host is not a plain address");
writeFileSync(refused, refusedText);
const quiet = { out: () => undefined, err: () => undefined };
const spec = ["-s", join(example, "cluster.yml")];
async function cache(file, remote) {
  const script = compileBundle(file);
  const { main } = runBundle(script, file);
  // An example that no longer validates only makes the cache smaller: the tests say what is wrong with it.
  if ((await main(["validate", "-i", join(example, "hosts.yml"), ...spec], { ...quiet, err: (s) => console.warn(`scripts/bundle.mjs: ${s}`) })) !== 0) console.warn("scripts/bundle.mjs: inventories/paf-3node did not validate; the code cache covers less");
  if (remote) {
    await main(["render", "-i", join(example, "hosts.yml"), ...spec, "-o", join(scratch, "out")], quiet);
    for (const command of [["apply", "--check"], ["diff"], ["status"]]) await main([...command, "-i", refused, ...spec, "--json"], quiet);
  }
  writeFileSync(cacheOf(file), script.createCachedData());
}
try {
  await cache(BUNDLE, false);
  await cache(BUNDLE_REMOTE, true);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
