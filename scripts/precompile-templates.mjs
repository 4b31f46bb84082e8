// Part of `npm run build`, after tsc (issue 16): writes dist/templates.precompiled.cjs, the built-in
// templates compiled ahead of time (src/template-precompile.ts), so a run does not load Handlebars' compiler.
import { writeFileSync } from "node:fs";
import { PRECOMPILED } from "../dist/render.js";
import { precompiledModule } from "../dist/template-precompile.js";

writeFileSync(PRECOMPILED, precompiledModule());
