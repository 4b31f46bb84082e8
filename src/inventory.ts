// Ansible inventories (YAML and INI), read the way Ansible reads them, so users can reuse the ones they have.
// Rules follow ansible-core's yaml/ini inventory plugins, InventoryData.reconcile_inventory and
// VariableManager.get_vars (checked against `ansible-inventory --list` from ansible-core 2.14).
import { readdirSync, statSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { InputError, type Diagnostic } from "./diagnostics.js";
import { MiB, readInputFile } from "./input-file.js";
import { locate, parseYamlSource, pointer, type PathSegments, type YamlSource } from "./yaml-source.js";

export interface InventoryHost {
  name: string;
  /** Fully merged variables, as Ansible would see them for this host. */
  vars: Record<string, unknown>;
  /** Every group the host is in, including ancestors and "all", sorted. */
  groups: string[];
  /** Connection facts pulled from vars (ansible_host defaults to the name, port 22, user from ansible_user or undefined). */
  connection: {
    host: string;
    port: number;
    user?: string;
    privateKeyFile?: string;
    become: boolean;
    becomeUser?: string;
    /** Where the sudo password is read (never the password): from ansible_become_password's lookup, a file path made absolute. */
    becomePassword?: { source: { env: string } | { file: string }; at: { file: string; line?: number; column?: number } };
    sshCommonArgs?: string;
  };
  /** Where the host was declared first (for error messages). */
  source: { file: string; line?: number; column?: number };
}

export interface InventoryGroup {
  name: string;
  /** All hosts of the group and its descendants, in the order they were first declared in the inventory. */
  hosts: string[];
  /** Direct child groups, in declaration order. */
  children: string[];
  /** The group's own variables: inventory file, overridden by its group_vars/ files (not inherited ones). */
  vars: Record<string, unknown>;
}

export interface Inventory {
  file: string;
  hosts: Map<string, InventoryHost>;
  groups: Map<string, InventoryGroup>;
}

export interface ParseInventoryOptions {
  /** Contents of group_vars/<group>, by group name (what loadInventory reads from disk). */
  groupVars?: Record<string, Record<string, unknown>>;
  /** Contents of host_vars/<host>, by host name. */
  hostVars?: Record<string, Record<string, unknown>>;
}

/**
 * Bounds that keep the work on any inventory finite: parsing YAML costs a few microseconds a byte, so 16 MiB
 * (about 250k hosts with a variable each) is read in about a minute at worst; a range of 10^8 is refused at once.
 */
export const INVENTORY_MAX_BYTES = 16 * MiB;
export const VARS_FILE_MAX_BYTES = 4 * MiB;
export const MAX_HOSTS = 200_000;

/** The text of a file an inventory is read from, or a diagnostic (positioned at the bad byte of a non-UTF-8 file). */
function readText(path: string, max: number, what: "inventory" | "variables file", diags: Diagnostic[]): string | undefined {
  try {
    return readInputFile(path, max, what === "inventory" ? "an inventory file" : "a variables file");
  } catch (e) {
    const at = e as { line?: number; column?: number };
    diags.push({ code: "inventory-read", severity: "error", file: path, line: at.line ?? 1, ...(at.column ? { column: at.column } : {}), message: `cannot read ${what}: ${errMsg(e)}` });
    return undefined;
  }
}

/** Reads an inventory file plus the group_vars/ and host_vars/ directories next to it. */
export function loadInventory(path: string): Inventory {
  const diags: Diagnostic[] = [];
  const text = readText(path, INVENTORY_MAX_BYTES, "inventory", diags);
  if (text === undefined) throw new InputError(diags);
  const base = dirname(path);
  // Each vars directory is listed once, so a host without a host_vars file costs no system call.
  const listings = new Map<string, Set<string> | undefined>();
  const listing = (dir: string): Set<string> | undefined => {
    if (!listings.has(dir)) {
      let names: Set<string> | undefined;
      try {
        names = new Set(readdirSync(dir));
      } catch {
        names = undefined;
      }
      listings.set(dir, names);
    }
    return listings.get(dir);
  };
  return build(text, path, (kind, name, diags) => {
    const dir = join(base, `${kind}_vars`);
    const names = listing(dir);
    const found = name.includes("/") || VARS_EXTS.some((ext) => names?.has(name + ext));
    return found ? readVarsFiles(dir, name, diags) : undefined;
  });
}

/** Parses inventory text; pure. group_vars/host_vars contents may be supplied by the caller. */
export function parseInventory(text: string, file: string, opts: ParseInventoryOptions = {}): Inventory {
  return build(text, file, (kind, name) => {
    const vars = (kind === "group" ? opts.groupVars : opts.hostVars)?.[name];
    if (!vars) return undefined;
    const at: Loc = { file: join(dirname(file), `${kind}_vars`, name) };
    return new Map(Object.entries(vars).map(([k, value]) => [k, { value, at: { ...at, path: pointer([k]) } }]));
  });
}

/** Hosts of a group including its descendants', in declaration order; [] for an unknown group. */
export function hostsOfGroup(inv: Inventory, group: string): string[] {
  return [...(inv.groups.get(group)?.hosts ?? [])];
}

// ---------------------------------------------------------------------------------------------------------------
// Model being built. Every variable remembers where it was set, so a bad value is reported where it was written.

type Loc = { file: string; line?: number; column?: number; path?: string };
type Vars = Map<string, { value: unknown; at: Loc }>;
type VarsLookup = (kind: "group" | "host", name: string, diags: Diagnostic[]) => Vars | undefined;

interface GroupB {
  name: string;
  children: string[];
  childSet: Set<string>;
  parents: string[];
  vars: Vars;
  priority: number;
}
interface HostB {
  name: string;
  groups: Set<string>;
  vars: Vars;
  source: Loc;
}

class Builder {
  readonly diags: Diagnostic[] = [];
  readonly groups = new Map<string, GroupB>();
  readonly hosts = new Map<string, HostB>();

  constructor(readonly file: string) {
    // Ansible's InventoryData always starts with these two, ungrouped as the first child of all.
    this.group("all");
    this.group("ungrouped");
    this.child("all", "ungrouped", { file });
  }

  err(code: string, message: string, at: Loc, expected?: string): void {
    this.diags.push({ code, severity: "error", message, ...at, ...(expected ? { expected } : {}) });
  }

  group(name: string): GroupB {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = { name, children: [], childSet: new Set(), parents: [], vars: new Map(), priority: 1 }));
    return g;
  }

  /** Adds a parent→child edge unless it would make a cycle (Ansible refuses those too). */
  child(parent: string, child: string, at: Loc): void {
    const p = this.group(parent);
    const c = this.group(child);
    if (p.childSet.has(child)) return;
    if (child === "all") {
      this.err("inventory-cycle", `group 'all' is the root of every inventory and cannot be a child of '${parent}'`, at);
      return;
    }
    const loop = this.pathDown(child, parent);
    if (loop) {
      const chain = [parent, ...loop].join(" → ");
      this.err("inventory-cycle", `group '${child}' cannot be a child of '${parent}': that makes a cycle (${chain})`, at);
      return;
    }
    p.children.push(child);
    p.childSet.add(child);
    c.parents.push(parent);
  }

  /** A path of child edges from `from` down to `to`, if there is one. */
  private pathDown(from: string, to: string, seen = new Set<string>()): string[] | undefined {
    if (from === to) return [to];
    if (seen.has(from)) return undefined;
    seen.add(from);
    for (const c of this.groups.get(from)?.children ?? []) {
      const rest = this.pathDown(c, to, seen);
      if (rest) return [from, ...rest];
    }
    return undefined;
  }

  host(name: string, group: string, at: Loc, port?: number): HostB {
    let h = this.hosts.get(name);
    if (!h) {
      // Stop at once: reading on would cost time and memory in proportion to whatever the file claims.
      if (this.hosts.size >= MAX_HOSTS) throw new InputError([...this.diags, { code: "inventory-too-many-hosts", severity: "error", message: `more than ${MAX_HOSTS} hosts`, expected: `at most ${MAX_HOSTS} hosts`, ...at }]);
      this.hosts.set(name, (h = { name, groups: new Set(), vars: new Map(), source: at }));
    }
    h.groups.add(group);
    this.group(group);
    // As InventoryData.add_host: a `host:port` pattern sets ansible_port (port 0 is ignored, as Ansible's `if port:`).
    if (port) h.vars.set("ansible_port", { value: port, at });
    return h;
  }

  groupVar(group: string, key: string, value: unknown, at: Loc): void {
    // As Group.set_variable: the priority is an attribute of the group, not a variable.
    if (key === "ansible_group_priority") {
      const n = typeof value === "number" ? value : typeof value === "string" && /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : NaN;
      if (!Number.isInteger(n)) this.err("inventory-bad-priority", `ansible_group_priority must be an integer, got ${show(value)}`, at, "an integer");
      else this.group(group).priority = n;
      return;
    }
    this.group(group).vars.set(key, { value, at });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Format detection and the two readers.

const INI_SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;

function build(text: string, file: string, lookup: VarsLookup): Inventory {
  const b = new Builder(file);
  // Ansible tries YAML then INI. A `[group]` line is never valid in a YAML mapping and a plain scalar document
  // (`pg1` or `pg1 ansible_host=x` lines) is not a YAML inventory, so both mean INI; anything else is YAML.
  const isIni =
    extname(file).toLowerCase() === ".ini" || text.split(/\r?\n/).some((l) => INI_SECTION.test(l.trim()) && !/^\s/.test(l));
  if (isIni) readIni(b, text, file);
  else {
    const src = parseAnsibleYaml(text, file);
    if (typeof src.value !== "object") readIni(b, text, file); // `pg1` / `10.0.0.1` lines read as a YAML scalar
    else readYaml(b, src);
  }
  if (b.diags.length === 0) return finish(b, lookup);
  throw new InputError(b.diags);
}

/** The yaml lib's YAML 1.1 schema, adjusted to what PyYAML (hence Ansible) resolves. */
function parseAnsibleYaml(text: string, file: string): YamlSource {
  return parseYamlSource(text, file, {
    version: "1.1",
    // PyYAML does not read y/n as booleans; timestamps stay strings, which is how Ansible templates them anyway.
    customTags: (tags) =>
      tags
        .filter((t) => typeof t !== "object" || t.tag !== "tag:yaml.org,2002:timestamp")
        .map((t) =>
          typeof t === "object" && t.tag === "tag:yaml.org,2002:bool" && "test" in t && t.test
            ? { ...t, test: new RegExp(t.test.source.replace(/^\^\(\?:[YN]\|[yn]\|/, "^(?:")) }
            : t,
        ),
  });
}

const yamlAt = (src: YamlSource, path: PathSegments, onKey = false): Loc => ({
  file: src.file,
  ...locate(src, path, onKey),
  path: pointer(path),
});

function readYaml(b: Builder, src: YamlSource): void {
  const root = src.value;
  if (root === null || root === undefined) return; // empty file: an empty inventory
  if (!isRecord(root)) {
    b.err("inventory-not-mapping", `an inventory must be a mapping of group names, not ${kind(root)}`, yamlAt(src, []), "a mapping such as `all: {children: ..., hosts: ...}`");
    return;
  }
  if ("plugin" in root) {
    b.err("inventory-plugin-config", "this is an inventory plugin configuration, not an inventory; export it with `ansible-inventory -i FILE --list -y`", yamlAt(src, ["plugin"], true));
    return;
  }
  for (const [name, data] of Object.entries(root)) yamlGroup(b, src, name, data, [name]);
}

/** One group body, as the yaml plugin's _parse_group. */
function yamlGroup(b: Builder, src: YamlSource, name: string, data: unknown, path: string[]): void {
  if (data !== null && data !== undefined && !isRecord(data)) {
    b.err("inventory-group-not-mapping", `group '${name}' must be a mapping (or empty), not ${kind(data)}`, yamlAt(src, path), "a mapping with hosts, children and/or vars");
    return;
  }
  b.group(name);
  for (const [key, raw] of Object.entries(data ?? {})) {
    const p = [...path, key];
    if (key !== "hosts" && key !== "children" && key !== "vars") {
      b.err("inventory-unknown-key", `unknown key '${key}' in group '${name}'`, yamlAt(src, p, true), "hosts, children or vars");
      continue;
    }
    const section = typeof raw === "string" ? { [raw]: null } : raw; // Ansible accepts `hosts: pg1`
    if (section === null || section === undefined) continue;
    if (!isRecord(section)) {
      b.err("inventory-section-not-mapping", `'${key}' of group '${name}' must be a mapping, not ${kind(section)}`, yamlAt(src, p), `a mapping of ${key === "vars" ? "variable names to values" : `${key} names`}`);
      continue;
    }
    for (const [k, v] of Object.entries(section)) {
      const kp = [...p, k];
      if (key === "vars") b.groupVar(name, k, v, yamlAt(src, kp));
      else if (key === "children") {
        // Edge first, then the body: a cycle is reported where the group is listed under its own descendant.
        if (v === null || v === undefined || isRecord(v)) b.child(name, k, yamlAt(src, kp, true));
        yamlGroup(b, src, k, v, kp);
      } else {
        if (v !== null && v !== undefined && !isRecord(v)) {
          b.err("inventory-host-not-mapping", `host '${k}' in group '${name}' must map to its variables (or nothing), not ${kind(v)}`, yamlAt(src, kp), "a mapping of variable names to values");
          continue;
        }
        const at = yamlAt(src, kp, true);
        const pattern = expandHostPattern(k);
        if ("error" in pattern) {
          b.err("inventory-bad-host-pattern", pattern.error, at);
          continue;
        }
        for (const h of pattern.names) {
          b.host(h, name, at, pattern.port);
          for (const [vk, vv] of Object.entries(v ?? {})) b.hosts.get(h)!.vars.set(vk, { value: vv, at: yamlAt(src, [...kp, vk]) });
        }
      }
    }
  }
}

/** The ini plugin's state machine, including its rule that referenced groups must be declared somewhere. */
function readIni(b: Builder, text: string, file: string): void {
  let group = "ungrouped";
  let state = "hosts";
  const pending = new Map<string, { state: "vars" | "children"; parents: string[]; at: Loc }>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const indent = raw.length - raw.trimStart().length;
    const at = (col = indent, path?: string): Loc => ({ file, line: i + 1, column: col + 1, ...(path ? { path } : {}) });
    if (!line || line.startsWith("#") || line.startsWith(";")) return;
    const m = INI_SECTION.exec(line);
    if (m) {
      group = m[1]!;
      state = m[2] ?? "hosts";
      if (!["hosts", "children", "vars"].includes(state)) {
        b.err("inventory-ini-section", `section [${group}:${state}] has unknown type '${state}'`, at(indent + group.length + 2), "hosts, children or vars");
        state = "invalid"; // skip its lines rather than misreading them
        return;
      }
      if (!b.groups.has(group) && state === "vars" && !pending.has(group)) pending.set(group, { state: "vars", parents: [], at: at() });
      b.group(group);
      const p = pending.get(group);
      if (p && state !== "vars") {
        for (const parent of p.state === "children" ? p.parents : []) b.child(parent, group, p.at);
        pending.delete(group);
      }
      return;
    }
    if (line.startsWith("[") && line.endsWith("]")) {
      b.err("inventory-ini-syntax", `invalid section header '${line}' (no spaces allowed; [group], [group:vars] or [group:children])`, at());
      return;
    }
    if (state === "hosts") iniHostLine(b, raw, group, at);
    else if (state === "vars") {
      const eq = line.indexOf("=");
      if (eq < 0) return b.err("inventory-ini-syntax", `expected key=value in [${group}:vars], got '${line}'`, at());
      const key = line.slice(0, eq).trim();
      b.groupVar(group, key, pyValue(line.slice(eq + 1).trim()), at(indent, pointer([group, "vars", key])));
    } else if (state === "children") {
      const c = /^([^:\]\s]+)\s*(?:#.*)?$/.exec(line)?.[1];
      if (!c) return b.err("inventory-ini-syntax", `expected a group name in [${group}:children], got '${line}'`, at());
      const where = at(indent, pointer([group, "children", c]));
      if (b.groups.has(c)) b.child(group, c, where);
      else {
        const p = pending.get(c);
        if (p) p.parents.push(group);
        else pending.set(c, { state: "children", parents: [group], at: where });
      }
    }
  });
  for (const [name, p] of pending) {
    const message =
      p.state === "vars"
        ? `section [${name}:vars] is for a group that is never declared (add a [${name}] or [${name}:children] section)`
        : `[${p.parents.at(-1)}:children] lists group '${name}', which is never declared (add a [${name}] section)`;
    b.err("inventory-ini-undefined-group", message, p.at);
  }
}

function iniHostLine(b: Builder, raw: string, group: string, at: (col?: number, path?: string) => Loc): void {
  const split = shlexSplit(raw);
  if ("error" in split) return b.err("inventory-ini-syntax", `cannot parse host line: ${split.error}`, at(split.col));
  const [first, ...rest] = split.tokens;
  if (!first) return;
  const pattern = expandHostPattern(first.text);
  if ("error" in pattern) return b.err("inventory-bad-host-pattern", pattern.error, at(first.col, pointer([group, "hosts", first.text])));
  const vars: [string, unknown, Loc][] = [];
  for (const t of rest) {
    const eq = t.text.indexOf("=");
    if (eq < 0) return b.err("inventory-ini-syntax", `expected key=value host variable, got '${t.text}'`, at(t.col));
    const key = t.text.slice(0, eq);
    vars.push([key, pyValue(t.text.slice(eq + 1)), at(t.col, pointer([group, "hosts", first.text, key]))]);
  }
  for (const h of pattern.names) {
    const host = b.host(h, group, at(first.col, pointer([group, "hosts", first.text])), pattern.port);
    for (const [k, v, where] of vars) host.vars.set(k, { value: v, at: where });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Host patterns: `name`, `name:port`, `pg[1:3]`, `pg[01:03]`, `db-[a:c]`, `pg[1:9:2]` (ansible.utils.expand_hostname_range).

function expandHostPattern(pattern: string): { names: string[]; port?: number } | { error: string } {
  let host = pattern;
  let port: number | undefined;
  const m = /^(.*):(\d+)$/.exec(pattern);
  // `:digits` is a port only outside brackets and when the rest has no other bare colon (a bare IPv6 address).
  if (m && balanced(m[1]!) && !stripBrackets(m[1]!).includes(":")) {
    host = m[1]!;
    port = Number(m[2]);
  } else if (pattern.trim().endsWith(":")) {
    return { error: `host pattern '${pattern}' ends in ':', which is reserved for a port` };
  }
  try {
    return { names: host.includes("[") ? expandRange(host, MAX_HOSTS) : [host], ...(port !== undefined ? { port } : {}) };
  } catch (e) {
    return { error: `host pattern '${pattern}': ${errMsg(e)}` };
  }
}

const balanced = (s: string): boolean => (s.match(/\[/g)?.length ?? 0) === (s.match(/\]/g)?.length ?? 0);
const stripBrackets = (s: string): string => s.replace(/\[[^\]]*\]/g, "");
const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** The names of a range pattern; refused, before any is made, when there would be more than `limit`. */
function expandRange(name: string, limit: number): string[] {
  const open = name.indexOf("[");
  const close = name.indexOf("]", open);
  if (close < 0) throw new Error("'[' without a closing ']'");
  const [head, tail] = [name.slice(0, open), name.slice(close + 1)];
  const bounds = name.slice(open + 1, close).split(":");
  if (bounds.length !== 2 && bounds.length !== 3) throw new Error("a host range must be [begin:end] or [begin:end:step]");
  const beg = bounds[0] || "0";
  const end = bounds[1]!;
  const stepText = bounds[2] ?? "1";
  if (!end) throw new Error("a host range must specify an end value");
  const width = beg.length > 1 && beg.startsWith("0") ? beg.length : 0;
  if (width && end.length !== width) throw new Error("a zero-padded host range needs begin and end of equal length");
  if (!/^[+-]?\d+$/.test(stepText) || Number(stepText) < 1) throw new Error(`bad range step '${stepText}'`);
  const step = Number(stepText);
  const tooMany = (count: number) => {
    if (count > limit) throw new Error(`expands to more than ${MAX_HOSTS} hosts in all`);
  };
  let seq: string[];
  if (beg.length === 1 && end.length === 1 && LETTERS.includes(beg) && LETTERS.includes(end)) {
    const [i, j] = [LETTERS.indexOf(beg), LETTERS.indexOf(end)];
    if (i > j) throw new Error("a host range must have begin <= end");
    tooMany(Math.floor((j - i) / step) + 1);
    seq = [];
    for (let k = i; k <= j; k += step) seq.push(LETTERS[k]!);
  } else {
    if (!/^[+-]?\d+$/.test(beg) || !/^[+-]?\d+$/.test(end)) throw new Error(`range [${bounds.join(":")}] needs numbers or single letters`);
    tooMany(Math.floor((Number(end) - Number(beg)) / step) + 1);
    seq = [];
    for (let k = Number(beg); k <= Number(end); k += step) seq.push(String(k).padStart(width, "0"));
  }
  const names: string[] = [];
  for (const s of seq) {
    const n = head + s + tail;
    if (!n.includes("[")) names.push(n);
    else for (const x of expandRange(n, limit - names.length)) names.push(x);
    tooMany(names.length);
  }
  return names;
}

// ---------------------------------------------------------------------------------------------------------------
// INI values: Python's shlex (host lines) and ast.literal_eval (all values), as the ini plugin uses them.

function shlexSplit(line: string): { tokens: { text: string; col: number }[] } | { error: string; col: number } {
  const tokens: { text: string; col: number }[] = [];
  let cur: string | undefined;
  let start = 0;
  let quote: string | undefined;
  let quoteAt = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (quote === '"' && c === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) cur += line[++i]!;
      else cur += c;
    } else if (" \t\r\n".includes(c)) {
      if (cur !== undefined) tokens.push({ text: cur, col: start });
      cur = undefined;
    } else if (c === "#") break;
    else {
      if (cur === undefined) [cur, start] = ["", i];
      if (c === '"' || c === "'") [quote, quoteAt] = [c, i];
      else if (c === "\\") {
        if (i + 1 >= line.length) return { error: "no character after '\\'", col: i };
        cur += line[++i]!;
      } else cur += c;
    }
  }
  if (quote) return { error: `no closing quotation for ${quote}`, col: quoteAt };
  if (cur !== undefined) tokens.push({ text: cur, col: start });
  return { tokens };
}

/** ast.literal_eval where Python would succeed, else the text itself (the ini plugin's _parse_value). */
function pyValue(text: string): unknown {
  try {
    return new PyLiteral(text).parse();
  } catch {
    return text;
  }
}

class PyLiteral {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): unknown {
    if (/^\s/.test(this.s)) this.fail(); // Python: unexpected indent
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail();
    return v;
  }

  private fail(): never {
    throw new SyntaxError("not a Python literal");
  }

  private ws(): void {
    while (this.i < this.s.length && " \t".includes(this.s[this.i]!)) this.i++;
    if (this.s[this.i] === "#") this.i = this.s.length; // a trailing comment is fine in Python
  }

  private value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === "[") return this.items("]");
    if (c === "(") {
      const start = this.i;
      const items = this.items(")");
      // `(x)` is just x; `(x,)` and `()` are tuples.
      return items.length === 1 && !/,\s*\)$/.test(this.s.slice(start, this.i)) ? items[0] : items;
    }
    if (c === "{") return this.dict();
    if (/^[uUrR]?['"]/.test(this.s.slice(this.i))) return this.strings();
    const word = /^(?:True|False|None)(?![\w])/.exec(this.s.slice(this.i))?.[0];
    if (word) {
      this.i += word.length;
      return word === "True" ? true : word === "False" ? false : null;
    }
    return this.number();
  }

  private number(): number {
    const sign = /^[+-]\s*/.exec(this.s.slice(this.i))?.[0] ?? "";
    this.i += sign.length;
    const rest = this.s.slice(this.i);
    const d = String.raw`\d(?:_?\d)*`;
    const exp = String.raw`(?:[eE][+-]?${d})`;
    const forms: [RegExp, (t: string) => number][] = [
      [/^0[xX](?:_?[0-9a-fA-F])+/, (t) => parseInt(t.slice(2), 16)],
      [/^0[oO](?:_?[0-7])+/, (t) => parseInt(t.slice(2), 8)],
      [/^0[bB](?:_?[01])+/, (t) => parseInt(t.slice(2), 2)],
      [new RegExp(`^(?:${d}\\.(?:${d})?${exp}?|\\.${d}${exp}?|${d}${exp})`), Number],
      [/^(?:0(?:_?0)*|[1-9](?:_?\d)*)/, Number],
    ];
    for (const [re, conv] of forms) {
      const t = re.exec(rest)?.[0];
      if (t === undefined || /^[\w.]/.test(rest.slice(t.length))) continue;
      this.i += t.length;
      const n = conv(t.replace(/_/g, ""));
      return sign.startsWith("-") ? -n : n;
    }
    return this.fail();
  }

  private strings(): string {
    let out = "";
    do {
      const raw = /^[rR]/.test(this.s[this.i]!);
      if (/^[uUrR]/.test(this.s[this.i]!)) this.i++;
      const q = this.s[this.i++]!;
      for (;;) {
        const c = this.s[this.i++];
        if (c === undefined) this.fail();
        if (c === q) break;
        if (c !== "\\") {
          out += c;
          continue;
        }
        const e = this.s[this.i++];
        if (e === undefined) this.fail();
        if (raw) out += "\\" + e;
        else out += this.escape(e);
      }
      this.ws();
    } while (this.i < this.s.length && /^[uUrR]?['"]/.test(this.s.slice(this.i))); // 'a' 'b' concatenates
    return out;
  }

  private escape(e: string): string {
    const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", f: "\f", v: "\v", "\\": "\\", "'": "'", '"': '"' };
    if (e in simple) return simple[e]!;
    const hex = { x: 2, u: 4, U: 8 }[e];
    if (hex) {
      const h = this.s.slice(this.i, this.i + hex);
      if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(h)) this.fail();
      this.i += hex;
      return String.fromCodePoint(parseInt(h, 16));
    }
    if (/[0-7]/.test(e)) {
      const o = e + (/^[0-7]{0,2}/.exec(this.s.slice(this.i))?.[0] ?? "");
      this.i += o.length - 1;
      return String.fromCodePoint(parseInt(o, 8));
    }
    return "\\" + e; // Python keeps unknown escapes as written
  }

  private items(close: string): unknown[] {
    this.i++;
    const out: unknown[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) break;
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ",") this.i++;
      else if (this.s[this.i] !== close) this.fail();
    }
    this.i++;
    return out;
  }

  /** A dict, or a set (returned as an array). */
  private dict(): unknown {
    this.i++;
    const obj: Record<string, unknown> = {};
    const set: unknown[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === "}") break;
      const k = this.value();
      this.ws();
      if (this.s[this.i] === ":" && set.length === 0) {
        this.i++;
        obj[String(k)] = this.value();
      } else if (Object.keys(obj).length === 0) set.push(k);
      else this.fail();
      this.ws();
      if (this.s[this.i] === ",") this.i++;
      else if (this.s[this.i] !== "}") this.fail();
    }
    this.i++;
    return set.length ? set : obj;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// group_vars/ and host_vars/ (the host_group_vars vars plugin).

const VARS_EXTS = ["", ".yml", ".yaml", ".json"];

function readVarsFiles(dir: string, name: string, diags: Diagnostic[]): Vars | undefined {
  if (name.startsWith("/")) return undefined; // Ansible skips chroot-style names
  for (const ext of VARS_EXTS) {
    const p = join(dir, name + ext);
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      continue;
    }
    // The first match wins (so group_vars/pg, file or directory, hides pg.yml); directories are walked sorted.
    const vars: Vars = new Map();
    try {
      for (const f of isDir ? dirVarsFiles(p) : [p]) for (const [k, v] of readVarsFile(f, diags)) vars.set(k, v);
    } catch (e) {
      diags.push({ code: "inventory-read", severity: "error", file: p, message: `cannot read variables: ${errMsg(e)}` });
    }
    return vars;
  }
  return undefined;
}

function dirVarsFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith(".") && !n.endsWith("~"))
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      const ext = extname(n);
      const st = statSync(p);
      if (st.isDirectory()) return ext ? [] : dirVarsFiles(p);
      return st.isFile() && VARS_EXTS.includes(ext) ? [p] : [];
    });
}

function readVarsFile(file: string, diags: Diagnostic[]): Vars {
  const vars: Vars = new Map();
  const text = readText(file, VARS_FILE_MAX_BYTES, "variables file", diags);
  if (text === undefined) return vars;
  let src: YamlSource;
  try {
    src = parseAnsibleYaml(text, file);
  } catch (e) {
    if (e instanceof InputError) diags.push(...e.diagnostics);
    else diags.push({ code: "inventory-read", severity: "error", file, message: `cannot read variables file: ${errMsg(e)}` });
    return vars;
  }
  if (src.value === null || src.value === undefined) return vars;
  if (!isRecord(src.value)) {
    diags.push({
      code: "inventory-vars-not-mapping",
      severity: "error",
      message: `a variables file must be a mapping of variable names to values, not ${kind(src.value)}`,
      expected: "a mapping",
      ...yamlAt(src, []),
    });
    return vars;
  }
  for (const [k, value] of Object.entries(src.value)) vars.set(k, { value, at: yamlAt(src, [k]) });
  return vars;
}

// ---------------------------------------------------------------------------------------------------------------
// Reconciliation, variable precedence and connection facts.

function finish(b: Builder, lookup: VarsLookup): Inventory {
  // reconcile_inventory: parentless groups hang under all; hosts in no other group go to ungrouped (and only those).
  for (const g of b.groups.values()) if (g.name !== "all" && g.parents.length === 0) b.child("all", g.name, { file: b.file });
  for (const h of b.hosts.values()) {
    const others = [...h.groups].filter((g) => g !== "all" && g !== "ungrouped");
    if (others.length > 0) h.groups.delete("ungrouped");
    else h.groups.add("ungrouped");
  }

  const depth = new Map<string, number>();
  const depthOf = (name: string): number => {
    let d = depth.get(name);
    if (d === undefined) {
      d = Math.max(0, ...b.groups.get(name)!.parents.map((p) => depthOf(p) + 1));
      depth.set(name, d);
    }
    return d;
  };
  const ancestors = (names: Iterable<string>): Set<string> => {
    const out = new Set<string>();
    const visit = (n: string): void => {
      if (out.has(n)) return;
      out.add(n);
      b.groups.get(n)!.parents.forEach(visit);
    };
    for (const n of names) visit(n);
    return out;
  };

  const diags = b.diags;
  const groupFiles = new Map([...b.groups.keys()].map((g) => [g, lookup("group", g, diags) ?? new Map()] as const));
  const memberOf = new Map([...b.hosts.values()].map((h) => [h.name, ancestors(h.groups)] as const));

  const hosts = new Map<string, InventoryHost>();
  for (const h of b.hosts.values()) {
    const groups = memberOf.get(h.name)!;
    // VariableManager order: all (inventory), other groups (inventory) by (depth, priority, name), group_vars/all,
    // group_vars of the others in the same order, host vars (inventory), host_vars/. Top-level keys replace.
    const sorted = [...groups]
      .filter((g) => g !== "all")
      .map((g) => b.groups.get(g)!)
      .sort((x, y) => depthOf(x.name) - depthOf(y.name) || x.priority - y.priority || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    const all = b.groups.get("all")!;
    const layers: Vars[] = [
      all.vars,
      ...sorted.map((g) => g.vars),
      groupFiles.get("all")!,
      ...sorted.map((g) => groupFiles.get(g.name)!),
      h.vars,
      lookup("host", h.name, diags) ?? new Map(),
    ];
    const merged: Vars = new Map();
    for (const layer of layers) for (const [k, v] of layer) merged.set(k, v);
    hosts.set(h.name, {
      name: h.name,
      vars: plain(merged),
      groups: [...groups].sort(),
      connection: connection(h.name, merged, dirname(b.file), diags),
      source: { file: h.source.file, ...(h.source.line !== undefined ? { line: h.source.line, column: h.source.column } : {}) },
    });
  }
  if (diags.length > 0) throw new InputError(diags);

  // Each group's hosts in declaration order, from one pass over the hosts (not one pass per group).
  const members = new Map([...b.groups.keys()].map((g) => [g, [] as string[]]));
  for (const [h, gs] of memberOf) for (const g of gs) members.get(g)!.push(h);
  const groups = new Map<string, InventoryGroup>();
  for (const g of b.groups.values()) {
    groups.set(g.name, {
      name: g.name,
      hosts: members.get(g.name)!,
      children: [...g.children],
      vars: plain(new Map([...g.vars, ...groupFiles.get(g.name)!])),
    });
  }
  return { file: b.file, hosts, groups };
}

const plain = (vars: Vars): Record<string, unknown> =>
  structuredClone(Object.fromEntries([...vars].map(([k, v]) => [k, v.value]))); // no aliasing between hosts

/** A DNS name or an IPv4/IPv6 address (with a %zone): never an ssh option (leading '-') or more than one word. */
const HOST_FORM = /^(?!-)[A-Za-z0-9_.:%\[\]-]{1,253}$/;
/** POSIX user names (and Samba's trailing $). */
const USER_FORM = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;
const USER_EXPECTED = "a user name of letters, digits, '_', '.' and '-'";
const ONE_LINE = /^[^\u0000-\u001f\u007f]*$/;

const TRUE = ["y", "yes", "on", "1", "true", "t"];
const FALSE = ["n", "no", "off", "0", "false", "f"];

function connection(name: string, vars: Vars, base: string, diags: Diagnostic[]): InventoryHost["connection"] {
  // When both spellings are set, the ssh-specific one wins (ssh connection plugin option order).
  const pick = (...keys: string[]): [string, { value: unknown; at: Loc }] | undefined => {
    for (const k of keys) {
      const v = vars.get(k);
      if (v !== undefined) return [k, v];
    }
    return undefined;
  };
  const bad = (code: string, key: string, v: { value: unknown; at: Loc }, what: string, expected: string): undefined => {
    diags.push({ code, severity: "error", message: `host '${name}': ${key} ${what}, got ${show(v.value)}`, expected, ...v.at });
    return undefined;
  };
  const str = (...keys: string[]): string | undefined => {
    const found = pick(...keys);
    if (!found || found[1].value === null || found[1].value === undefined) return undefined;
    const [k, v] = found;
    if (typeof v.value === "string" || typeof v.value === "number") return String(v.value);
    return bad("inventory-bad-var", k, v, "must be a string", "a string");
  };

  let host = name;
  const h = pick("ansible_ssh_host", "ansible_host");
  if (h) {
    const s = str(h[0]);
    if (s !== undefined && s.trim() === "") bad("inventory-empty-host", h[0], h[1], "is empty", "a host name or IP address");
    else if (s !== undefined) host = s;
  }

  let port = 22;
  const p = pick("ansible_ssh_port", "ansible_port");
  if (p) {
    const v = p[1].value;
    const n = typeof v === "number" ? v : typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (Number.isInteger(n) && n >= 1 && n <= 65535) port = n;
    else bad("inventory-bad-port", p[0], p[1], "must be an integer from 1 to 65535", "an integer from 1 to 65535");
  }

  let become = false;
  const be = pick("ansible_become");
  if (be) {
    const v = be[1].value;
    const t = typeof v === "string" ? v.trim().toLowerCase() : v;
    if (t === true || t === 1 || (typeof t === "string" && TRUE.includes(t))) become = true;
    else if (!(t === false || t === 0 || (typeof t === "string" && FALSE.includes(t))))
      bad("inventory-bad-become", be[0], be[1], "is not a boolean", "true/false, yes/no, on/off or 1/0");
  }

  // What reaches ssh and sudo on a host has the form it must have: a name, not options or extra lines.
  const formed = (keys: string[], form: RegExp, expected: string): string | undefined => {
    const s = str(...keys);
    const found = pick(...keys)!;
    return s === undefined || form.test(s) ? s : bad("inventory-bad-var", found[0], found[1], "has the wrong form", expected);
  };
  if (h && host !== name && !HOST_FORM.test(host)) bad("inventory-bad-host", h[0], h[1], "is not a host name or address", "a host name or IP address, not starting with '-'");
  const out: InventoryHost["connection"] = { host, port, become };
  const opt = {
    user: formed(["ansible_ssh_user", "ansible_user"], USER_FORM, USER_EXPECTED),
    privateKeyFile: formed(["ansible_ssh_private_key_file", "ansible_private_key_file"], ONE_LINE, "a path without control characters"),
    becomeUser: formed(["ansible_become_user"], USER_FORM, USER_EXPECTED),
    sshCommonArgs: formed(["ansible_ssh_common_args"], ONE_LINE, "ssh options without newlines or other control characters"),
  };
  for (const [k, v] of Object.entries(opt)) if (v !== undefined) (out as unknown as Record<string, string>)[k] = v;

  // A secret: taken only as Ansible's own lookup of an environment variable or a file, so the inventory stays a
  // valid Ansible one and holds no password; its text is never shown. The later name in Ansible's list wins.
  const pw = pick("ansible_sudo_pass", "ansible_become_pass", "ansible_become_password");
  if (pw && pw[1].value !== null && pw[1].value !== undefined) {
    const m = typeof pw[1].value === "string" ? BECOME_LOOKUP.exec(pw[1].value.trim()) : null;
    const at = pw[1].at;
    if (m) out.becomePassword = { source: m[2] === "env" ? { env: m[4]! } : { file: resolve(base, m[4]!) }, at };
    else
      diags.push({
        code: "inventory-become-password",
        severity: "error",
        message: `host '${name}': ${pw[0]} must say where the password is read, not hold it (the value is not shown)`,
        expected: `"{{ lookup('env', 'NAME') }}" or "{{ lookup('file', 'PATH') }}" (a relative PATH is relative to the inventory's directory)`,
        ...at,
      });
  }
  return out;
}

/** The inventory says become, as a user other than root: every command goes through sudo. */
export const usesSudo = (c: Pick<InventoryHost["connection"], "user" | "become">): boolean => c.become && (c.user ?? "root") !== "root";

/** `{{ lookup('env', 'NAME') }}` and `{{ lookup('file', 'PATH') }}`, with either quotes and ansible.builtin. names. */
const BECOME_LOOKUP = /^\{\{\s*lookup\(\s*(['"])(?:ansible\.builtin\.)?(env|file)\1\s*,\s*(['"])((?:(?!\3)[^\u0000-\u001f\u007f])+)\3\s*\)\s*\}\}$/;

// ---------------------------------------------------------------------------------------------------------------

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const kind = (v: unknown): string => (Array.isArray(v) ? "a list" : v === null ? "null" : typeof v === "object" ? "a mapping" : `a ${typeof v} (${show(v)})`);
const show = (v: unknown): string => (typeof v === "string" ? `'${v}'` : JSON.stringify(v) ?? String(v));
const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));
