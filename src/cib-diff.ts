// A readable, semantic comparison of two CIB configurations: what an operator wants to see before a push
// ("primitive pgsql: rep_mode async -> sync"), with what Pacemaker maintains itself left out. The exact
// patch comes from Pacemaker's own crm_diff; this is the summary beside it.
import { XMLParser } from "fast-xml-parser";
import type { CrmModel } from "./model/types.js";
import { MASK } from "./secrets.js";

/** cluster options Pacemaker writes itself; never drift. */
export const MAINTAINED_PROPERTIES = ["dc-version", "cluster-infrastructure", "cluster-name", "have-watchdog", "last-lrm-refresh"];

type X = Record<string, unknown>;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (_name, _path, _leaf, isAttribute) => !isAttribute });
const arr = (v: unknown): X[] => (Array.isArray(v) ? (v as X[]) : v ? [v as X] : []);
const first = (v: unknown): X => arr(v)[0] ?? {};

/** element label -> field -> value; fields are stable strings so two flattenings compare by key. */
export type Flat = Map<string, Map<string, string>>;

const nv = (sets: unknown, prefix: string, into: Map<string, string>) => {
  for (const set of arr(sets)) for (const p of arr(set.nvpair)) into.set(`${prefix}${String(p.name)}`, String(p.value ?? ""));
};

function flattenResource(kind: string, r: X, out: Flat, parent?: string): void {
  const f = new Map<string, string>();
  if (kind === "primitive") f.set("agent", [r.class, r.provider, r.type].filter(Boolean).join(":"));
  if (parent) f.set("in", parent);
  nv(r.instance_attributes, "", f);
  nv(r.meta_attributes, "meta ", f);
  for (const o of arr(first(r.operations).op)) {
    const key = `op ${String(o.name)} ${String(o.interval ?? "0")}${o.role ? ` ${String(o.role)}` : ""}`;
    f.set(key, Object.entries(o).filter(([k]) => !["id", "name", "interval", "role"].includes(k) && typeof o[k] !== "object").map(([k, v]) => `${k}=${String(v)}`).sort().join(" "));
  }
  const children: [string, X][] = [];
  for (const k of ["primitive", "group", "clone", "master"]) for (const c of arr(r[k])) children.push([k, c]);
  if (kind === "group") f.set("members", children.map(([, c]) => String(c.id)).join(" "));
  if (kind === "clone" || kind === "master") f.set("of", children.map(([, c]) => String(c.id)).join(" "));
  out.set(`${kind} ${String(r.id)}`, f);
  for (const [k, c] of children) flattenResource(k, c, out, String(r.id));
}

function rules(c: X): string[] {
  return arr(c.rule).map((r) => {
    const exprs = arr(r.expression).map((e) => [e.attribute, e.operation, e.value].filter((x) => x !== undefined).join(" "));
    return `${r.role ? `role=${String(r.role)} ` : ""}${String(r.score ?? r["score-attribute"] ?? "")}: ${exprs.join(` ${String(r["boolean-op"] ?? "and")} `)}`;
  });
}

/** Flattens the <configuration> of a CIB (whole CIB or configuration section). */
export function flattenCib(xml: string, opts: { skip?: (label: string) => boolean } = {}): Flat {
  const doc = parser.parse(xml) as X;
  const cfg = first(first(doc.cib).configuration ?? doc.configuration);
  const out: Flat = new Map();
  for (const set of arr(first(cfg.crm_config).cluster_property_set)) {
    for (const p of arr(set.nvpair)) {
      if (MAINTAINED_PROPERTIES.includes(String(p.name))) continue;
      out.set(`property ${String(p.name)}`, new Map([["value", String(p.value ?? "")]]));
    }
  }
  for (const [section, label] of [["rsc_defaults", "rsc_defaults"], ["op_defaults", "op_defaults"]] as const) {
    for (const set of arr(first(cfg[section]).meta_attributes)) for (const p of arr(set.nvpair)) out.set(`${label} ${String(p.name)}`, new Map([["value", String(p.value ?? "")]]));
  }
  const res = first(cfg.resources);
  for (const k of ["primitive", "group", "clone", "master"]) for (const r of arr(res[k])) flattenResource(k, r, out);
  const cons = first(cfg.constraints);
  for (const [tag, label] of [["rsc_location", "location"], ["rsc_colocation", "colocation"], ["rsc_order", "order"]] as const) {
    for (const c of arr(cons[tag])) {
      const f = new Map<string, string>();
      for (const [k, v] of Object.entries(c)) if (k !== "id" && typeof v !== "object") f.set(k, String(v));
      rules(c).forEach((r, i) => f.set(`rule ${i + 1}`, r));
      out.set(`${label} ${String(c.id)}`, f);
    }
  }
  if (opts.skip) for (const k of [...out.keys()]) if (opts.skip(k)) out.delete(k);
  return out;
}

/** Resource id -> the names of its instance attributes that hold a secret. */
export type SecretParams = ReadonlyMap<string, ReadonlySet<string>>;

/** The instance attributes the model declares secret: fence devices' secret_params. */
export function secretParams(crm: CrmModel): SecretParams {
  return new Map(crm.primitives.map((p) => [p.id, new Set(p.params.filter((kv) => kv.secret).map((kv) => kv.key))]));
}

/**
 * Whether a resource's instance attribute holds a secret: declared so, or named so (a password that the
 * spec no longer declares, or one a user put in plain params), so that an old value is masked as well.
 */
export function isSecretParam(secrets: SecretParams, resource: string, name: string): boolean {
  return /passw|secret/i.test(name) || (secrets.get(resource)?.has(name) ?? false);
}

/** A field of a flattened element that holds a secret (instance attributes are the fields without a space). */
export const secretField = (secrets: SecretParams) => (label: string, field: string) =>
  label.startsWith("primitive ") && !/\s/.test(field) && field !== "agent" && field !== "in" && isSecretParam(secrets, label.slice("primitive ".length), field);

/** One line per difference, actual -> desired, in a stable order; a secret field says that it changed, never its values. */
export function summarize(actual: Flat, desired: Flat, isSecret: (label: string, field: string) => boolean = () => false): string[] {
  const lines: string[] = [];
  const labels = [...new Set([...actual.keys(), ...desired.keys()])].sort();
  for (const label of labels) {
    const a = actual.get(label);
    const d = desired.get(label);
    if (!a) lines.push(`${label} added`);
    else if (!d) lines.push(`${label} removed`);
    else {
      const changes: string[] = [];
      for (const k of [...new Set([...a.keys(), ...d.keys()])].sort()) {
        const av = a.get(k);
        const dv = d.get(k);
        if (av === dv) continue;
        const name = k === "value" ? "" : `${k} `;
        if (isSecret(label, k)) changes.push(av === undefined ? `${name}added (${MASK})` : dv === undefined ? `${name}removed` : `${name}${MASK} -> ${MASK}`);
        else changes.push(av === undefined ? `${name}added (${dv})` : dv === undefined ? `${name}removed (was ${av})` : `${name}${av} -> ${dv}`);
      }
      if (changes.length) lines.push(`${label}: ${changes.join(", ")}`);
    }
  }
  return lines;
}

/** Move constraints are runtime state, reported separately (never config drift). */
export const isMoveConstraint = (label: string) => /^location cli-(ban|prefer)-/.test(label);

/** id -> value of every secret nvpair in a CIB (by position: a primitive's instance attribute that isSecretParam). */
export function secretNvpairs(xml: string, secrets: SecretParams): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (r: X) => {
    for (const p of arr(r.primitive)) {
      for (const set of arr(p.instance_attributes)) for (const nv of arr(set.nvpair)) if (isSecretParam(secrets, String(p.id), String(nv.name))) out.set(String(nv.id), String(nv.value ?? ""));
    }
    for (const k of ["group", "clone", "master"]) for (const c of arr(r[k])) walk(c);
  };
  const doc = parser.parse(xml) as X;
  walk(first(first(first(doc.cib).configuration ?? doc.configuration).resources));
  return out;
}

const unescapeXml = (s: string) => s.replace(/&(quot|apos|lt|gt|amp);/g, (_, e: string) => ({ quot: '"', apos: "'", lt: "<", gt: ">", amp: "&" })[e]!);
const attr = (attrs: string, name: string) => new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(attrs)?.slice(1).find((v) => v !== undefined);

/**
 * A crm_diff patch with the value of every secret nvpair (ids from secretNvpairs of both CIBs) masked:
 * the element itself (created, or the result of a change) and the change-attr of a change whose path
 * ends at it. By position, so the old value and any escaping of either are masked alike.
 */
export function maskCibPatch(patch: string, secretIds: ReadonlySet<string>): string {
  let inSecretChange = false;
  const maskValue = (tag: string) => tag.replace(/(\svalue\s*=\s*)(?:"[^"]*"|'[^']*')/, `$1"${MASK}"`);
  return patch.replace(/<(\/?)([\w:-]+)((?:"[^"]*"|'[^']*'|[^>"'])*)>/g, (tag, close: string, name: string, attrs: string) => {
    if (name === "change") {
      if (close) inSecretChange = false;
      else if (!attrs.trimEnd().endsWith("/")) {
        const target = /nvpair\[@id='([^']*)'\]$/.exec(unescapeXml(attr(attrs, "path") ?? ""))?.[1];
        inSecretChange = target !== undefined && secretIds.has(target);
      }
      return tag;
    }
    if (close) return tag;
    const id = attr(attrs, "id");
    if ((id !== undefined && secretIds.has(unescapeXml(id))) || (inSecretChange && name === "change-attr" && attr(attrs, "name") === "value")) return maskValue(tag);
    return tag;
  });
}
