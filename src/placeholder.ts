// Placeholders: the values `pgha init` cannot know (VIPs, fence devices, link subnets), written as the
// string "<FILL: what to put here>". validate names each one still to fill, at its position, instead of
// the schema's complaint about its type or form.
import type { Diagnostic } from "./diagnostics.js";
import { diagAt, type PathSegments, type YamlSource } from "./yaml-source.js";

const PLACEHOLDER = /^<FILL: (.*)>$/s;

/** The placeholder string that asks for `what`. */
export const placeholder = (what: string): string => `<FILL: ${what}>`;

/** Every placeholder in the document, in document order, as a `placeholder` error. */
export function placeholderDiagnostics(src: YamlSource): Diagnostic[] {
  const found: Diagnostic[] = [];
  const walk = (v: unknown, path: PathSegments): void => {
    if (typeof v === "string") {
      const m = PLACEHOLDER.exec(v);
      if (m) found.push(diagAt(src, path, { code: "placeholder", severity: "error", message: `still to fill: ${m[1]}` }));
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(src.value, []);
  return found.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** Placeholders first, then the schema's other errors: one at a placeholder's own path only says it is not a value yet. */
export function withPlaceholders(placeholders: Diagnostic[], schemaErrors: Diagnostic[]): Diagnostic[] {
  const at = new Set(placeholders.map((p) => p.path));
  return [...placeholders, ...schemaErrors.filter((d) => !at.has(d.path))];
}
