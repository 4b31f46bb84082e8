// pgha import: what a running cluster is (its live CIB, corosync.conf, PostgreSQL configuration) as a spec
// that renders the same cluster, and a report of what was mapped, what was kept raw and which secrets the
// operator must supply. Pure: the facts come in, nothing is read or run here.
//
// The spec is found by rendering: each part the spec can express is read from the live cluster, the
// candidate spec is rendered through the same model code `pgha render` uses, and only what differs from
// pgha's defaults is written down (agent params, ops, server parameters), so the spec stays short and its
// render is the live configuration. What the model does not produce (any CIB element with an id pgha
// does not render, alerts, tags) goes verbatim into pacemaker.extra_crm, from crmsh's own text.
import { posix } from "node:path";
import { parsePostgresqlConf } from "./postgresql-conf.js";
import { XMLParser } from "fast-xml-parser";
import { crmModel, resourceIds } from "./model/crm.js";
import { hbaLines, pgValue, postgresFacts, RESERVED_PARAMETERS, retainingArchiveCommand, serverParameters } from "./model/postgresql.js";
import type { ClusterNode, CrmModel, KeyValue, ResourceIds } from "./model/types.js";
import { ipv4ToInt } from "./net.js";
import type { HbaRule, NvPairs, OpName, Scalar, Spec, SpecIdKey, SpecOp } from "./spec-types.js";

/** What one node says about itself (see importFactsScript). */
export interface ImportHost {
  name: string;
  corosyncConf: string;
  /** postgresql.conf first, then the files it includes, by path. */
  postgresqlConf: { path: string; text: string }[];
  pgHba?: string;
  pgVersion?: number;
  osGroup?: string;
  home?: string;
  /** The OS user's ~/.pgpass exists; its content is never read. */
  pgpass: boolean;
  /** IPv4 addresses with their prefix, by NIC. */
  addresses: { nic: string; cidr: string }[];
  /** corosync and pacemaker both start at boot. */
  startOnBoot: boolean;
  /** A postmaster runs, and whether it is a standby (standby.signal or recovery.conf). */
  postgres?: { running: boolean; standby: boolean };
}

export interface ImportFacts {
  /** cibadmin -Q of one node. */
  cib: string;
  /** crm configure show of the same node (crmsh's text of each element kept raw); absent without crmsh. */
  crmShow?: string;
  hosts: ImportHost[];
  /** The inventory group the cluster's nodes are in. */
  group: string;
}

export interface ImportReport {
  /** What became spec keys. */
  mapped: string[];
  /** CIB elements kept verbatim in pacemaker.extra_crm. */
  kept: string[];
  /** Secret references in the spec that the operator must fill (env variable or file). */
  secrets: string[];
  /** What the spec cannot say and pgha would change, or could not read. */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// The CIB as a small tree.

export interface XNode {
  tag: string;
  attrs: Record<string, string>;
  children: XNode[];
}

type Ordered = Record<string, unknown> & { ":@"?: Record<string, string> };

export function parseXml(text: string): XNode {
  const parsed = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: "", parseAttributeValue: false, parseTagValue: false }).parse(text) as Ordered[];
  const convert = (o: Ordered): XNode | undefined => {
    const tag = Object.keys(o).find((k) => k !== ":@");
    if (!tag || tag === "#text" || tag.startsWith("?")) return undefined;
    return { tag, attrs: o[":@"] ?? {}, children: (o[tag] as Ordered[]).map(convert).filter((x): x is XNode => x !== undefined) };
  };
  const root = parsed.map(convert).find((x) => x !== undefined);
  if (!root) throw new Error("the CIB is not XML");
  return root;
}

const kids = (n: XNode | undefined, tag?: string): XNode[] => (n?.children ?? []).filter((c) => tag === undefined || c.tag === tag);
const child = (n: XNode | undefined, tag: string): XNode | undefined => kids(n, tag)[0];
const nvpairs = (set: XNode | undefined): KeyValue[] => kids(set, "nvpair").map((p) => ({ key: p.attrs.name ?? "", value: p.attrs.value ?? "" }));
const params = (p: XNode): KeyValue[] => kids(p, "instance_attributes").flatMap(nvpairs);
const param = (p: XNode, key: string): string | undefined => params(p).find((kv) => kv.key === key)?.value;
const agentOf = (p: XNode): string => [p.attrs.class, p.attrs.provider, p.attrs.type].filter(Boolean).join(":");

/** A value as the spec writes it: a number where it is one, else the string. */
const scalar = (v: string): Scalar => (/^-?(0|[1-9]\d*)$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : v);

// ---------------------------------------------------------------------------------------------------------------
// Text formats.

type Section = { name: string; pairs: [string, string][]; sections: Section[] };

/** corosync.conf as nested sections of key: value lines. */
export function parseCorosync(text: string): Section {
  const root: Section = { name: "", pairs: [], sections: [] };
  const stack = [root];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) continue;
    const open = /^([A-Za-z_][\w.-]*)\s*\{$/.exec(line);
    if (open) {
      const s: Section = { name: open[1]!, pairs: [], sections: [] };
      stack.at(-1)!.sections.push(s);
      stack.push(s);
    } else if (line === "}") {
      if (stack.length > 1) stack.pop();
    } else {
      const kv = /^([^:\s]+)\s*:\s*(.*)$/.exec(line);
      if (kv) stack.at(-1)!.pairs.push([kv[1]!, kv[2]!.trim()]);
    }
  }
  return root;
}
const sections = (s: Section | undefined, name: string) => (s?.sections ?? []).filter((x) => x.name === name);
const get = (s: Section | undefined, key: string) => s?.pairs.find(([k]) => k === key)?.[1];

interface HbaLineText {
  rule: HbaRule;
  comment?: string;
}
/** pg_hba.conf records, each with the comment line directly above it. */
export function parseHba(text: string): HbaLineText[] {
  const out: HbaLineText[] = [];
  let comment: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#")) {
      comment = line.replace(/^#\s?/, "");
      continue;
    }
    if (!line) {
      comment = undefined;
      continue;
    }
    const f = line.split(/\s+/);
    const local = f[0] === "local";
    const [type, database, user] = f as [string, string, string];
    const address = local ? undefined : f[3];
    const rest = f.slice(local ? 3 : 4);
    out.push({ rule: { type, database, user, ...(address ? { address } : {}), method: rest[0] ?? "", ...(rest.length > 1 ? { options: rest.slice(1).join(" ") } : {}) }, comment });
    comment = undefined;
  }
  return out;
}

/** crm configure show as one text per element id (its comments, a statement and its continuation lines). */
export function crmStatements(show: string): Map<string, string> {
  const out = new Map<string, string>();
  let cur: string[] = [];
  let comments: string[] = [];
  const flush = () => {
    if (!cur.length) return;
    const id = cur[0]!.split(/\s+/)[1]?.replace(/:$/, "");
    if (id) out.set(id, [...comments, ...cur].join("\n"));
    [cur, comments] = [[], []];
  };
  for (const line of show.split("\n")) {
    // crmsh keeps a comment as part of the element after it (an XML comment in the CIB): so does the text.
    if (line.startsWith("#")) {
      flush();
      comments.push(line);
      continue;
    }
    if (/^\S/.test(line)) flush();
    if (line.trim()) cur.push(line);
  }
  flush();
  return out;
}

function network(address: string, prefix: number): string {
  const n = ipv4ToInt(address)!;
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  const v = (n & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (v >>> s) & 255).join(".")}/${prefix}`;
}

// ---------------------------------------------------------------------------------------------------------------

const MAINTAINED = new Set(["dc-version", "cluster-infrastructure", "cluster-name", "have-watchdog", "last-lrm-refresh"]);
const SECRET_PARAM = /(^|_)(pass(wd|word)?|secret|community)$/i;
const ID_KEYS: [keyof ResourceIds, SpecIdKey][] = [
  ["colocationVipReadonly", "colocation_vip_readonly"], ["locationVipReadonly", "location_vip_readonly"], ["locationPing", "location_ping"], ["locationDisk", "location_disk"],
  ["colocationPing", "colocation_ping"], ["colocationDisk", "colocation_disk"], ["orderPing", "order_ping"], ["orderDisk", "order_disk"],
  ["colocationVips", "colocation_vips"], ["orderPromote", "order_promote"], ["orderDemote", "order_demote"], ["pingClone", "ping_clone"], ["diskClone", "disk_monitor_clone"],
  ["diskMonitor", "disk_monitor"], ["vipMaster", "vip_master"], ["vipReplication", "vip_replication"], ["vipReadonly", "vip_readonly"], ["ping", "ping"],
  ["filesystem", "filesystem"], ["sfex", "sfex"], ["group", "group"], ["clone", "clone"], ["postgresql", "postgresql"],
];
const envName = (...parts: string[]) => `PGHA_${parts.join("_").toUpperCase().replace(/[^A-Z0-9]+/g, "_")}`;

/** The model's inputs for a candidate spec, to render it the way buildModel does (no secrets needed). */
function renderCrm(spec: Spec): CrmModel {
  const nodes: ClusterNode[] = Object.entries(spec.cluster.nodes.members).map(([name, m]) => ({ name, id: m.id, links: m.links, connection: {} as ClusterNode["connection"], isPrimary: name === spec.postgresql.primary }));
  const masterIp = spec.postgresql.agent_params?.master_ip !== undefined ? String(spec.postgresql.agent_params.master_ip) : spec.pacemaker?.vips?.replication?.ip;
  const pg = postgresFacts(spec, masterIp ?? spec.pacemaker?.vips?.master?.ip);
  const fenceSecrets = Object.fromEntries(Object.entries(spec.pacemaker?.stonith?.devices ?? {}).map(([n, d]) => [n, Object.keys(d.secret_params ?? {}).map((key) => ({ key, value: "", secret: true as const }))]));
  return crmModel({ spec, nodes, pg, fenceSecrets, masterIp, vipNic: (_ip, nic) => ({ nic: nic ?? "", cidr: 24 }) });
}

export function importCluster(f: ImportFacts): { spec: Spec; report: ImportReport } {
  const report: ImportReport = { mapped: [], kept: [], secrets: [], notes: [] };
  const cib = parseXml(f.cib);
  const config = child(cib, "configuration");
  const resources = kids(child(config, "resources"));
  const constraints = kids(child(config, "constraints"));
  const all = resources.flatMap((r) => [r, ...kids(r), ...kids(r).flatMap((c) => kids(c))]);
  const prim = (pred: (p: XNode) => boolean) => all.filter((p) => p.tag === "primitive" && pred(p));
  const parentOf = (id: string) => all.find((r) => kids(r).some((c) => c.attrs.id === id));

  // Corosync: the cluster, its nodes and links.
  const first = f.hosts[0];
  if (!first) throw new Error("no host to import from");
  const cs = parseCorosync(first.corosyncConf);
  const totem = sections(cs, "totem")[0];
  const nodeSecs = sections(sections(cs, "nodelist")[0], "node");
  const members: Spec["cluster"]["nodes"]["members"] = {};
  for (const n of nodeSecs) {
    const name = get(n, "name") ?? `node${get(n, "nodeid")}`;
    const links = n.pairs.filter(([k]) => /^ring\d+_addr$/.test(k)).sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true })).map(([, v]) => v);
    members[name] = { id: Number(get(n, "nodeid")), links };
  }
  const nodeNames = Object.keys(members);
  const transport = (get(totem, "transport") ?? "knet") as "knet" | "udpu" | "udp";
  const corosync: Spec["corosync"] = { transport, links: [] };
  const cipher = get(totem, "crypto_cipher");
  const hash = get(totem, "crypto_hash");
  if (transport === "knet" && (cipher !== "aes256" || hash !== "sha256")) corosync.crypto = { cipher: cipher ?? "none", hash: hash ?? "none" };
  const TOTEM_KEYS = ["token", "token_retransmits_before_loss_const", "consensus", "join", "max_messages", "send_join"] as const;
  for (const [k, v] of totem?.pairs ?? []) {
    if ((TOTEM_KEYS as readonly string[]).includes(k)) (corosync.totem ??= {})[k as (typeof TOTEM_KEYS)[number]] = Number(v);
    else if (!["version", "cluster_name", "transport", "crypto_cipher", "crypto_hash"].includes(k)) report.notes.push(`corosync.conf totem ${k}: ${v} is not in the spec: pgha leaves it out of the corosync.conf it writes`);
  }
  const me = members[first.name];
  const ifaces = sections(totem, "interface");
  (me?.links ?? []).forEach((addr, i) => {
    const iface = ifaces.find((s) => Number(get(s, "linknumber") ?? 0) === i);
    const a = first.addresses.find((x) => x.cidr.split("/")[0] === addr);
    if (!a) report.notes.push(`link ${i}: no NIC of ${first.name} holds ${addr}; fill in its interface and subnet`);
    const link: Spec["corosync"]["links"][number] = { interface: a?.nic ?? "<FILL: NIC>", subnet: a ? network(addr, Number(a.cidr.split("/")[1])) : "<FILL: subnet>" };
    if (get(iface, "knet_link_priority") !== undefined) link.priority = Number(get(iface, "knet_link_priority"));
    if (get(iface, "mcastaddr") !== undefined) link.mcastaddr = get(iface, "mcastaddr");
    if (get(iface, "mcastport") !== undefined) link.port = Number(get(iface, "mcastport"));
    corosync.links.push(link);
  });
  const q = sections(cs, "quorum")[0];
  const twoNode = get(q, "two_node") === "1";
  if (twoNode !== (nodeNames.length === 2)) (corosync.quorum ??= {}).two_node = twoNode;
  for (const k of ["wait_for_all", "last_man_standing"] as const) if (get(q, k) !== undefined) (corosync.quorum ??= {})[k] = get(q, k) === "1";
  if (get(q, "expected_votes") !== undefined) (corosync.quorum ??= {}).expected_votes = Number(get(q, "expected_votes"));
  const lg = sections(cs, "logging")[0];
  const logging: NonNullable<Spec["corosync"]["logging"]> = {};
  if (get(lg, "to_syslog") === "no") logging.to_syslog = false;
  if (get(lg, "to_logfile") === "no") logging.logfile = null;
  else if (get(lg, "logfile") && get(lg, "logfile") !== "/var/log/corosync/corosync.log") logging.logfile = get(lg, "logfile");
  if (get(lg, "debug") === "on") logging.debug = true;
  if (Object.keys(logging).length) corosync.logging = logging;
  report.mapped.push(`corosync: cluster ${get(totem, "cluster_name")}, ${nodeNames.length} nodes, ${corosync.links.length} links`);

  // Pacemaker: the PostgreSQL resource decides the topology and the agent.
  const pgPrim = prim((p) => p.attrs.class === "ocf" && p.attrs.provider === "heartbeat" && (p.attrs.type === "pgsql" || p.attrs.type === "pgsqlms"))[0];
  if (!pgPrim) throw new Error("the CIB has no ocf:heartbeat:pgsql or pgsqlms resource: nothing for pgha to manage");
  const agent = pgPrim.attrs.type as "pgsql" | "pgsqlms";
  const pgParent = parentOf(pgPrim.attrs.id!);
  const streaming = pgParent?.tag === "clone" || pgParent?.tag === "master";
  const ids: Partial<Record<SpecIdKey, string>> = { postgresql: pgPrim.attrs.id };
  const pacemaker: NonNullable<Spec["pacemaker"]> = {};
  if (pgParent?.tag === "master") pacemaker.syntax = "ms";
  if (streaming) ids.clone = pgParent!.attrs.id;
  else if (pgParent?.tag === "group") ids.group = pgParent.attrs.id;

  // Properties, resource and operation defaults.
  const sets = (sec: string) => kids(child(config, sec));
  const boot = sets("crm_config").find((s) => s.attrs.id === "cib-bootstrap-options");
  const props = nvpairs(boot).filter((kv) => !MAINTAINED.has(kv.key));
  const stonithEnabled = props.find((kv) => kv.key === "stonith-enabled")?.value !== "false";
  const properties: NvPairs = {};
  for (const kv of props) if (kv.key !== "stonith-enabled") properties[kv.key] = scalar(kv.value);
  if (Object.keys(properties).length) pacemaker.properties = properties;
  const rscDefaults = sets("rsc_defaults").find((s) => s.attrs.id === "rsc-options");
  if (rscDefaults) pacemaker.rsc_defaults = Object.fromEntries(nvpairs(rscDefaults).map((kv) => [kv.key, scalar(kv.value)]));
  const opDefaults = sets("op_defaults").find((s) => s.attrs.id === "op-options");
  if (opDefaults) pacemaker.op_defaults = Object.fromEntries(nvpairs(opDefaults).map((kv) => [kv.key, scalar(kv.value)]));
  report.mapped.push("pacemaker: cluster properties, rsc_defaults, op_defaults");

  // Fencing: a stonith device kept off one node is that node's device: a top-level one by a -INFINITY
  // location, or one alone in a group (Linux-HA Japan's grpStonithN) by a rule #uname eq NODE on the group.
  const devices: NonNullable<NonNullable<Spec["pacemaker"]>["stonith"]>["devices"] = {};
  const isStonith = (r: XNode) => r.tag === "primitive" && r.attrs.class === "stonith";
  const fences = [
    ...resources.filter(isStonith).map((p) => ({ p, group: undefined as string | undefined })),
    ...resources.filter((g) => g.tag === "group" && kids(g).length === 1 && isStonith(kids(g)[0]!)).map((g) => ({ p: kids(g)[0]!, group: g.attrs.id })),
  ];
  const banned = (c: XNode): string | undefined => {
    if (c.attrs.node) return /^-inf/i.test(c.attrs.score ?? "") ? c.attrs.node : undefined;
    const rules = kids(c, "rule");
    const e = kids(rules[0], "expression");
    return rules.length === 1 && /^-inf/i.test(rules[0]!.attrs.score ?? "") && kids(rules[0]).length === 1 && e[0]?.attrs.attribute === "#uname" && e[0].attrs.operation === "eq" ? e[0].attrs.value : undefined;
  };
  for (const { p, group } of fences) {
    const target = group ?? p.attrs.id;
    const loc = constraints.find((c) => c.tag === "rsc_location" && c.attrs.rsc === target && banned(c) !== undefined && (group !== undefined || c.attrs.node !== undefined));
    const node = loc ? banned(loc) : undefined;
    if (!node || !(node in members) || devices[node]) continue;
    const dev: NonNullable<typeof devices>[string] = { agent: agentOf(p) };
    for (const kv of params(p)) {
      if (SECRET_PARAM.test(kv.key)) {
        const env = envName("fence", node, kv.key);
        (dev.secret_params ??= {})[kv.key] = { env };
        report.secrets.push(`pacemaker.stonith.devices.${node}.secret_params.${kv.key}: set ${env} (the live value was not copied)`);
      } else (dev.params ??= {})[kv.key] = scalar(kv.value);
    }
    const mon = kids(child(p, "operations"), "op").find((o) => o.attrs.name === "monitor");
    if (mon && mon.attrs.interval !== "3600s") dev.monitor_interval = mon.attrs.interval;
    if (p.attrs.id !== `fence-${node}`) dev.id = p.attrs.id;
    if (group) dev.group = group;
    if (loc!.attrs.id !== `location-${target}`) dev.location_id = loc!.attrs.id;
    devices[node] = dev;
  }
  pacemaker.stonith = stonithEnabled ? { enabled: true, devices } : { enabled: false };
  if (stonithEnabled) {
    const missing = nodeNames.filter((n) => !devices[n]);
    if (missing.length) report.notes.push(`STONITH is on, but no fence device of its own (a stonith resource, alone or alone in a group, banned from the node) was found for ${missing.join(", ")}: fill in pacemaker.stonith.devices`);
    report.mapped.push(`pacemaker.stonith: ${Object.keys(devices).length} fence devices`);
  }

  // VIPs.
  const ipOf = (p: XNode) => ({ ip: param(p, "ip") ?? "", ...(param(p, "cidr_netmask") ? { cidr_netmask: Number(param(p, "cidr_netmask")) } : {}), ...(param(p, "nic") ? { nic: param(p, "nic") } : {}) });
  const isIp = (p: XNode) => p.tag === "primitive" && p.attrs.type === "IPaddr2";
  const vips: NonNullable<NonNullable<Spec["pacemaker"]>["vips"]> = {};
  if (streaming) {
    const clone = ids.clone!;
    const coloc = constraints.find((c) => c.tag === "rsc_colocation" && c.attrs["with-rsc"] === clone && /^(Promoted|Master)$/.test(c.attrs["with-rsc-role"] ?? "") && all.some((r) => r.tag === "group" && r.attrs.id === c.attrs.rsc));
    const group = all.find((r) => r.tag === "group" && r.attrs.id === coloc?.attrs.rsc);
    if (group && coloc) {
      ids.group = group.attrs.id;
      ids.colocation_vips = coloc.attrs.id;
      const [master, rep] = kids(group).filter(isIp);
      if (master) [vips.master, ids.vip_master] = [ipOf(master), master.attrs.id];
      if (rep) [vips.replication, ids.vip_replication] = [ipOf(rep), rep.attrs.id];
    }
    const order = (action: string) => constraints.find((c) => c.tag === "rsc_order" && c.attrs.first === clone && c.attrs["first-action"] === action && c.attrs.then === ids.group);
    ids.order_promote = order("promote")?.attrs.id;
    ids.order_demote = order("demote")?.attrs.id;
    const ro = resources.find((r) => isIp(r) && constraints.some((c) => c.tag === "rsc_location" && c.attrs.rsc === r.attrs.id && kids(c, "rule").length));
    if (ro) {
      vips.readonly = ipOf(ro);
      ids.vip_readonly = ro.attrs.id;
      ids.location_vip_readonly = constraints.find((c) => c.tag === "rsc_location" && c.attrs.rsc === ro.attrs.id)?.attrs.id;
      ids.colocation_vip_readonly = constraints.find((c) => c.tag === "rsc_colocation" && c.attrs.rsc === ro.attrs.id && c.attrs["with-rsc"] === clone)?.attrs.id;
    }
  } else if (pgParent) {
    const members = kids(pgParent);
    const ip = members.find(isIp);
    if (ip) [vips.master, ids.vip_master] = [ipOf(ip), ip.attrs.id];
  }
  if (Object.keys(vips).length) pacemaker.vips = vips;

  // Network monitoring.
  const pingPrim = prim((p) => p.attrs.class === "ocf" && p.attrs.provider === "pacemaker" && p.attrs.type === "ping" && parentOf(p.attrs.id!)?.tag === "clone")[0];
  const guarded = streaming ? ids.clone : ids.group;
  if (pingPrim) {
    const pingClone = parentOf(pingPrim.attrs.id!)!.attrs.id!;
    [ids.ping, ids.ping_clone] = [pingPrim.attrs.id, pingClone];
    const attr = param(pingPrim, "name") ?? "pingd";
    const ping: NonNullable<NonNullable<Spec["pacemaker"]>["ping"]> = { hosts: (param(pingPrim, "host_list") ?? "").split(/\s+/).filter(Boolean) };
    if (attr !== "default_ping_set") ping.attribute = attr;
    const num = (k: string, dflt: number) => (param(pingPrim, k) !== undefined && Number(param(pingPrim, k)) !== dflt ? Number(param(pingPrim, k)) : undefined);
    const multiplier = num("multiplier", 100);
    if (multiplier !== undefined) ping.multiplier = multiplier;
    if (num("attempts", 2) !== undefined) ping.attempts = num("attempts", 2);
    if (num("timeout", 2) !== undefined) ping.timeout = num("timeout", 2);
    const mon = kids(child(pingPrim, "operations"), "op").find((o) => o.attrs.name === "monitor");
    if (mon && mon.attrs.interval !== "10s") ping.interval = mon.attrs.interval;
    const loc = constraints.find((c) => c.tag === "rsc_location" && c.attrs.rsc === guarded && kids(c, "rule").some((r) => kids(r, "expression").some((e) => e.attrs.attribute === attr)));
    if (loc) {
      ids.location_ping = loc.attrs.id;
      const lt = kids(child(loc, "rule"), "expression").find((e) => e.attrs.operation === "lt");
      const min = lt ? Number(lt.attrs.value) : undefined;
      if (min !== undefined && min !== (multiplier ?? 100)) ping.min_score = min;
    }
    ids.colocation_ping = constraints.find((c) => c.tag === "rsc_colocation" && c.attrs.rsc === guarded && c.attrs["with-rsc"] === pingClone)?.attrs.id;
    ids.order_ping = constraints.find((c) => c.tag === "rsc_order" && c.attrs.first === pingClone && c.attrs.then === guarded)?.attrs.id;
    pacemaker.ping = ping;
    report.mapped.push(`pacemaker.ping: ${ping.hosts.join(" ")}`);
  }

  // Shared disk.
  let sharedDisk: Spec["shared_disk"];
  const fs = !streaming ? kids(pgParent).find((p) => p.attrs.type === "Filesystem") : undefined;
  if (fs) {
    ids.filesystem = fs.attrs.id;
    sharedDisk = { device: param(fs, "device") ?? "", mountpoint: param(fs, "directory"), fstype: param(fs, "fstype") ?? "ext4", ...(param(fs, "options") ? { options: param(fs, "options") } : {}) };
    const sfex = kids(pgParent).find((p) => p.attrs.type === "sfex");
    if (sfex) {
      ids.sfex = sfex.attrs.id;
      sharedDisk.sfex = { device: param(sfex, "device") ?? "", ...(param(sfex, "index") ? { index: Number(param(sfex, "index")) } : {}) };
      for (const k of ["collision_timeout", "monitor_interval", "lock_timeout"] as const) if (param(sfex, k)) sharedDisk.sfex[k] = Number(param(sfex, k));
    }
    report.mapped.push(`shared_disk: ${sharedDisk.device} on ${sharedDisk.mountpoint}`);
  }

  // PostgreSQL: where it lives comes from the resource's params, the rest from its configuration files.
  const p = (k: string) => param(pgPrim, k);
  const pgsqlAgent = agent === "pgsql";
  const dataDirectory = (pgsqlAgent ? p("pgdata") : p("datadir")) ?? "/var/lib/pgsql/data";
  const configDirectory = pgsqlAgent ? posix.dirname(p("config") ?? `${dataDirectory}/postgresql.conf`) : (p("pgdata") ?? dataDirectory);
  const bindir = pgsqlAgent ? posix.dirname(p("pgctl") ?? "/usr/bin/pg_ctl") : p("bindir");
  const version = first.pgVersion ?? 15;
  const status = nodeNames.map((n) => ({ n, attrs: Object.fromEntries(kids(kids(child(cib, "status"), "node_state").find((s) => s.attrs.uname === n), "transient_attributes").flatMap((t) => kids(t, "instance_attributes").flatMap(nvpairs)).map((kv) => [kv.key, kv.value])) }));
  const primary =
    status.find((s) => s.attrs[`${pgPrim.attrs.id}-status`] === "PRI")?.n ??
    status.filter((s) => s.attrs[`master-${pgPrim.attrs.id}`] !== undefined).sort((a, b) => Number(b.attrs[`master-${pgPrim.attrs.id}`]) - Number(a.attrs[`master-${pgPrim.attrs.id}`]))[0]?.n ??
    f.hosts.find((h) => h.postgres?.running && !h.postgres.standby)?.name ??
    nodeNames[0]!;
  const postgresql: Spec["postgresql"] = { version, agent, primary };
  const dflt = postgresFacts({ ...({} as Spec), cluster: { name: "", topology: streaming ? "streaming-replication" : "shared-disk", nodes: { group: f.group, members } }, postgresql: { version, agent, primary } } as Spec, undefined);
  if (bindir && bindir !== dflt.bindir) postgresql.bindir = bindir;
  if (dataDirectory !== dflt.dataDirectory) postgresql.data_directory = dataDirectory;
  if (configDirectory !== dflt.configDirectory) postgresql.config_directory = configDirectory;
  const port = Number((pgsqlAgent ? p("pgport") : p("pgport")) ?? 5432);
  if (port !== 5432) postgresql.port = port;
  const osUser = (pgsqlAgent ? p("pgdba") : p("system_user")) ?? "postgres";
  if (osUser !== "postgres") postgresql.os_user = osUser;
  if (first.osGroup && first.osGroup !== "postgres") postgresql.os_group = first.osGroup;
  if (first.home && first.home !== dflt.home) postgresql.home = first.home;
  const socketdir = pgsqlAgent ? p("socketdir") : p("pghost");
  if (socketdir && socketdir !== dflt.socketDirectory) postgresql.socket_directory = socketdir;
  if (streaming) {
    const conf = parsePostgresqlConf(f.hosts.find((h) => h.name === primary)?.postgresqlConf ?? first.postgresqlConf);
    const conninfo = String(conf.get("primary_conninfo") ?? "");
    const user = (pgsqlAgent ? p("repuser") : /(?:^|\s)user=(\S+)/.exec(conninfo)?.[1]) ?? "postgres";
    const env = "PGHA_REPL_PASSWORD";
    postgresql.replication = { user, password: { env } };
    if (pgsqlAgent && p("rep_mode") === "async") postgresql.replication.mode = "async";
    const pgpass = f.hosts.filter((h) => h.pgpass).map((h) => h.name);
    report.secrets.push(`postgresql.replication.password: set ${env} to ${user}'s password (${pgpass.length ? `${pgpass.join(", ")} keep it in ~/.pgpass, which import does not read` : "no node has a ~/.pgpass"})`);
  }
  const restore = pgsqlAgent ? p("restore_command") : undefined;
  const cleanup = pgsqlAgent ? p("archive_cleanup_command") : undefined;
  if (restore || cleanup) postgresql.archive = { ...(restore ? { restore_command: restore } : {}), ...(cleanup ? { archive_cleanup_command: cleanup } : {}) };

  const spec: Spec = {
    cluster: { name: get(totem, "cluster_name") ?? "", topology: streaming ? "streaming-replication" : "shared-disk", nodes: { group: f.group, members } },
    corosync,
    pacemaker,
    postgresql,
    ...(sharedDisk ? { shared_disk: sharedDisk } : {}),
  };
  if (first.startOnBoot) pacemaker.start_on_boot = true;
  if (streaming && pgsqlAgent && !p("replication_slot_name") && (version >= 13)) postgresql.replication!.slots = false;

  // Ids: only those that differ from what pgha would call the element.
  pruneIds(spec, ids);
  // Properties pgha sets first by default need not be written down.
  pruneDefaultProperties(spec);

  agentParamsAndOps(spec, pgPrim, report);
  postgresFiles(spec, f, report);

  // What the model does not produce is kept verbatim; what it produces otherwise is said.
  keepRaw(spec, f, config, report);
  primitiveDifferences(spec, all, report);
  // pgha writes the property set in its own order (stonith-enabled last): another order is a CIB change.
  const liveOrder = props.map((kv) => kv.key);
  const renderedOrder = renderCrm(spec).properties.pairs.map((kv) => kv.key).filter((k) => liveOrder.includes(k));
  if (renderedOrder.join() !== liveOrder.filter((k) => renderedOrder.includes(k)).join())
    report.notes.push(`cib-bootstrap-options: pgha writes its properties in the order ${renderedOrder.join(", ")}: apply reorders them once (a CIB change: the epoch moves, nothing Pacemaker runs changes)`);
  return { spec, report };
}

function pruneIds(spec: Spec, ids: Partial<Record<SpecIdKey, string>>): void {
  let cur: Partial<Record<SpecIdKey, string>> = Object.fromEntries(Object.entries(ids).filter(([, v]) => v !== undefined));
  const at = (o: Partial<Record<SpecIdKey, string>>) => resourceIds({ ...spec, pacemaker: { ...spec.pacemaker, ids: o } });
  for (const [field, key] of ID_KEYS) {
    if (cur[key] === undefined) continue;
    const without = { ...cur };
    delete without[key];
    if (at(without)[field] === cur[key]) cur = without;
  }
  if (Object.keys(cur).length) spec.pacemaker!.ids = cur;
}

function pruneDefaultProperties(spec: Spec): void {
  const pm = spec.pacemaker!;
  const props = pm.properties;
  if (!props) return;
  const keys = Object.keys(props);
  const crm = renderCrm(spec).properties.pairs.map((kv) => `${kv.key}=${kv.value}`);
  // Drop leading properties one by one while the render stays the same.
  for (const k of keys) {
    const { [k]: _, ...rest } = pm.properties!;
    const trial = renderCrm({ ...spec, pacemaker: { ...pm, properties: rest } }).properties.pairs.map((kv) => `${kv.key}=${kv.value}`);
    if (trial.join("\n") === crm.join("\n")) pm.properties = rest;
  }
  if (!Object.keys(pm.properties!).length) delete pm.properties;
}

const OP_KEY = (name: string, role: string | undefined): OpName | undefined =>
  name === "monitor" && /^(Promoted|Master)$/.test(role ?? "") ? "monitor_promoted" : (["start", "stop", "monitor", "promote", "demote", "notify"] as const).find((n) => n === name);

/** The agent's params and the ops that differ from what pgha renders for this spec. */
function agentParamsAndOps(spec: Spec, pgPrim: XNode, report: ImportReport): void {
  const id = pgPrim.attrs.id!;
  const rendered = () => renderCrm(spec).primitives.find((x) => x.id === id)!;
  const base = rendered();
  const agentParams: NvPairs = {};
  for (const kv of params(pgPrim)) {
    const r = base.params.find((x) => x.key === kv.key);
    if (r?.value !== kv.value) agentParams[kv.key] = scalar(kv.value);
  }
  if (Object.keys(agentParams).length) spec.postgresql.agent_params = agentParams;
  const ops: Partial<Record<OpName, SpecOp>> = {};
  for (const o of kids(child(pgPrim, "operations"), "op")) {
    const key = OP_KEY(o.attrs.name ?? "", o.attrs.role);
    const r = base.ops.find((x) => x.name === o.attrs.name && (key !== "monitor_promoted") === !/^(Promoted|Master)$/.test(x.role ?? ""));
    if (!key || !r) {
      report.notes.push(`${id}: op ${o.attrs.name} (${o.attrs.id}) is not one pgha renders: apply would remove it`);
      continue;
    }
    const d: SpecOp = {};
    if (o.attrs.interval !== r.interval) d.interval = o.attrs.interval;
    if (o.attrs.timeout !== r.timeout) d.timeout = o.attrs.timeout;
    if ((o.attrs["on-fail"] ?? undefined) !== r.onFail && o.attrs["on-fail"]) d.on_fail = o.attrs["on-fail"];
    if (Object.keys(d).length) ops[key] = d;
  }
  if (Object.keys(ops).length) spec.postgresql.ops = ops;
  const after = rendered();
  const missing = after.params.filter((x) => !params(pgPrim).some((kv) => kv.key === x.key));
  for (const m of missing) report.notes.push(`${id}: pgha sets param ${m.key}=${m.value}, which the live resource does not have: apply would add it (set it in postgresql.agent_params to choose another value)`);
  report.mapped.push(`postgresql: ${id} (${spec.postgresql.agent}), agent_params ${Object.keys(agentParams).join(", ") || "none"}, ops ${Object.keys(ops).join(", ") || "as pgha's"}`);
}

/**
 * PostgreSQL's built-in values (10 to 17) of the parameters pgha sets by default: what a server runs with
 * when its file leaves one out. restart_after_crash is not here: pgha always sets it off.
 */
export const POSTGRESQL_DEFAULTS: Record<string, Scalar> = {
  listen_addresses: "localhost", max_connections: 100, wal_level: "replica", max_wal_senders: 10, max_replication_slots: 10,
  wal_log_hints: false, hot_standby: true, hot_standby_feedback: false, archive_mode: false, logging_collector: false,
  log_directory: "log", log_filename: "postgresql-%Y-%m-%d_%H%M%S.log", log_truncate_on_rotation: false, log_rotation_age: "1d",
  log_line_prefix: "%m [%p] ", wal_keep_size: 0, wal_keep_segments: 0, wal_sender_timeout: "60s", wal_receiver_timeout: "60s",
  max_slot_wal_keep_size: -1,
};

/** Server parameters and pg_hba rules beyond pgha's own, cluster-wide and per node. */
function postgresFiles(spec: Spec, f: ImportFacts, report: ImportReport): void {
  const members = spec.cluster.nodes.members;
  const nodes: ClusterNode[] = Object.entries(members).map(([name, m]) => ({ name, id: m.id, links: m.links, connection: {} as ClusterNode["connection"], isPrimary: name === spec.postgresql.primary }));
  const facts = () => {
    const masterIp = spec.postgresql.agent_params?.master_ip !== undefined ? String(spec.postgresql.agent_params.master_ip) : spec.pacemaker?.vips?.replication?.ip;
    return postgresFacts(spec, masterIp ?? spec.pacemaker?.vips?.master?.ip);
  };
  const host = (n: string) => f.hosts.find((h) => h.name === n);
  const primary = nodes.find((n) => n.isPrimary)!;
  const conf = parsePostgresqlConf(host(primary.name)?.postgresqlConf ?? []);
  if (!conf.size) {
    report.notes.push(`no postgresql.conf was read on ${primary.name}: postgresql.parameters left empty`);
    return;
  }
  // The archive: pgha's own retaining archive_command, or the live one as it is.
  const ac = conf.get("archive_command");
  const keep = typeof ac === "string" ? /^d='([^']+)'; .* tail -n (\d+) \|/.exec(ac) : null;
  if (keep && ac === retainingArchiveCommand(keep[1]!, Number(keep[2]), facts().bindir)) spec.postgresql.archive = { ...spec.postgresql.archive, directory: keep[1]!, keep_segments: Number(keep[2]) };
  else if (typeof ac === "string" && ac !== "" && pgValue(conf.get("archive_mode") ?? false) !== "off") spec.postgresql.archive = { ...spec.postgresql.archive, archive_command: ac };

  const differing = (node: ClusterNode, live: Map<string, Scalar>) => {
    const rendered = new Map(serverParameters(spec, facts(), node).map((kv) => [kv.key, kv.value]));
    const out: NvPairs = {};
    for (const [k, v] of live) if (!(k in RESERVED_PARAMETERS) && rendered.get(k) !== pgValue(v)) out[k] = v;
    // The locations (data directory, port, ...) come from the resource's params, which the server runs with.
    return { out, absent: [...rendered.keys()].filter((k) => !live.has(k) && !(k in RESERVED_PARAMETERS)) };
  };
  const cluster = differing(primary, conf);
  // A setting the file leaves out runs at PostgreSQL's default: the spec says that value, so pgha's own
  // default does not change the running server (a hand-written file rarely sets all of pgha's).
  const rendered = new Map(serverParameters(spec, facts(), primary).map((kv) => [kv.key, kv.value]));
  const unset: string[] = [];
  for (const k of cluster.absent) {
    const d = spec.postgresql.version >= 10 ? POSTGRESQL_DEFAULTS[k] : undefined;
    if (d === undefined) unset.push(k);
    else if (pgValue(d) !== rendered.get(k)) cluster.out[k] = d;
  }
  if (Object.keys(cluster.out).length) spec.postgresql.parameters = Object.fromEntries(Object.keys(cluster.out).sort().map((k) => [k, cluster.out[k]!]));
  for (const k of unset)
    report.notes.push(k === "restart_after_crash" ? `postgresql.conf: ${primary.name}'s file leaves restart_after_crash on, which pgha always sets off (Pacemaker restarts PostgreSQL, never PostgreSQL itself)` : `postgresql.conf: pgha sets ${k}, which ${primary.name}'s file leaves at PostgreSQL's default: set postgresql.parameters.${k} to keep another value`);
  for (const n of nodes.filter((x) => x !== primary)) {
    const live = parsePostgresqlConf(host(n.name)?.postgresqlConf ?? []);
    if (!live.size) continue;
    const { out: own, absent: left } = differing(n, live);
    const nodeRendered = new Map(serverParameters(spec, facts(), n).map((kv) => [kv.key, kv.value]));
    const absent = left.filter((k) => {
      const d = spec.postgresql.version >= 10 ? POSTGRESQL_DEFAULTS[k] : undefined;
      if (d !== undefined && pgValue(d) !== nodeRendered.get(k)) own[k] = d;
      return d === undefined;
    });
    if (Object.keys(own).length) members[n.name]!.parameters = own;
    if (absent.length) report.notes.push(`postgresql.conf: ${n.name}'s file leaves ${absent.join(", ")} at PostgreSQL's default, where pgha would set them as on ${primary.name}`);
  }
  report.mapped.push(`postgresql.parameters: ${Object.keys(spec.postgresql.parameters ?? {}).length} beyond pgha's defaults`);

  // pg_hba.conf: the rules after pgha's own, with their comments.
  const hba = host(primary.name)?.pgHba;
  if (hba === undefined) return;
  const live = parseHba(hba);
  const repMethods = new Set(live.filter((l) => l.rule.database === "replication" && l.rule.method !== "reject").map((l) => l.rule.method));
  if (spec.postgresql.replication && repMethods.size === 1 && !repMethods.has("scram-sha-256")) spec.postgresql.replication.hba_method = [...repMethods][0];
  const same = (a: HbaRule, b: { type: string; database: string; user: string; address: string; method: string; options: string }) =>
    a.type === b.type && a.database === b.database && a.user === b.user && (a.address ?? "") === b.address && a.method === b.method && (a.options ?? "") === b.options;
  const own = hbaLines(spec, facts(), nodes, primary);
  const rules = live.filter((l) => !own.some((o) => same(l.rule, o))).map((l) => ({ ...l.rule, ...(l.comment && !/^(pgha:|pg_hba\.conf for node|TYPE\s)/.test(l.comment) ? { comment: l.comment } : {}) }));
  if (rules.length) spec.postgresql.hba = rules;
  const ownMissing = own.filter((o) => !live.some((l) => same(l.rule, o)));
  if (ownMissing.length) report.notes.push(`pg_hba.conf: pgha adds its own ${ownMissing.length} rule(s) (local administration by the OS user, replication between the nodes) ahead of the live ones`);
  report.mapped.push(`postgresql.hba: ${rules.length} rules`);
}

/** Modeled primitives whose params, meta or ops the render writes otherwise (values of secrets unseen). */
function primitiveDifferences(spec: Spec, all: XNode[], report: ImportReport): void {
  const role = (r: string | undefined) => ({ Master: "Promoted", Slave: "Unpromoted" })[r ?? ""] ?? r ?? "";
  for (const r of renderCrm(spec).primitives) {
    const live = all.find((x) => x.tag === "primitive" && x.attrs.id === r.id);
    if (!live) continue;
    const pairs = (kvs: KeyValue[], secret: (k: string) => boolean) => kvs.map((kv) => `${kv.key}=${secret(kv.key) ? "(secret)" : kv.value}`).join(" ");
    const isSecret = (k: string) => r.params.some((x) => x.key === k && x.secret);
    const ops = (o: { name: string; interval: string; timeout: string; role: string; onFail: string }[]) => o.map((x) => `${x.name}/${x.interval}/${x.timeout}/${role(x.role)}/${x.onFail}`).join(" ");
    const liveOps = kids(child(live, "operations"), "op").map((o) => ({ name: o.attrs.name ?? "", interval: o.attrs.interval ?? "", timeout: o.attrs.timeout ?? "", role: o.attrs.role ?? "", onFail: o.attrs["on-fail"] ?? "" }));
    const what = [
      pairs(params(live), isSecret) !== pairs(r.params, isSecret) ? "params (their values or order)" : undefined,
      pairs(kids(live, "meta_attributes").flatMap(nvpairs), () => false) !== pairs(r.meta, () => false) ? "meta attributes" : undefined,
      ops(liveOps) !== ops(r.ops.map((o) => ({ ...o, role: o.role ?? "", onFail: o.onFail ?? "" }))) ? "operations" : undefined,
    ].filter(Boolean);
    if (what.length) report.notes.push(`${r.id}: pgha writes its ${what.join(", ")} otherwise than the live resource: apply would rewrite them`);
  }
}

/** Every configuration element the spec's render does not hold, in crmsh's words, into extra_crm. */
function keepRaw(spec: Spec, f: ImportFacts, config: XNode | undefined, report: ImportReport): void {
  const crm = renderCrm(spec);
  const rendered = new Set([...crm.primitives, ...crm.groups, ...crm.clones, ...crm.locations, ...crm.colocations, ...crm.orders].map((e) => e.id));
  const ids: string[] = [];
  // crmsh shows a container's members as statements of their own, which must come first.
  const withMembers = (r: XNode): string[] => [...kids(r).filter((c) => ["primitive", "group", "clone", "master"].includes(c.tag)).flatMap(withMembers), r.attrs.id!];
  for (const r of kids(child(config, "resources"))) if (!rendered.has(r.attrs.id!)) ids.push(...withMembers(r));
  for (const c of kids(child(config, "constraints"))) if (!rendered.has(c.attrs.id!) && !c.attrs.id!.startsWith("cli-")) ids.push(c.attrs.id!);
  for (const [sec, own] of [["crm_config", "cib-bootstrap-options"], ["rsc_defaults", "rsc-options"], ["op_defaults", "op-options"]] as const) for (const s of kids(child(config, sec))) if (s.attrs.id !== own) ids.push(s.attrs.id!);
  for (const sec of ["alerts", "tags", "fencing-topology", "acls"]) for (const e of kids(child(config, sec))) ids.push(e.attrs.id ?? sec);
  if (!ids.length) return;
  const statements = crmStatements(f.crmShow ?? "");
  const text: string[] = [];
  for (const id of ids) {
    // A password in a kept element never reaches the spec file: a placeholder stands in its place.
    const s = statements.get(id)?.replace(/(\s)([A-Za-z_][\w-]*)=("(?:[^"\\]|\\.)*"|\S+)/g, (all, sp: string, key: string) => {
      if (!SECRET_PARAM.test(key)) return all;
      report.secrets.push(`pacemaker.extra_crm: ${id}'s ${key} is "<FILL: ${key}>": write the value there (extra_crm takes no env or file reference), or model the device`);
      return `${sp}${key}="<FILL: ${key}>"`;
    });
    if (s) {
      text.push(s);
      report.kept.push(`${id} (${s.split("\n").find((l) => !l.startsWith("#"))!.split(/\s/)[0]})`);
    } else report.notes.push(`${id}: not modeled, and crmsh's text of it is not at hand (no crm on the node): add it to pacemaker.extra_crm by hand, or apply removes it`);
  }
  if (text.length) spec.pacemaker!.extra_crm = `${text.join("\n")}\n`;
}
