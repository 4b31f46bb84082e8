// `pgha status` and the table after apply: the cluster as Pacemaker and PostgreSQL see it, read from the
// first node that answers.
import { coveredFailCount, recoveryNeeds, recoveryWarning } from "./recovery-needs.js";
import { GatherError } from "./gather.js";
import type { ClusterModel, ClusterNode } from "./model/types.js";
import { nodeSwitched, runtimeSwitches, switchWarning, type RuntimeSwitch } from "./runtime-switches.js";
import { slotName } from "./model/postgresql.js";
import { shq } from "./shell.js";
import { leftoverMoveConstraints, parseCrmMon, promotedNode, statusTable, type ClusterStatus } from "./status.js";
import { connect, type Connection, type TransportOptions } from "./transport.js";

/** How status reaches a node: a new connection (`pgha status`), or one that apply already holds. */
export type Opener = (node: ClusterNode) => Promise<Connection>;
export const connectWith = (opts: TransportOptions): Opener => (n) => connect(n, opts);
/** Connections owned by someone else: closing them here is a no-op. */
export const reuse = (conns: Map<string, Connection>): Opener => async (n) => ({ ...conns.get(n.name)!, close: () => undefined });

export interface StatusReport {
  cluster: ClusterStatus;
  /** application_name -> sync_state, from pg_stat_replication on the primary. */
  replication: Record<string, string>;
  leftoverConstraints: string[];
  /** maintenance-mode, a stopped or unmanaged resource, a node in standby: set by hand, kept by apply. */
  switches: RuntimeSwitch[];
  warnings: string[];
}

const CONFIGURATION = "--pgha-configuration--";
const SLOT_ROW = "--pgha-slot--";
/** crm_mon's view and the configuration (for leftover move constraints and switches), in one command. */
const CLUSTER_VIEW = `crm_mon -1 --output-as=xml && { echo ${CONFIGURATION}; cibadmin -Q -o configuration 2>/dev/null || true; }`;

/** The status probe's view from the first node that answers. */
async function firstAnswering(model: ClusterModel, open: Opener): Promise<{ conn: Connection; view: ReturnType<typeof parseProbe> }> {
  const errors: string[] = [];
  for (const n of model.nodes) {
    let conn: Connection | undefined;
    try {
      conn = await open(n);
      const r = await conn.exec(statusProbe(model, true));
      if (r.code === 0) return { conn, view: parseProbe(r.stdout) };
      errors.push(`${n.name}: crm_mon: ${r.stderr.trim().split("\n")[0]}`);
    } catch (e) {
      errors.push((e as Error).message);
    }
    conn?.close();
  }
  throw new GatherError(`no node reports cluster status:\n  ${errors.join("\n  ")}`);
}

/** The primary's replication and its slots, in one psql (PostgreSQL 13+ reports wal_status: whether a slot still holds the WAL its standby needs). */
function replicationQuery(model: ClusterModel): string {
  const pg = model.postgresql;
  const slotQuery = pg.version >= 13 ? ` -c "SELECT '${SLOT_ROW}', slot_name, wal_status FROM pg_replication_slots"` : "";
  return `runuser -u ${shq(pg.osUser)} -- env -C / ${shq(`${pg.bindir}/psql`)} -X -At -F ' ' -h ${shq(pg.socketDirectory)} -p ${shq(String(pg.port))} -d postgres -c "SELECT application_name, state, sync_state FROM pg_stat_replication"${slotQuery}`;
}

function parseReplication(stdout: string): { replication: Record<string, string>; slots: Record<string, string> } {
  const replication: Record<string, string> = {};
  const slots: Record<string, string> = {};
  for (const line of stdout.split("\n").filter(Boolean)) {
    const [first, a, b] = line.split(" ");
    if (first === SLOT_ROW) slots[a!] = b!;
    else replication[first!] = `${a}/${b}`;
  }
  return { replication, slots };
}

/** The report from crm_mon's view, the configuration and the primary's replication rows. Pure. */
function statusReport(model: ClusterModel, xml: string, configuration: string, rows: ReturnType<typeof parseReplication>): StatusReport {
  const cluster = parseCrmMon(xml);
  const leftoverConstraints = configuration ? leftoverMoveConstraints(configuration) : [];
  const switches = configuration ? runtimeSwitches(configuration) : [];
  const { replication, slots } = rows;
  const warnings: string[] = [];
  for (const c of leftoverConstraints) warnings.push(`leftover move constraint ${c}: it pins or bans a resource and can stop the next failover (crm_resource --clear)`);
  warnings.push(...switches.map(switchWarning));
  for (const n of model.nodes) {
    const state = slots[slotName(n.name)];
    if (state === "lost") warnings.push(`${n.name} cannot catch up: the primary removed WAL that its replication slot ${slotName(n.name)} kept (max_slot_wal_keep_size); rebuild it with pgha recover ${n.name}`);
    if (state === "unreserved") warnings.push(`${n.name} is about to lose the WAL it needs (slot ${slotName(n.name)} is past max_slot_wal_keep_size): bring it back now, or it will need pgha recover`);
  }
  const needs = recoveryNeeds(model, cluster);
  warnings.push(...needs.map(recoveryWarning));
  for (const n of cluster.nodes) {
    // Beyond the switches in the configuration: a standby that lasts until the node reboots.
    if (n.standby && !nodeSwitched(switches, n.name, "standby")) warnings.push(`node ${n.name} is in standby`);
    for (const f of n.failcounts.filter((f) => !coveredFailCount(needs, model, n.name, f.resource))) warnings.push(`fail count ${f.count} for ${f.resource} on ${n.name} (crm_resource --cleanup)`);
  }
  return { cluster, replication, leftoverConstraints, switches, warnings };
}

export async function readStatus(model: ClusterModel, open: Opener): Promise<StatusReport> {
  const { conn, view } = await firstAnswering(model, open);
  try {
    let rows = parseReplication("");
    const primary = promotedNode(parseCrmMon(view.xml), model.resourceIds.postgresql);
    const pnode = model.nodes.find((n) => n.name === primary);
    // The first node's command read its replication already when it runs the primary; else ask the primary.
    if (pnode && pnode.name === conn.node && view.rows !== undefined) rows = parseReplication(view.rows);
    else if (pnode && model.topology === "streaming-replication") {
      const pc = pnode.name === conn.node ? conn : await open(pnode);
      rows = parseReplication((await pc.exec(replicationQuery(model))).stdout);
      if (pc !== conn) pc.close();
    }
    return statusReport(model, view.xml, view.configuration, rows);
  } finally {
    conn.close();
  }
}

const PROBE_REPLICATION = "--pgha-replication--";

/**
 * The status in one command per node (`pgha status` on its first node; apply in the same command as the
 * facts): on `cluster`, crm_mon's view and the configuration, the command exiting with crm_mon's status;
 * on a node whose PostgreSQL runs and is not a standby (no standby.signal or recovery.conf), its replication.
 */
export function statusProbe(model: ClusterModel, cluster: boolean): string {
  const d = shq(model.postgresql.dataDirectory);
  return [
    ...(cluster ? [CLUSTER_VIEW, "pgha_crm=$?"] : []),
    `echo ${PROBE_REPLICATION}`,
    ...(model.topology === "streaming-replication" ? [`if [ -f ${d}/postmaster.pid ] && [ ! -e ${d}/standby.signal ] && [ ! -e ${d}/recovery.conf ]; then echo ${PROBE_REPLICATION}; ${replicationQuery(model)} 2>/dev/null; fi`] : []),
    ...(cluster ? ["(exit $pgha_crm)"] : []),
  ].join("\n");
}

/** A statusProbe's output: crm_mon's XML, the configuration, and the replication rows when it read them. */
function parseProbe(out: string): { xml: string; configuration: string; rows?: string } {
  const mark = `${PROBE_REPLICATION}\n`;
  const at = out.indexOf(mark);
  const view = at < 0 ? out : out.slice(0, at);
  const rest = at < 0 ? "" : out.slice(at + mark.length);
  const [xml = "", configuration = ""] = view.split(`\n${CONFIGURATION}\n`);
  return { xml, configuration, rows: rest.startsWith(mark) ? rest.slice(mark.length) : undefined };
}

/** The report from every node's statusProbe output (the first node's with the cluster's view); none when crm_mon failed there. */
export function statusFromProbes(model: ClusterModel, outputs: Record<string, string>): StatusReport | undefined {
  const first = outputs[model.nodes[0]!.name] ?? "";
  if (!first.includes(`\n${CONFIGURATION}\n`)) return undefined;
  const { xml, configuration } = parseProbe(first);
  try {
    const primary = promotedNode(parseCrmMon(xml), model.resourceIds.postgresql);
    return statusReport(model, xml, configuration, parseReplication((primary && parseProbe(outputs[primary] ?? "").rows) ?? ""));
  } catch {
    return undefined; // not crm_mon's XML after all: the caller reads the status afresh
  }
}

/**
 * Nothing in flight: quorum, every node online, a primary, and with streaming replication every other
 * node streaming. What apply's waits wait for; read so before a run that then changed nothing, it is the
 * cluster's state after that run too.
 */
export function settled(model: ClusterModel, s: StatusReport): boolean {
  const pgId = model.resourceIds.postgresql;
  const primary = s.cluster.resources.find((r) => r.id === pgId && /^(Promoted|Master|Started)$/.test(r.role))?.nodes[0];
  const online = model.nodes.every((n) => s.cluster.nodes.some((c) => c.name === n.name && c.online && !c.standby));
  const streaming = model.topology !== "streaming-replication" || model.nodes.every((n) => n.name === primary || /^streaming\//.test(s.replication[n.name] ?? ""));
  return s.cluster.quorum && online && primary !== undefined && streaming;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

export interface StatusView {
  status: StatusReport;
  text: string;
}

export async function clusterStatusTable(model: ClusterModel, open: Opener): Promise<StatusView> {
  return statusView(model, await readStatus(model, open));
}

/** The table a person reads, and the report it was made from. */
export function statusView(model: ClusterModel, status: StatusReport): StatusView {
  const ids = model.resourceIds;
  const rows = statusTable(status.cluster, ids.postgresql, [ids.vipMaster, ids.vipReplication, ids.vipReadonly], `${ids.postgresql}-status`).map((r) => {
    const rep = status.replication[r[0]!];
    return [...r.slice(0, 3), model.postgresql.agent === "pgsql" ? r[3]! : rep ?? (r[2] === "primary" ? "primary" : "-"), ...r.slice(4)];
  });
  const statusColumn = model.topology === "shared-disk" ? "-" : model.postgresql.agent === "pgsql" ? `${ids.postgresql}-status`.toUpperCase() : "REPLICATION";
  const head = ["NODE", "STATE", "ROLE", statusColumn, "VIPS", "FAILCOUNTS"];
  const lines = [
    `cluster ${model.name}: ${status.cluster.quorum ? "quorate" : "NO QUORUM"}${status.cluster.dc ? `, DC ${status.cluster.dc}` : ""}`,
    table([head, ...rows]),
    ...status.warnings.map((w) => `warning: ${w}`),
  ];
  return { status, text: lines.join("\n") };
}
