// Which nodes need `pgha recover`, and why, read from the cluster's state (and, where the caller has
// them, the facts): the node that should run a standby but whose PostgreSQL failed, stopped or is held
// back by the pgsql agent's PGSQL.lock. Status and diff name them one line each, instead of advice such
// as "crm_resource --cleanup" that would start a diverged instance. Pure.
import type { ClusterModel } from "./model/types.js";
import { promotedNode, type ClusterStatus } from "./status.js";

export interface RecoveryNeed {
  node: string;
  reasons: string[];
}

export function recoveryNeeds(model: ClusterModel, s: ClusterStatus, lockedNodes: string[] = []): RecoveryNeed[] {
  if (model.topology !== "streaming-replication") return [];
  const id = model.resourceIds.postgresql;
  const primary = promotedNode(s, id);
  // Without a primary there is nothing to recover from: that is the cluster's problem, not a node's.
  if (!primary) return [];
  const needs: RecoveryNeed[] = [];
  for (const m of model.nodes.filter((n) => n.name !== primary)) {
    const n = s.nodes.find((x) => x.name === m.name);
    // A node the operator took out (standby, maintenance) is away on purpose; the switch warning says so.
    if (n && (n.standby || n.maintenance)) continue;
    const reasons: string[] = [];
    if (!n?.online) reasons.push("not in the cluster (offline, or Pacemaker stopped)");
    for (const f of n?.failcounts.filter((x) => x.resource === id) ?? []) reasons.push(`fail count ${f.count} for ${id}`);
    const standby = s.resources.some((r) => r.id === id && r.nodes.includes(m.name) && /^(Unpromoted|Slave)$/.test(r.role));
    if (n?.online && !standby) reasons.push(`${id} is not running as a standby${n.attributes[`${id}-status`] ? ` (${id}-status ${n.attributes[`${id}-status`]})` : ""}`);
    if (lockedNodes.includes(m.name)) reasons.push(`${model.postgresql.tmpdir}/PGSQL.lock is left`);
    if (reasons.length) needs.push({ node: m.name, reasons });
  }
  return needs;
}

export const recoveryWarning = (r: RecoveryNeed) => `${r.node} needs pgha recover ${r.node}: ${r.reasons.join("; ")}`;

/** Whether a fail count is part of a recovery need (and so not worth a warning of its own). */
export const coveredFailCount = (needs: RecoveryNeed[], model: ClusterModel, node: string, resource: string) => resource === model.resourceIds.postgresql && needs.some((r) => r.node === node);
