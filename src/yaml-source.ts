// YAML documents that remember where every value came from, so errors can name file:line:column.
import { LineCounter, Parser, parseDocument, isMap, isSeq, isScalar, type Document, type Node } from "yaml";
import { InputError, type Diagnostic } from "./diagnostics.js";

export interface YamlSource {
  file: string;
  doc: Document;
  lines: LineCounter;
  /** The plain JS value of the document. */
  value: unknown;
}

/** Parses YAML text; throws InputError listing every syntax error with its position. */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const unclosed = unclosedFlowCollections(text);
    throw new InputError(
      doc.errors.map((e) => {
        // The parser notices an unclosed { or [ only where the next block starts; point at the opener.
        const opener = /end with a [}\]]/.test(e.message) ? unclosed.filter((o) => o < e.pos[0]).pop() : undefined;
        const pos = lines.linePos(opener ?? e.pos[0]);
        return {
          code: "yaml-syntax",
          severity: "error",
          file,
          line: pos.line,
          column: pos.col,
          message: `invalid YAML: ${e.message.split("\n")[0]}`,
        } satisfies Diagnostic;
      }),
    );
  }
  return { file, doc, lines, value: doc.toJS() };
}

/** Offsets of flow collections ({...} or [...]) that never close, from the yaml CST. */
function unclosedFlowCollections(text: string): number[] {
  const found: number[] = [];
  const walk = (t: unknown): void => {
    if (!t || typeof t !== "object") return;
    const tok = t as { type?: string; offset?: number; end?: { source: string }[] };
    if (tok.type === "flow-collection" && !(tok.end ?? []).some((e) => e.source === "}" || e.source === "]")) found.push(tok.offset ?? 0);
    for (const v of Object.values(t)) if (v && typeof v === "object") walk(v);
  };
  for (const token of new Parser().parse(text)) walk(token);
  return found.sort((a, b) => a - b);
}

/** JSON-pointer-ish path segments, e.g. ["postgresql", "port"]. */
export type PathSegments = ReadonlyArray<string | number>;

export function pointer(path: PathSegments): string {
  return "/" + path.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
}

/**
 * Position of the deepest node that exists along `path`. When `key` is set and the path ends at a map
 * entry, points at the key rather than the value (better for "unknown key" errors).
 */
export function locate(src: YamlSource, path: PathSegments, key = false): { line: number; column: number } {
  let node: Node | null | undefined = src.doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (const [i, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      const keyNode = pair.key as Node | null;
      const valueNode = pair.value as Node | null;
      // A block mapping or list starts on the next line; its key is where a reader looks for it.
      const block = (isMap(valueNode) || isSeq(valueNode)) && !valueNode.flow;
      const atKey = i === path.length - 1 && (key || block);
      offset = (atKey ? keyNode?.range?.[0] : valueNode?.range?.[0]) ?? keyNode?.range?.[0] ?? offset;
      node = valueNode;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  const pos = src.lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** Builds a diagnostic positioned at `path` inside `src`. */
export function diagAt(
  src: YamlSource,
  path: PathSegments,
  d: Omit<Diagnostic, "file" | "line" | "column" | "path">,
  onKey = false,
): Diagnostic {
  return { ...d, file: src.file, ...locate(src, path, onKey), path: pointer(path) };
}
