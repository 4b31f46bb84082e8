// Loads the CLI bundle (dist/bundle-cli.cjs, written by scripts/bundle.mjs) with the V8 code cache that the
// build wrote beside it, so a run compiles little of it (issue 16: Node 20 has no module.enableCompileCache).
// The cache belongs to the package like the code: it is written only by `npm run build`, never at run time.
// V8 rejects a cache from another V8 version or other flags (the bundle then compiles as usual); a cache
// older than the bundle is not used, nor a bundle older than tsc's dist/cli.js (bin/pgha.js then loads that).
const { readFileSync, statSync } = require("node:fs");
const { createRequire } = require("node:module");
const { dirname, join } = require("node:path");
const { Script } = require("node:vm");

const DIST = join(__dirname, "..", "dist");
const BUNDLE = join(DIST, "bundle-cli.cjs");
// The commands that reach hosts run from a second bundle that holds ssh2, listr2 and the other dependencies as
// well, with a cache of their code too (issue 16); validate and render keep the small one, as V8 reads a
// bundle's whole cache at start-up. The same modules in both: the choice only changes what is compiled when.
const BUNDLE_REMOTE = join(DIST, "bundle-remote.cjs");
const REMOTE_COMMANDS = ["apply", "diff", "status", "recover", "switchover", "import"];
const cacheOf = (bundle) => `${bundle}.v8cache`;

const mtime = (p) => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? -1;

/** `bundle` compiled as Node compiles a CommonJS module, with `cachedData` when given. */
function compileBundle(bundle, cachedData) {
  const source = readFileSync(bundle, "utf8");
  return new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
}

/** Runs the compiled `bundle`; its exports (main). */
function runBundle(script, bundle) {
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return module.exports;
}

/** The exports of the bundle for the command in `argv`, or undefined when there is none as new as dist/cli.js. */
function loadBundle(argv = []) {
  const bundle = argv.some((a) => REMOTE_COMMANDS.includes(a)) ? BUNDLE_REMOTE : BUNDLE;
  const built = mtime(bundle);
  if (built < 0 || built < mtime(join(DIST, "cli.js"))) return undefined;
  return runBundle(compileBundle(bundle, mtime(cacheOf(bundle)) >= built ? readFileSync(cacheOf(bundle)) : undefined), bundle);
}

module.exports = { BUNDLE, BUNDLE_REMOTE, cacheOf, compileBundle, runBundle, loadBundle };
