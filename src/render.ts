// Model -> file contents, through Handlebars templates. Templates only print what the model computed.
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type Handlebars from "handlebars";
import Runtime from "handlebars/runtime.js";
import { InputError } from "./diagnostics.js";
import { MiB, readInputFile } from "./input-file.js";
import { pcsSections, pcsUnavailable } from "./model/pcs.js";
import type { ClusterModel, ManagedFile } from "./model/types.js";

export const BUILTIN_TEMPLATES = join(dirname(fileURLToPath(import.meta.url)), "..", "templates");
/** The templates compiled by `npm run build` (scripts/precompile-templates.mjs): [template text, compiled spec] pairs. */
export const PRECOMPILED = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "templates.precompiled.cjs");
/** Baked into the compiled code: the build precompiles with the same options. */
export const COMPILE_OPTIONS = { noEscape: true, strict: true } as const;

export type TemplateSet = (name: string) => Handlebars.TemplateDelegate;

export interface RenderedFile extends Omit<ManagedFile, "template" | "view"> {
  node: string;
  content: string;
}

export interface RenderedCluster {
  crm: string;
  /** The same configuration as pcs commands (cluster.pcs), or why the spec has no pcs form. */
  pcs: { script: string } | { unavailable: string };
  files: RenderedFile[];
}

/** Quotes a crm value only when crmsh needs it: empty, or holding spaces, quotes or backslashes. */
export function crmQuote(v: unknown): string {
  const s = String(v);
  return s !== "" && /^[^\s"'\\]+$/.test(s) ? s : `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

const HELPERS = { crmq: crmQuote };
const require = createRequire(import.meta.url);
// A template whose text the build compiled runs on Handlebars' runtime alone; only another text (a user's
// template, or one edited since the build) loads the compiler (and source-map): ~60 ms of a no-op (issue 16).
const runtime = (Runtime as typeof Handlebars).create();
runtime.registerHelper(HELPERS);
let compiler: typeof Handlebars | undefined;
const precompiled = new Map<string, Map<string, TemplateSpecification>>();

/** The template for `text`: the build's compiled form when it compiled this very text, else compiled here. */
function compile(text: string, precompiledPath: string): Handlebars.TemplateDelegate {
  let specs = precompiled.get(precompiledPath);
  if (!specs) precompiled.set(precompiledPath, (specs = new Map(existsSync(precompiledPath) ? (require(precompiledPath) as [string, TemplateSpecification][]) : [])));
  const spec = specs.get(text);
  if (spec) return runtime.template(spec);
  if (!compiler) {
    compiler = (require("handlebars") as typeof Handlebars).create();
    compiler.registerHelper(HELPERS);
  }
  return compiler.compile(text, COMPILE_OPTIONS);
}

const fileName = (template: string) => `${template.replace(/^\./, "")}.hbs`;

/** A user's template directory overrides a built-in template of the same name. */
export function loadTemplates(overrideDir?: string, precompiledPath = PRECOMPILED): TemplateSet {
  // A -t that names no directory would otherwise be ignored without a word.
  if (overrideDir !== undefined && !isDirectory(overrideDir)) {
    throw new InputError([{ code: "template-dir", severity: "error", file: overrideDir, message: "-t/--templates names no directory" }]);
  }
  const cache = new Map<string, Handlebars.TemplateDelegate>();
  return (name) => {
    let t = cache.get(name);
    if (!t) {
      const override = overrideDir ? join(overrideDir, fileName(name)) : undefined;
      const path = override && existsSync(override) ? override : join(BUILTIN_TEMPLATES, fileName(name));
      let text: string;
      try {
        text = readInputFile(path, MiB);
      } catch (e) {
        throw new InputError([{ code: "template-missing", severity: "error", file: path, message: `cannot read template: ${(e as Error).message}` }]);
      }
      t = compile(text, precompiledPath);
      cache.set(name, t);
    }
    return t;
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Exactly one trailing newline, so output is byte-identical however a template ends. */
const finish = (s: string) => s.replace(/\s+$/, "") + "\n";

function apply(templates: TemplateSet, name: string, context: object): string {
  try {
    return finish(templates(name)(context));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError([{ code: "template-error", severity: "error", file: fileName(name), message: `template failed: ${(e as Error).message}` }]);
  }
}

export function renderCluster(model: ClusterModel, templates: TemplateSet): RenderedCluster {
  const crm = apply(templates, "cluster.crm", { name: model.name, crm: model.crm });
  const unavailable = pcsUnavailable(model.crm);
  const pcs = unavailable ? { unavailable } : { script: apply(templates, "cluster.pcs", { name: model.name, sections: pcsSections(model.crm) }) };
  const files: RenderedFile[] = [];
  for (const node of model.nodes) {
    for (const f of model.files[node.name] ?? []) {
      const { template, view, ...meta } = f;
      files.push({ ...meta, node: node.name, content: apply(templates, template, { name: model.name, node: node.name, view }) });
    }
  }
  return { crm, pcs, files };
}
