// postgresql.conf as PostgreSQL reads it: settings by lower-case name, the last one winning, includes
// followed, values unquoted; and one spelling per value, to compare two files by what they set. Pure.
import { posix } from "node:path";
import type { Scalar } from "./spec-types.js";

/** The settings of postgresql.conf and its includes, the last one winning; the pgsql agent's own include is skipped. */
export function parsePostgresqlConf(files: { path: string; text: string }[]): Map<string, Scalar> {
  const out = new Map<string, Scalar>();
  const byPath = new Map(files.map((f) => [f.path, f.text]));
  const read = (path: string, depth: number) => {
    const text = byPath.get(path);
    if (text === undefined || depth > 10) return;
    for (const raw of text.split("\n")) {
      if (/# added by pgsql RA$/.test(raw)) continue;
      const m = /^\s*([A-Za-z_][\w.]*)\s*=?\s*('(?:[^'\\]|\\.|'')*'|[^#\s]*)\s*(#.*)?$/.exec(raw);
      if (!m) continue;
      const [, name, value] = m as unknown as [string, string, string];
      if (name === "include" || name === "include_if_exists" || name === "include_dir") {
        const target = posix.resolve(posix.dirname(path), pgString(value));
        const inDir = name === "include_dir" ? files.filter((f) => posix.dirname(f.path) === target && f.path.endsWith(".conf")).map((f) => f.path).sort() : [target];
        for (const p of inDir) read(p, depth + 1);
      } else out.set(name.toLowerCase(), pgScalar(value));
    }
  };
  if (files[0]) read(files[0].path, 0);
  return out;
}
const pgString = (v: string): string => (v.startsWith("'") ? v.slice(1, -1).replace(/''|\\(.)/g, (_, c: string | undefined) => c ?? "'") : v);
/** Quoted: a string; bare: a number, on/off, or a string (which pgha then writes quoted: the same setting). */
function pgScalar(v: string): Scalar {
  if (v.startsWith("'")) return pgString(v);
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (/^(on|true|yes)$/i.test(v)) return true;
  if (/^(off|false|no)$/i.test(v)) return false;
  return v;
}

/** A value as PostgreSQL reads it: quoted or bare the same, a boolean in any spelling as on/off. */
export const canonical = (v: Scalar): string => {
  const s = String(v);
  return typeof v === "boolean" ? (v ? "on" : "off") : /^(on|true|yes)$/i.test(s) ? "on" : /^(off|false|no)$/i.test(s) ? "off" : s;
};

/** One file's settings, each value canonical. */
export const canonicalSettings = (path: string, text: string): Map<string, string> => new Map([...parsePostgresqlConf([{ path, text }])].map(([k, v]) => [k, canonical(v)]));
