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

/** crm_mon's view and the configuration (for leftover move constraints and switches), in one round trip. */
async function firstAnswering(model: ClusterModel, open: Opener): Promise<{ conn: Connection; xml: string; configuration: string }> {
  const errors: string[] = [];
  for (const n of model.nodes) {
    let conn: Connection | undefined;
    try {
      conn = await open(n);
      const r = await conn.exec(`crm_mon -1 --output-as=xml && { echo ${CONFIGURATION}; cibadmin -Q -o configuration 2>/dev/null || true; }`);
      const [xml, configuration = ""] = r.stdout.split(`\n${CONFIGURATION}\n`);
      if (r.code === 0) return { conn, xml: xml!, configuration };
      errors.push(`${n.name}: crm_mon: ${r.stderr.trim().split("\n")[0]}`);
    } catch (e) {
      errors.push((e as Error).message);
    }
    conn?.close();
  }
  throw new GatherError(`no node reports cluster status:\n  ${errors.join("\n  ")}`);
}

export async function readStatus(model: ClusterModel, open: Opener): Promise<StatusReport> {
  const { conn, xml, configuration } = await firstAnswering(model, open);
  try {
    const cluster = parseCrmMon(xml);
    const leftoverConstraints = configuration ? leftoverMoveConstraints(configuration) : [];
    const switches = configuration ? runtimeSwitches(configuration) : [];
    const replication: Record<string, string> = {};
    const slots: Record<string, string> = {};
    const ids = model.resourceIds;
    const primary = promotedNode(cluster, ids.postgresql);
    const pnode = model.nodes.find((n) => n.name === primary);
    if (pnode && model.topology === "streaming-replication") {
      const pc = pnode.name === conn.node ? conn : await open(pnode);
      const pg = model.postgresql;
      // wal_status (PostgreSQL 13+) says whether a slot still holds the WAL its standby needs.
      const slotQuery = pg.version >= 13 ? ` -c "SELECT '${SLOT_ROW}', slot_name, wal_status FROM pg_replication_slots"` : "";
      const r = await pc.exec(`runuser -u ${pg.osUser} -- ${pg.bindir}/psql -X -At -F ' ' -h ${shq(pg.socketDirectory)} -p ${pg.port} -d postgres -c "SELECT application_name, state, sync_state FROM pg_stat_replication"${slotQuery}`);
      for (const line of r.stdout.split("\n").filter(Boolean)) {
        const [first, a, b] = line.split(" ");
        if (first === SLOT_ROW) slots[a!] = b!;
        else replication[first!] = `${a}/${b}`;
      }
      if (pc !== conn) pc.close();
    }
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
  } finally {
    conn.close();
  }
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
  const status = await readStatus(model, open);
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
