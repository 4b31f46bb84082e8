#!/usr/bin/env node
import { createRequire } from "node:module";

// One bundled file with its code cache when the build made them (bin/bundle-loader.cjs), else tsc's modules.
const { loadBundle } = createRequire(import.meta.url)("./bundle-loader.cjs");
const { main } = loadBundle(process.argv.slice(2)) ?? (await import("../dist/cli.js"));

process.exitCode = await main(process.argv.slice(2));
