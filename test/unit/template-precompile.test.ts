// Issue 16: templates compiled at build time render byte for byte what the .hbs files compiled at run time render.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import Handlebars from "handlebars";
import { BUILTIN_TEMPLATES, COMPILE_OPTIONS, loadTemplates, renderCluster } from "../../src/render.js";
import { precompiledModule } from "../../src/template-precompile.js";
import { EXAMPLES, renderExample } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "pgha-precompiled-"));
const file = join(dir, "templates.precompiled.cjs");
writeFileSync(file, precompiledModule());
const entries = createRequire(import.meta.url)(file) as [string, unknown][];

describe("precompiled templates", () => {
  it("hold every built-in template, keyed by its exact text", () => {
    const texts = readdirSync(BUILTIN_TEMPLATES).filter((f) => f.endsWith(".hbs")).map((f) => readFileSync(join(BUILTIN_TEMPLATES, f), "utf8"));
    expect(entries.map(([text]) => text).sort()).toEqual(texts.sort());
    for (const [, spec] of entries) expect(spec).toHaveProperty("main");
  });

  it.each(EXAMPLES)("render %s byte-identical to the templates compiled at run time", (example) => {
    const { model, rendered } = renderExample(example);
    expect(renderCluster(model, loadTemplates(undefined, file))).toEqual(rendered);
    expect(renderCluster(model, loadTemplates(undefined, join(dir, "none.cjs")))).toEqual(rendered);
  });

  it("are used for exactly the text they were compiled from; any other text is compiled at run time", () => {
    const crmText = readFileSync(join(BUILTIN_TEMPLATES, "cluster.crm.hbs"), "utf8");
    const marked = join(dir, "marked.cjs");
    // A spec for the crm template's text that renders something else shows which path rendered it.
    writeFileSync(marked, `module.exports = [[${JSON.stringify(crmText)}, ${Handlebars.precompile("from the build", COMPILE_OPTIONS)}]];`);
    const { model, rendered } = renderExample(EXAMPLES[0]!);
    const out = renderCluster(model, loadTemplates(undefined, marked));
    expect(out.crm).toBe("from the build\n");
    expect(out.files).toEqual(rendered.files);
  });
});
