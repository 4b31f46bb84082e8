// What recover and switchover both read before acting: the cluster as Pacemaker sees it, and whether a
// node is a standby that streams from the primary in the configured mode.
import { promotedNode, type ClusterStatus } from "../status.js";
import { clusterStatus, exec, psqlRows, TaskError, type HostCtx, type RunCtx } from "../tasks.js";

/** The cluster's status from the first node whose Pacemaker answers, with that node's host. */
export async function liveStatus(ctx: RunCtx): Promise<{ s: ClusterStatus; via: HostCtx }> {
  for (const h of ctx.hosts) {
    const s = await clusterStatus(ctx, h);
    if (s?.dc) return { s, via: h };
  }
  throw new TaskError(ctx.hosts.map((h) => h.node.name).join(","), "no node's Pacemaker answers (crm_mon); nothing was changed");
}

export interface Roles {
  primary?: string;
  primaryHost?: HostCtx;
}

export function roles(ctx: RunCtx, s: ClusterStatus): Roles {
  const primary = promotedNode(s, ctx.model.resourceIds.postgresql);
  return { primary, primaryHost: ctx.hosts.find((h) => h.node.name === primary) };
}

/** The pgsql agent's attribute for the standby's state in the configured mode (HS:sync or HS:async). */
export const wantedHs = (ctx: RunCtx) => (ctx.model.postgresql.replication?.mode === "async" ? "HS:async" : "HS:sync");

/**
 * Why `node` is not a healthy standby of the running primary, caught up: empty when it is. The pgsql
 * agent's own verdict (pgsql-status) counts; PAF's is the unpromoted role and a streaming row in the
 * primary's pg_stat_replication with nothing sent but not yet flushed. `caughtUp` asks for no lag
 * (a switchover target); an async standby is otherwise healthy while it streams.
 */
export async function standbyProblems(ctx: RunCtx, s: ClusterStatus, node: string, caughtUp: boolean): Promise<string[]> {
  const pgId = ctx.model.resourceIds.postgresql;
  const { primaryHost } = roles(ctx, s);
  const n = s.nodes.find((x) => x.name === node);
  const out: string[] = [];
  if (!n?.online) return ["Pacemaker is not running there (node offline)"];
  if (n.standby) out.push("the node is in standby");
  if (n.maintenance) out.push("the node is in maintenance");
  const fails = n.failcounts.filter((f) => f.resource === pgId || f.resource.startsWith(`${pgId}:`));
  if (fails.length) out.push(`fail count ${fails.map((f) => `${f.resource}=${f.count}`).join(", ")}`);
  if (!s.resources.some((r) => r.id === pgId && r.nodes.includes(node) && /^(Unpromoted|Slave)$/.test(r.role))) out.push(`${pgId} does not run there as a standby`);
  if (ctx.model.postgresql.agent === "pgsql") {
    const hs = n.attributes[`${pgId}-status`];
    if (hs !== wantedHs(ctx)) out.push(`${pgId}-status is ${hs ?? "unset"}, not ${wantedHs(ctx)}`);
  }
  if (primaryHost && !out.length && (ctx.model.postgresql.agent !== "pgsql" || (caughtUp && wantedHs(ctx) === "HS:async"))) {
    const r = await exec(ctx, primaryHost, psqlRows(ctx, `SELECT state, sent_lsn = flush_lsn FROM pg_stat_replication WHERE application_name = '${node.replace(/'/g, "''")}'`));
    const row = r.code === 0 ? r.stdout.trim().split("\n")[0] : undefined;
    if (!row?.startsWith("streaming|")) out.push(`it does not stream from ${primaryHost.node.name}${row ? ` (state ${row.split("|")[0]})` : ""}`);
    else if (caughtUp && row !== "streaming|t") out.push(`it lags behind ${primaryHost.node.name} (WAL sent but not flushed)`);
  }
  return out;
}
