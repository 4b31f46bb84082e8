#!/usr/bin/env node
// The bundle (scripts/bundle.mjs) when it is at least as new as tsc's output, so a tsc run without the
// bundling step is never shadowed by an older bundle; else the modules as tsc wrote them.
import { statSync } from "node:fs";

const mtime = (p) => statSync(new URL(p, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundled = mtime("../dist/bundle-cli.js") >= mtime("../dist/cli.js");
const { main } = await import(bundled ? "../dist/bundle-cli.js" : "../dist/cli.js");

process.exitCode = await main(process.argv.slice(2));
