// Which nodes join a running cluster (pure). A node joins when Pacemaker is stopped there and its CIB
// files hold no configuration (a new host, or one that came back empty), while a configured cluster runs
// on another node. A node whose CIB files are configured is not new: it was stopped, and only the
// operator starts it (its cib.xml keeps pgsql-data-status, which says whether its data is the latest).
import type { HostFacts } from "./facts.js";
import type { ClusterModel } from "./model/types.js";
import { shq } from "./shell.js";
import { promotedNode, type ClusterStatus } from "./status.js";

export function joiningNodes(model: ClusterModel, facts: Record<string, HostFacts>): string[] {
  const runs = (n: string) => facts[n]?.services.pacemaker === "active";
  const configured = (n: string) => (facts[n]?.cib?.primitives ?? 0) > 0;
  const names = model.nodes.map((n) => n.name);
  if (!names.some((n) => runs(n) && configured(n))) return [];
  // A node without facts is out of reach this run (down), not new.
  return names.filter((n) => facts[n] !== undefined && !runs(n) && !configured(n));
}

/**
 * The pgsql agent's node_list changes whenever a node joins or leaves. The agent has no reload, so
 * Pacemaker would restart every instance for it, the primary's too, although the agent reads the
 * parameter afresh at each action: pgha sets it in place instead (tasks/node-list.ts). The resource
 * whose node_list pgha sets so, or undefined (PAF has none).
 */
export const nodeListResource = (model: ClusterModel): string | undefined =>
  model.postgresql.agent === "pgsql" && model.topology === "streaming-replication" ? model.resourceIds.postgresql : undefined;

/** Shell (one line): `file`, a desired CIB, gets the node_list of `live`, so crm_simulate is asked about the rest only. */
export const keepLiveNodeListScript = (rsc: string, live: string, file: string): string =>
  `if l=$(CIB_file=${live} crm_resource -r ${shq(rsc)} -g node_list 2>/dev/null) && [ -n "$l" ]; then CIB_file=${file} crm_resource -r ${shq(rsc)} -p node_list -v "$l" >/dev/null; fi`;

/**
 * The refusal when the spec drops the node that runs the primary: removing it would take the database
 * down with it. Undefined when the primary stays (or no primary runs).
 */
export function removedPrimaryRefusal(model: ClusterModel, s: ClusterStatus | undefined): string | undefined {
  const primary = promotedNode(s, model.resourceIds.postgresql);
  if (!primary || model.nodes.some((n) => n.name === primary)) return undefined;
  const kept = model.nodes.map((n) => n.name).filter((n) => s?.nodes.some((x) => x.name === n && x.online));
  return `refusing: the spec removes ${primary}, which runs the primary; switch over to a node the spec keeps first (pgha switchover --to ${kept[0] ?? "NODE"}, with the spec that still has ${primary}), then apply. Nothing was changed`;
}
