// YAML documents that remember where every value came from, so errors can name file:line:column.
import { LineCounter, Parser, parseDocument, isAlias, isMap, isPair, isSeq, isScalar, type Document, type Node, type Pair, type SchemaOptions, type YAMLMap } from "yaml";
import { InputError, type Diagnostic } from "./diagnostics.js";

export interface YamlSource {
  file: string;
  doc: Document;
  lines: LineCounter;
  /** The plain JS value of the document. */
  value: unknown;
}

/** Nesting deeper than this is refused: no spec or inventory needs it, and it costs stack in every walk. */
export const MAX_DEPTH = 64;

/** Parses YAML text; throws InputError listing every syntax error with its position. `schema`: the inventory's YAML 1.1. */
export function parseYamlSource(text: string, file: string, schema: Pick<SchemaOptions, "customTags"> & { version?: "1.1" | "1.2" } = {}): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, ...schema });
  const at = (offset: number, message: string, code = "yaml-syntax"): Diagnostic => {
    const pos = lines.linePos(offset);
    return { code, severity: "error", file, line: pos.line, column: pos.col, message };
  };
  if (doc.errors.length > 0) {
    const tooDeep = doc.errors.find((e) => /call stack/i.test(e.message));
    // The parser runs out of stack on very deep nesting; say what the input did, not what the parser hit.
    if (tooDeep) throw new InputError([at(tooDeep.pos[0], `nesting too deep (more than ${MAX_DEPTH} levels)`, "yaml-too-deep")]);
    const unclosed = doc.errors.some((e) => /end with a [}\]]/.test(e.message)) ? unclosedFlowCollections(text) : [];
    throw new InputError(
      doc.errors.map((e) => {
        // The parser notices an unclosed { or [ only where the next block starts; point at the opener.
        const opener = /end with a [}\]]/.test(e.message) ? unclosed.filter((o) => o < e.pos[0]).pop() : undefined;
        return at(opener ?? e.pos[0], `invalid YAML: ${e.message.split("\n")[0]}`);
      }),
    );
  }
  const shape = checkShape(doc);
  if (shape) throw new InputError([at(shape.offset, shape.message, shape.code)]);
  let value: unknown;
  try {
    value = doc.toJS(); // the yaml library's maxAliasCount (100) refuses a "billion laughs" expansion
  } catch (e) {
    // Point at the first alias, where the expansion starts.
    throw new InputError([at(firstAlias(doc), `too many YAML aliases (*name): ${(e as Error).message}`, "yaml-aliases")]);
  }
  return { file, doc, lines, value };
}

/**
 * What every later walk of the value relies on, checked without recursion: no node nested deeper than
 * MAX_DEPTH, and no alias inside the node it names (`x: &x [*x]` is a value that contains itself).
 */
function checkShape(doc: Document): { offset: number; message: string; code: string } | undefined {
  const stack: [unknown, number][] = [[doc.contents, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (isAlias(node)) {
      const target = node.resolve(doc) as Node | undefined;
      const [start, end] = [target?.range?.[0], target?.range?.[2]];
      const at = node.range?.[0] ?? 0;
      if (start !== undefined && end !== undefined && start <= at && at < end) return { offset: at, message: `YAML alias *${node.source} refers to a node that contains it`, code: "yaml-aliases" };
    }
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= MAX_DEPTH) return { offset: node.range?.[0] ?? 0, message: `nesting too deep (more than ${MAX_DEPTH} levels)`, code: "yaml-too-deep" };
    for (const item of node.items as unknown[]) {
      if (isPair(item)) stack.push([item.key, depth + 1], [item.value, depth + 1]);
      else stack.push([item, depth + 1]);
    }
  }
  return undefined;
}

function firstAlias(doc: Document): number {
  const stack: unknown[] = [doc.contents];
  let first = Infinity;
  while (stack.length) {
    const node = stack.pop();
    if (isAlias(node)) first = Math.min(first, node.range?.[0] ?? 0);
    else if (isMap(node) || isSeq(node)) for (const item of node.items as unknown[]) stack.push(...(isPair(item) ? [item.key, item.value] : [item]));
  }
  return first === Infinity ? 0 : first;
}

/** Offsets of flow collections ({...} or [...]) that never close, from the yaml CST. */
function unclosedFlowCollections(text: string): number[] {
  const found: number[] = [];
  const stack: unknown[] = [...new Parser().parse(text)];
  while (stack.length) {
    const t = stack.pop();
    if (!t || typeof t !== "object") continue;
    const tok = t as { type?: string; offset?: number; end?: { source: string }[] };
    if (tok.type === "flow-collection" && !(tok.end ?? []).some((e) => e.source === "}" || e.source === "]")) found.push(tok.offset ?? 0);
    for (const v of Object.values(t)) if (v && typeof v === "object") stack.push(v);
  }
  return found.sort((a, b) => a - b);
}

/** JSON-pointer-ish path segments, e.g. ["postgresql", "port"]. */
export type PathSegments = ReadonlyArray<string | number>;

export function pointer(path: PathSegments): string {
  return "/" + path.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
}

// Each mapping's keys, indexed once: a lookup per host of a 100k-host inventory must not scan the mapping.
const keyIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();
function keyIndex(map: YAMLMap): Map<string, Pair> {
  let index = keyIndexes.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items as Pair[]) {
      const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
      if (!index.has(k)) index.set(k, p);
    }
    keyIndexes.set(map, index);
  }
  return index;
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
      const pair = keyIndex(node).get(String(seg));
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
