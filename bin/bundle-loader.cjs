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
const CACHE = `${BUNDLE}.v8cache`;

const mtime = (p) => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? -1;

/** The bundle compiled as Node compiles a CommonJS module, with `cachedData` when given. */
function compileBundle(cachedData) {
  const source = readFileSync(BUNDLE, "utf8");
  return new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: BUNDLE, cachedData });
}

/** Runs the compiled bundle; its exports (main). */
function runBundle(script) {
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  return module.exports;
}

/** The bundle's exports, or undefined when there is no bundle as new as dist/cli.js. */
function loadBundle() {
  const bundle = mtime(BUNDLE);
  if (bundle < 0 || bundle < mtime(join(DIST, "cli.js"))) return undefined;
  return runBundle(compileBundle(mtime(CACHE) >= bundle ? readFileSync(CACHE) : undefined));
}

module.exports = { BUNDLE, CACHE, compileBundle, runBundle, loadBundle };
