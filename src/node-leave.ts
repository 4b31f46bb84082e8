// Which nodes leave a running cluster, and what happens to each (pure). A node leaves when the running
// cluster knows it (a node of the CIB, as crm_mon lists it, online or not) and the spec no longer has it.
// Reaching it is needed only while it is online: it is drained, then its Pacemaker and corosync stop
// before the others take the new nodelist. An offline node that pgha cannot reach (a retired or dead
// machine) is forgotten by the others all the same; one that is online and out of reach is refused,
// since the others would drop a live member from under its running corosync.
import type { ClusterModel } from "./model/types.js";
import type { ClusterStatus } from "./status.js";

export interface LeavingNode {
  name: string;
  online: boolean;
}

export function leavingNodes(model: ClusterModel, s: ClusterStatus | undefined): LeavingNode[] {
  const kept = new Set(model.nodes.map((n) => n.name));
  return (s?.nodes ?? []).filter((n) => !kept.has(n.name)).map((n) => ({ name: n.name, online: n.online }));
}

/** One line of what leaving does to `n`; `reach` is why pgha cannot reach it, if it cannot. */
export function leavePlan(n: LeavingNode, kept: string[], reach?: string): string {
  const forget = `removed from the corosync nodelist of ${kept.join(", ")} and from the CIB (crm_node -R); its data directory stays`;
  if (reach === undefined) return `${n.name}: ${n.online ? "standby until nothing runs there, then " : "(offline) "}Pacemaker and corosync stopped there and its CIB files cleared; ${forget}`;
  return `${n.name} (offline, ${reach}: not drained, nothing stopped there; keep it from starting its cluster daemons): ${forget}`;
}

/**
 * Why the run must stop before anything changes: a node that leaves is online while pgha cannot reach
 * it, so it could not be drained and stopped first. (One that runs the primary is refused by
 * removedPrimaryRefusal in node-join.ts.) Undefined when it may go.
 */
export function unreachableRefusal(n: LeavingNode, reach?: string): string | undefined {
  if (reach === undefined || !n.online) return undefined;
  return `refusing: ${n.name} leaves the cluster and is online, but pgha cannot reach it (${reach}), so it cannot be drained and stopped first. Keep it in the inventory (outside the cluster's group) so pgha can reach it, or stop Pacemaker and corosync there yourself. Nothing was changed`;
}
