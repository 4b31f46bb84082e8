// inventory + spec -> validated ClusterModel. Pure: secrets come in through `resolveSecret`.
import { posix } from "node:path";
import { InputError, hasErrors, type Diagnostic } from "../diagnostics.js";
import { hostsOfGroup, usesSudo, type Inventory } from "../inventory.js";
import { cidrContains, isNetworkOrBroadcast, parseCidr, type Cidr } from "../net.js";
import type { LoadedSpec } from "../spec.js";
import { becomePasswordProblem, secretValue } from "../secrets.js";
import type { SecretSource, Spec } from "../spec-types.js";
import { diagAt, type PathSegments } from "../yaml-source.js";
import { corosyncCrypto, corosyncView, needsAuthkey, twoNode } from "./corosync.js";
import { crmModel, fenceRace, resourceIds, sharedMountpoint } from "./crm.js";
import { hbaLines, pgBoolIsOn, pgpassField, postgresFacts, RESERVED_PARAMETERS, serverParameters, recoverySettings, pgValue } from "./postgresql.js";
import type { ClusterModel, ClusterNode, KeyValue, ManagedDirectory, ManagedFile } from "./types.js";

/** invalid: the secret was read but cannot be used (a control character), as opposed to missing. */
export type SecretResult = { value: string } | { error: string; invalid?: true };
export type SecretResolver = (source: Exclude<SecretSource, string>) => SecretResult;

export interface BuildInput {
  spec: LoadedSpec;
  inventory: Inventory;
  resolveSecret: SecretResolver;
  /** For read-only commands (status): a missing secret is not an error, and files that hold one are left out. */
  secretsOptional?: boolean;
}

const ONE_LINE = "one line without control characters (a single final newline is dropped)";

/** The pgsql agent appends these to postgresql.conf; pgha keeps and ignores them. */
export const PGSQL_AGENT_LINES = /^include '[^']*' # added by pgsql RA$/;

class Checker {
  readonly diags: Diagnostic[] = [];
  constructor(private readonly src: LoadedSpec["source"]) {}
  error(path: PathSegments, code: string, message: string, expected?: string, onKey = false): void {
    this.diags.push(diagAt(this.src, path, { code, severity: "error", message, expected }, onKey));
  }
  warn(path: PathSegments, code: string, message: string): void {
    this.diags.push(diagAt(this.src, path, { code, severity: "warning", message }));
  }
}

export function buildModel({ spec: loaded, inventory, resolveSecret, secretsOptional = false }: BuildInput): ClusterModel {
  const spec = loaded.spec;
  const c = new Checker(loaded.source);
  const nodes = checkNodes(spec, inventory, c);
  const links = checkLinks(spec, nodes, c);
  const vipNic = checkVips(spec, nodes, links, c);
  checkTopology(spec, nodes, c);
  checkPostgres(spec, nodes, c);
  checkPacemaker(spec, nodes, c);

  const secrets: string[] = [];
  const secret = (src: SecretSource, path: PathSegments): string | undefined => {
    if (typeof src === "string") {
      c.warn(path, "model-secret-inline", "secret written inline in the spec; prefer {env: NAME} or {file: PATH}");
      const inline = secretValue(src, "the inline secret");
      if ("error" in inline) {
        c.error(path, "model-secret-invalid", inline.error, ONE_LINE);
        return "";
      }
      secrets.push(inline.value);
      return inline.value;
    }
    const r = resolveSecret(src);
    if ("error" in r && secretsOptional) return undefined;
    if ("error" in r && r.invalid) {
      c.error(path, "model-secret-invalid", r.error, ONE_LINE);
      return "";
    }
    if ("error" in r) {
      c.error(path, "model-secret-missing", r.error, "env" in src ? `environment variable ${src.env} to be set and non-empty` : `a readable file ${src.file}`);
      return "";
    }
    if (r.value === "") c.error(path, "model-secret-empty", "secret is empty");
    secrets.push(r.value);
    return r.value;
  };
  const rep = spec.postgresql.replication;
  const password = rep && spec.cluster.topology === "streaming-replication" ? secret(rep.password, ["postgresql", "replication", "password"]) : undefined;
  const fenceSecrets: Record<string, KeyValue[]> = {};
  for (const [node, dev] of Object.entries(spec.pacemaker?.stonith?.devices ?? {})) {
    fenceSecrets[node] = Object.entries(dev.secret_params ?? {}).map(([key, s]) => ({
      key,
      value: secret(s, ["pacemaker", "stonith", "devices", node, "secret_params", key]) ?? "",
      secret: true as const,
    }));
  }
  // Needed to connect at all, so read for read-only commands too; a problem is shown where the inventory names it.
  for (const n of nodes) {
    const ref = usesSudo(n.connection) ? n.connection.becomePassword : undefined;
    if (!ref) continue;
    const r = resolveSecret(ref.source);
    const problem = "error" in r ? r.error : becomePasswordProblem(r.value);
    if (problem || "error" in r) c.diags.push({ code: "inventory-become-password", severity: "error", message: `host '${n.name}': become password: ${problem}`, ...ref.at });
    else {
      n.becomePassword = r.value;
      secrets.push(r.value);
    }
  }

  if (hasErrors(c.diags)) throw new InputError(c.diags);

  const masterIp = spec.postgresql.agent_params?.master_ip !== undefined ? String(spec.postgresql.agent_params.master_ip) : spec.pacemaker?.vips?.replication?.ip;
  const upstream = masterIp ?? spec.pacemaker?.vips?.master?.ip;
  const pg = postgresFacts(spec, upstream);
  const crm = crmModel({ spec, nodes, pg, fenceSecrets, masterIp, vipNic });
  const files: Record<string, ManagedFile[]> = {};
  for (const n of nodes) files[n.name] = nodeFiles(spec, pg, nodes, n, password);
  return {
    name: spec.cluster.name,
    topology: spec.cluster.topology,
    nodes,
    primary: spec.postgresql.primary,
    postgresql: pg,
    linkInterfaces: spec.corosync.links.map((l) => l.interface),
    startOnBoot: spec.pacemaker?.start_on_boot ?? false,
    corosyncAuthkey: needsAuthkey(corosyncCrypto(spec)),
    sharedDisk: spec.shared_disk ? { device: spec.shared_disk.device, mountpoint: sharedMountpoint(spec, pg) } : undefined,
    resourceIds: resourceIds(spec),
    crm,
    files,
    directories: directories(pg),
    replicationPassword: password,
    secrets: [...new Set(secrets.filter((s) => s.length > 0))],
    warnings: c.diags.filter((d) => d.severity === "warning"),
  };
}

function directories(pg: ReturnType<typeof postgresFacts>): ManagedDirectory[] {
  const own = (path: string, mode: string): ManagedDirectory => ({ path, owner: pg.osUser, group: pg.osGroup, mode });
  const dirs = [own(pg.configDirectory, "0755"), own(pg.socketDirectory, "2775"), { path: "/var/log/postgresql", owner: "root", group: pg.osGroup, mode: "1775" }, { path: "/var/lib/pgha", owner: "root", group: "root", mode: "0700" }];
  if (pg.tmpdir) dirs.push(own(pg.tmpdir, "0700"));
  if (pg.archiveDirectory) dirs.push(own(pg.archiveDirectory, "0700"));
  return dirs;
}

function nodeFiles(spec: Spec, pg: ReturnType<typeof postgresFacts>, nodes: ClusterNode[], node: ClusterNode, password: string | undefined): ManagedFile[] {
  const conf = (name: string) => posix.join(pg.configDirectory, name);
  const pgFile = (path: string, template: string, view: object, mode = "0640"): ManagedFile => ({ path, template, view, owner: pg.osUser, group: pg.osGroup, mode, secret: false });
  const files: ManagedFile[] = [
    { path: "/etc/corosync/corosync.conf", template: "corosync.conf", view: corosyncView(spec, nodes), owner: "root", group: "root", mode: "0644", secret: false },
    {
      ...pgFile(pg.configFile, "postgresql.conf", { node: node.name, parameters: serverParameters(spec, pg, node) }, "0644"),
      agentLines: pg.agent === "pgsql" ? PGSQL_AGENT_LINES : undefined,
    },
    pgFile(conf("pg_hba.conf"), "pg_hba.conf", { rules: hbaLines(spec, pg, nodes, node) }),
    pgFile(conf("pg_ident.conf"), "pg_ident.conf", {}),
  ];
  // Debian's postgresql-common would start a cluster under /etc/postgresql at boot behind Pacemaker's back.
  if (/^\/etc\/postgresql\/[^/]+\/[^/]+$/.test(pg.configDirectory)) {
    files.push(pgFile(conf("start.conf"), "start.conf", {}, "0644"));
  }
  if (pg.recovery === "recovery.conf") {
    const settings = Object.entries({ standby_mode: true, ...recoverySettings(spec, pg, node.name) }).map(([key, v]) => ({ key, value: pgValue(v) }));
    files.push(pgFile(conf("recovery.conf.pcmk"), "recovery.conf", { settings }));
  }
  if (password !== undefined && pg.replication) {
    const f = (s: string | number) => pgpassField(String(s));
    files.push({
      ...pgFile(posix.join(pg.home, ".pgpass"), ".pgpass", {
        entries: ["replication", "postgres"].map((db) => ({ host: "*", port: f(pg.port), database: db, user: f(pg.replication!.user), password: f(password) })),
      }, "0600"),
      secret: true,
    });
  }
  return files;
}

function checkNodes(spec: Spec, inv: Inventory, c: Checker): ClusterNode[] {
  const members = spec.cluster.nodes.members;
  const group = spec.cluster.nodes.group;
  const groupHosts = inv.groups.has(group) ? new Set(hostsOfGroup(inv, group)) : undefined; // a Set: the group may hold 100k hosts
  if (!groupHosts) c.error(["cluster", "nodes", "group"], "model-unknown-group", `inventory ${inv.file} has no group '${group}'`, `one of: ${[...inv.groups.keys()].join(", ")}`);
  const ids = new Map<number, string>();
  const nodes: ClusterNode[] = [];
  for (const [name, m] of Object.entries(members)) {
    const host = inv.hosts.get(name);
    if (!host) {
      c.error(["cluster", "nodes", "members", name], "model-unknown-host", `node '${name}' is not a host in inventory ${inv.file}`, undefined, true);
    } else if (groupHosts && !groupHosts.has(name)) {
      c.error(["cluster", "nodes", "members", name], "model-host-not-in-group", `host '${name}' is not in inventory group '${group}'`, undefined, true);
    }
    const dup = ids.get(m.id);
    if (dup) c.error(["cluster", "nodes", "members", name, "id"], "model-duplicate-node-id", `node id ${m.id} is already used by '${dup}'`, "a unique corosync nodeid per node");
    ids.set(m.id, name);
    nodes.push({ name, id: m.id, links: m.links, connection: host?.connection ?? { host: name, port: 22, become: false }, isPrimary: name === spec.postgresql.primary });
  }
  for (const h of groupHosts ?? []) {
    if (!(h in members)) c.error(["cluster", "nodes", "members"], "model-host-not-member", `host '${h}' of group '${group}' has no entry under cluster.nodes.members`, `an entry '${h}: {id, links}'`);
  }
  if (!(spec.postgresql.primary in members)) {
    c.error(["postgresql", "primary"], "model-unknown-primary", `primary '${spec.postgresql.primary}' is not a cluster node`, `one of: ${Object.keys(members).join(", ")}`);
  }
  // Node ids must be stable for corosync, and order must be stable for byte-identical output.
  return nodes.sort((a, b) => a.id - b.id);
}

function checkLinks(spec: Spec, nodes: ClusterNode[], c: Checker): (Cidr | undefined)[] {
  const links = spec.corosync.links;
  const transport = spec.corosync.transport ?? "knet";
  if (transport !== "knet" && links.length > 1) {
    c.error(["corosync", "transport"], "model-links-transport", `corosync 3 supports several links only with knet, not ${transport}`, "transport: knet");
  }
  const cidrs = links.map((l, i) => {
    const cidr = parseCidr(l.subnet);
    if (!cidr) c.error(["corosync", "links", i, "subnet"], "model-bad-subnet", `'${l.subnet}' is not an IPv4 subnet`, "an IPv4 CIDR such as 192.168.1.0/24");
    return cidr;
  });
  for (let i = 0; i < links.length; i++) {
    for (let j = i + 1; j < links.length; j++) {
      const a = links[i]!;
      const b = links[j]!;
      const samePort = (a.port ?? 5405) === (b.port ?? 5405);
      if (a.subnet === b.subnet && samePort && (a.mcastaddr ?? "") === (b.mcastaddr ?? "")) {
        c.error(["corosync", "links", j], "model-link-collision", `links ${i} and ${j} share subnet ${a.subnet}, port and multicast address`, "distinct subnets, or distinct ports/mcastaddr per link");
      }
      if (a.interface === b.interface) c.warn(["corosync", "links", j, "interface"], "model-link-same-nic", `links ${i} and ${j} use the same interface ${a.interface}: no redundancy against a NIC failure`);
    }
  }
  const seen = new Map<string, string>();
  for (const n of nodes) {
    const path: PathSegments = ["cluster", "nodes", "members", n.name, "links"];
    if (n.links.length !== links.length) {
      c.error(path, "model-link-count", `node '${n.name}' has ${n.links.length} link address(es) but corosync.links has ${links.length}`, `${links.length} addresses, one per link`);
    }
    n.links.forEach((addr, i) => {
      const cidr = cidrs[i];
      if (cidr && (!cidrContains(cidr, addr) || isNetworkOrBroadcast(cidr, addr))) {
        c.error([...path, i], "model-address-subnet", `address ${addr} is not a host address in link ${i}'s subnet ${links[i]!.subnet}`);
      }
      const other = seen.get(addr);
      if (other) c.error([...path, i], "model-duplicate-address", `address ${addr} is also used by ${other}`, "a distinct address per node and link");
      seen.set(addr, `${n.name} link ${i}`);
    });
  }
  return cidrs;
}

function checkVips(spec: Spec, nodes: ClusterNode[], cidrs: (Cidr | undefined)[], c: Checker) {
  const links = spec.corosync.links;
  const nodeAddrs = new Map(nodes.flatMap((n) => n.links.map((a) => [a, n.name] as const)));
  const seen = new Map<string, string>();
  const vips = spec.pacemaker?.vips ?? {};
  const linkOf = (ip: string, nic?: string) => links.findIndex((l, i) => (nic === undefined || l.interface === nic) && cidrs[i] && cidrContains(cidrs[i]!, ip));
  for (const [role, v] of Object.entries(vips)) {
    if (!v) continue;
    const path: PathSegments = ["pacemaker", "vips", role, "ip"];
    const linkIdx = linkOf(v.ip, v.nic);
    if (linkIdx < 0) {
      c.error(path, "model-vip-subnet", `VIP ${v.ip} is not inside the subnet of any corosync link${v.nic ? ` on ${v.nic}` : ""}`, `an address in ${links.filter((l) => v.nic === undefined || l.interface === v.nic).map((l) => l.subnet).join(" or ") || "a link's subnet"}`);
    } else if (isNetworkOrBroadcast(cidrs[linkIdx]!, v.ip)) {
      c.error(path, "model-vip-subnet", `VIP ${v.ip} is the network or broadcast address of ${links[linkIdx]!.subnet}`);
    }
    const owner = nodeAddrs.get(v.ip);
    if (owner) c.error(path, "model-vip-node-address", `VIP ${v.ip} is node ${owner}'s own address`, "an address no node uses");
    const other = seen.get(v.ip);
    if (other) c.error(path, "model-vip-duplicate", `VIP ${v.ip} is also the ${other} VIP`);
    seen.set(v.ip, role);
  }
  // knet's passive mode (corosync.conf(5) link_mode) sends over the up link with the highest
  // knet_link_priority, and on a tie over the lowest link number: link 0.
  if ((spec.corosync.transport ?? "knet") === "knet" && links.length > 1 && links.every((l) => l.priority === undefined) && vips.master && linkOf(vips.master.ip, vips.master.nic) === 0) {
    c.warn(
      ["corosync", "links"],
      "model-link-priority",
      `no link sets a priority, so knet sends all totem traffic over link 0 (${links[0]!.interface}), the service LAN that carries the master VIP; give the interconnect the highest corosync.links[].priority (knet_link_priority: the highest number wins)`,
    );
  }
  return (ip: string, nic?: string) => {
    const i = linkOf(ip, nic);
    return { nic: nic ?? links[i]!.interface, cidr: cidrs[i]!.prefix };
  };
}

function checkTopology(spec: Spec, nodes: ClusterNode[], c: Checker): void {
  const vips = spec.pacemaker?.vips ?? {};
  if (!vips.master) c.error(["pacemaker"], "model-vip-master-missing", "the master VIP is required", "pacemaker.vips.master: {ip: ...}");
  if (spec.cluster.topology === "shared-disk") {
    if (!spec.shared_disk) c.error(["cluster", "topology"], "model-shared-disk-missing", "topology shared-disk needs a shared_disk section", "shared_disk: {device: /dev/...}");
    if (spec.postgresql.agent !== "pgsql") c.error(["postgresql", "agent"], "model-shared-disk-agent", "the shared-disk topology runs ocf:heartbeat:pgsql", "agent: pgsql");
    for (const k of ["replication", "readonly"] as const) {
      if (vips[k]) c.error(["pacemaker", "vips", k], "model-shared-disk-vip", `a ${k} VIP has no meaning without replication`);
    }
    if (spec.postgresql.replication) c.warn(["postgresql", "replication"], "model-unused-replication", "replication settings are ignored by the shared-disk topology");
    if (spec.shared_disk) {
      const data = spec.postgresql.data_directory ?? `/var/lib/postgresql/${spec.postgresql.version}/pgha`;
      const mount = spec.shared_disk.mountpoint ?? sharedMountpoint(spec, { dataDirectory: data } as never);
      if (!data.startsWith(mount.replace(/\/$/, "") + "/")) {
        c.error(["postgresql", "data_directory"], "model-data-not-on-shared-disk", `data directory ${data} is not below the shared disk's mount point ${mount}`, `a path under ${mount}/`);
      }
    }
  } else {
    if (!spec.postgresql.replication) c.error(["postgresql"], "model-replication-missing", "streaming replication needs postgresql.replication", "replication: {user, password}");
    if (spec.shared_disk) c.error(["shared_disk"], "model-unused-shared-disk", "shared_disk is only for the shared-disk topology");
  }
  const q = spec.corosync.quorum?.two_node;
  if (q === true && nodes.length !== 2) c.error(["corosync", "quorum", "two_node"], "model-two-node", `two_node needs exactly 2 nodes, the cluster has ${nodes.length}`);
  const t = spec.corosync.totem ?? {};
  const token = t.token ?? 3000;
  if (t.consensus !== undefined && t.consensus < token * 1.2) {
    c.error(["corosync", "totem", "consensus"], "model-totem-consensus", `consensus ${t.consensus} is below 1.2 x token (${token * 1.2})`, `at least ${Math.ceil(token * 1.2)}`);
  }
  const cr = corosyncCrypto(spec);
  const transport = spec.corosync.transport ?? "knet";
  if (transport !== "knet" && needsAuthkey({ cipher: spec.corosync.crypto?.cipher ?? "none", hash: spec.corosync.crypto?.hash ?? "none" })) {
    c.error(["corosync", "crypto"], "model-crypto-transport", `corosync 3 has crypto only with knet, not ${transport}`, "transport: knet, or no crypto section");
  } else if (cr.cipher !== "none" && cr.hash === "none") {
    c.error(["corosync", "crypto", "hash"], "model-crypto-hash", "crypto_cipher needs a crypto_hash", "sha256 or stronger");
  } else if (cr.cipher === "none") {
    // Pacemaker's CIB, fence-device passwords included, travels over corosync.
    const what = transport !== "knet" ? `transport ${transport} has no crypto in corosync 3, so totem traffic is` : cr.hash === "none" ? "corosync crypto is off: totem traffic is" : "crypto_cipher is none: totem traffic is authenticated but";
    c.warn(transport !== "knet" ? ["corosync", "transport"] : ["corosync", "crypto"], "model-crypto-off", `${what}${cr.hash === "none" ? " neither encrypted nor authenticated" : " not encrypted"}, and it carries the CIB with its fence-device passwords; use knet with crypto (the default: aes256, sha256)`);
  }
}

function checkPostgres(spec: Spec, nodes: ClusterNode[], c: Checker): void {
  const pg = spec.postgresql;
  const params: [PathSegments, Record<string, unknown>][] = [[["postgresql", "parameters"], pg.parameters ?? {}]];
  for (const [name, m] of Object.entries(spec.cluster.nodes.members)) params.push([["cluster", "nodes", "members", name, "parameters"], m.parameters ?? {}]);
  for (const [path, ps] of params) {
    for (const [k, v] of Object.entries(ps)) {
      if (k in RESERVED_PARAMETERS) c.error([...path, k], k === "port" ? "model-port" : "model-reserved-parameter", `parameter '${k}' is managed by pgha`, RESERVED_PARAMETERS[k], true);
      if (k === "restart_after_crash" && pgBoolIsOn(v as never)) {
        c.error([...path, k], "model-restart-after-crash", "restart_after_crash must be off: the cluster manager restarts PostgreSQL, never PostgreSQL itself", "off");
      }
      if (k === "synchronous_standby_names" && pg.agent === "pgsql" && spec.cluster.topology === "streaming-replication") {
        c.error([...path, k], "model-agent-owned-parameter", "the pgsql agent manages synchronous_standby_names itself (rep_mode); remove it", undefined, true);
      }
      if (["primary_conninfo", "standby_mode"].includes(k)) c.error([...path, k], "model-agent-owned-parameter", `'${k}' is derived from the spec (replication user, VIP, node name)`, undefined, true);
    }
  }
  if (pg.agent === "pgsql" && spec.cluster.topology === "streaming-replication") {
    const ap = pg.agent_params ?? {};
    const master = ap.master_ip ?? spec.pacemaker?.vips?.replication?.ip;
    if (master === undefined) {
      c.error(["postgresql", "agent"], "model-pgsql-master-ip", "the pgsql agent needs master_ip (the address standbys replicate from)", "pacemaker.vips.replication (vip-rep) or postgresql.agent_params.master_ip");
    }
    if ((pg.replication?.mode ?? "sync") === "sync" && !pg.archive?.restore_command && ap.restore_command === undefined) {
      c.error(pg.archive ? ["postgresql", "archive"] : ["postgresql"], "model-pgsql-restore-command", "the pgsql agent in sync mode needs a restore_command", "postgresql.archive.restore_command");
    }
    if (ap.node_list !== undefined) {
      const listed = String(ap.node_list).trim().split(/\s+/).sort();
      const names = nodes.map((n) => n.name).sort();
      if (listed.join(" ") !== names.join(" ")) {
        c.error(["postgresql", "agent_params", "node_list"], "model-node-list", `node_list '${ap.node_list}' does not match the cluster nodes`, `'${names.join(" ")}' (or leave it out)`);
      }
    }
    for (const k of ["rep_mode", "pgdata", "config", "pgport"]) {
      if (k in ap) c.error(["postgresql", "agent_params", k], "model-agent-param-derived", `agent parameter '${k}' is derived from the spec`, undefined, true);
    }
  }
  checkWalRetention(spec, c);
  for (const [i, r] of (pg.hba ?? []).entries()) {
    const path: PathSegments = ["postgresql", "hba", i];
    if (r.type === "local" && r.address) c.error([...path, "address"], "model-hba-address", "a local rule takes no address");
    if (r.type !== "local") {
      if (!r.address) c.error(path, "model-hba-address", `a ${r.type} rule needs an address`, "a CIDR such as 10.0.0.0/24, or samehost/samenet/all");
      else if (/^[\d.]+$/.test(r.address)) c.error([...path, "address"], "model-hba-address", `address ${r.address} has no prefix length`, `${r.address}/32`);
      else if (/^[\d.]+\/\d+$/.test(r.address) && !parseCidr(r.address)) c.error([...path, "address"], "model-hba-address", `address ${r.address} is not a valid CIDR`);
    }
  }
  if (spec.cluster.topology === "streaming-replication") {
    const ids = resourceIds(spec);
    const used = new Map<string, string>();
    for (const [k, v] of Object.entries(ids)) {
      if (used.has(v)) c.error(["pacemaker", "ids"], "model-duplicate-id", `resource id '${v}' is used for both ${used.get(v)} and ${k}`);
      used.set(v, k);
    }
  }
}

/** What keeps the WAL a standby needs, and what keeps the archive from filling the disk. */
function checkWalRetention(spec: Spec, c: Checker): void {
  const pg = spec.postgresql;
  const slots = pg.replication?.slots;
  if (slots && pg.agent === "pgsqlms") {
    c.error(["postgresql", "replication", "slots"], "model-slots-paf", "PAF does not manage replication slots (ClusterLabs/PAF#140): nothing would create them on a new primary or drop them", "false (standbys catch up from wal_keep_size)");
  } else if (slots && pg.version < 13) {
    c.warn(["postgresql", "replication", "slots"], "model-slots-unbounded", `PostgreSQL ${pg.version} has no max_slot_wal_keep_size: the slot of a standby that stays down keeps WAL until the primary's disk is full`);
  }
  const a = pg.archive;
  if (a?.keep_segments !== undefined) {
    if (a.archive_command !== undefined) c.error(["postgresql", "archive", "keep_segments"], "model-archive-keep", "keep_segments makes pgha write the archive_command; remove archive_command (or keep_segments and prune it yourself)", undefined, true);
    else if (a.directory === undefined) c.error(["postgresql", "archive"], "model-archive-keep", "keep_segments needs the directory the archive goes to", "postgresql.archive.directory");
  } else if (a?.archive_command !== undefined && a.archive_cleanup_command === undefined) {
    c.warn(["postgresql", "archive", "archive_command"], "model-archive-retention", "nothing in the spec prunes what archive_command archives: it grows until the disk is full, unless your archiving tool expires it (or set directory and keep_segments instead)");
  }
}

function checkPacemaker(spec: Spec, nodes: ClusterNode[], c: Checker): void {
  const pm = spec.pacemaker ?? {};
  const st = pm.stonith;
  if (!st) {
    c.error(["pacemaker"], "model-stonith-unset", "say whether STONITH is on", "pacemaker.stonith: {enabled: true, devices: ...} (or enabled: false, explicitly)");
  } else if (!st.enabled) {
    c.warn(["pacemaker", "stonith", "enabled"], "model-stonith-disabled", "STONITH is disabled: a split brain can run two primaries and lose data");
  } else {
    const devices = st.devices ?? {};
    for (const n of nodes) {
      if (!devices[n.name]) c.error(st.devices ? ["pacemaker", "stonith", "devices"] : ["pacemaker", "stonith"], "model-stonith-missing-device", `no fence device for node '${n.name}'`, `devices.${n.name}: {agent, params}`);
    }
    for (const name of Object.keys(devices)) {
      if (!nodes.some((n) => n.name === name)) c.error(["pacemaker", "stonith", "devices", name], "model-stonith-unknown-node", `fence device for '${name}', which is not a cluster node`, undefined, true);
    }
  }
  if (!st?.enabled) {
    for (const [op, o] of Object.entries(spec.postgresql.ops ?? {})) {
      if (o?.on_fail === "fence") c.error(["postgresql", "ops", op, "on_fail"], "model-fence-without-stonith", "on_fail: fence needs STONITH enabled", "block, stop or restart");
    }
  }
  if (pm.properties && "stonith-enabled" in pm.properties) {
    c.error(["pacemaker", "properties", "stonith-enabled"], "model-stonith-property", "stonith-enabled follows pacemaker.stonith.enabled; remove it here", undefined, true);
  }
  const ping = pm.ping;
  if (ping) {
    const max = (ping.multiplier ?? 100) * ping.hosts.length;
    if (ping.min_score !== undefined && ping.min_score > max) {
      c.error(["pacemaker", "ping", "min_score"], "model-ping-threshold", `min_score ${ping.min_score} is above the best possible score ${max}: no node could run PostgreSQL`, `at most ${max}`);
    }
    if (ping.hosts.length === 1) {
      c.warn(["pacemaker", "ping", "hosts"], "model-ping-single-target", `one ping target: if ${ping.hosts[0]} stops answering, PostgreSQL stops on every node; list two or more (gateways, switches)`);
    }
  }
  if (pm.properties?.["no-quorum-policy"] === "ignore") {
    c.warn(["pacemaker", "properties", "no-quorum-policy"], "model-no-quorum-ignore", `no-quorum-policy=ignore lets a node without quorum run resources${twoNode(spec, nodes.length) ? " (with two_node the survivor keeps quorum anyway, and ignore defeats wait_for_all: a node that boots alone fences its peer)" : ""}; use stop`);
  }
  if (!fenceRace(spec, nodes.length).guarded) {
    c.warn(pm.properties?.["priority-fencing-delay"] !== undefined ? ["pacemaker", "properties", "priority-fencing-delay"] : ["pacemaker", "stonith"], "model-fence-race", "two nodes without a fence delay: when the links fail, both nodes fence each other; keep priority-fencing-delay (default 10s) or set pcmk_delay_base on one device");
  }
}
