// Build step (scripts/precompile-templates.mjs, issue 16): the built-in templates compiled ahead, so a run
// renders them with Handlebars' runtime alone (render.ts). Each entry keeps its template's text, which
// render.ts matches exactly: the .hbs files stay the source of truth, and an edited one is compiled at run time.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import { MiB, readInputFile } from "./input-file.js";
import { BUILTIN_TEMPLATES, COMPILE_OPTIONS } from "./render.js";

/** A CommonJS module exporting [template text, precompiled spec] for every template in `dir`. */
export function precompiledModule(dir = BUILTIN_TEMPLATES): string {
  const entries = readdirSync(dir)
    .filter((f) => f.endsWith(".hbs"))
    .sort()
    .map((f) => {
      const text = readInputFile(join(dir, f), MiB); // as render.ts reads it, so the texts match
      return `  [${JSON.stringify(text)}, ${Handlebars.precompile(text, COMPILE_OPTIONS)}],`;
    });
  return `// Written by npm run build (scripts/precompile-templates.mjs) from ${dir}; do not edit.\nmodule.exports = [\n${entries.join("\n")}\n];\n`;
}
