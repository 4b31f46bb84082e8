// Apply on a cluster with a node down (pure decisions). The running cluster decides which nodes apply
// goes on without: a member it has offline and fenced, whether pgha cannot reach it (powered off) or
// reaches it with Pacemaker stopped (back from a fence, waiting for pgha recover). What is safe is done
// (files, reloads, an online CIB patch; files on a reachable node that is down too), what needs every
// node (a corosync restart, a rolling restart, a CIB rebuild) is not, nothing waits for the node, and the
// run ends non-zero naming it and what to run. Anything else out of reach (a typo in the inventory, a new
// node, a node the cluster sees online, no running cluster to ask) stops the run before anything is
// touched, as before.
import { GatherError, unreachableMessage, type Unreachable } from "./gather.js";
import type { ClusterStatus } from "./status.js";

/** A node this run goes on without; `reachable`: pgha reaches it (Pacemaker is stopped there). */
export interface Down {
  node: string;
  why: string;
  reachable: boolean;
}

/**
 * The nodes apply goes on without, or a GatherError saying why it may not. `stopped`: reachable nodes
 * with a configured CIB and Pacemaker stopped; `view`: crm_mon's view from a node that answered and runs
 * Pacemaker (undefined: none does).
 */
export function downNodes(unreachable: Unreachable[], stopped: string[], view: ClusterStatus | undefined, limit?: string[]): Down[] {
  const member = (n: string) => view?.nodes.find((x) => x.name === n);
  // A stopped node the cluster does not have as a clean offline member is the build decision's to refuse.
  const down: Down[] = stopped.filter((n) => member(n) && !member(n)!.online && !member(n)!.unclean).map((n) => ({ node: n, why: "Pacemaker is stopped there, and the cluster has it offline", reachable: true }));
  if (!unreachable.length) return view?.quorum ? down : [];
  const refuse = (why: string) => new GatherError(`${unreachableMessage(unreachable)}\n${why}`);
  if (!view) throw refuse("no node that answers runs a cluster that knows them as members that are down, so pgha cannot tell a node that is down from a wrong inventory");
  const unknown = unreachable.filter((u) => !member(u.node)).map((u) => u.node);
  if (unknown.length) throw refuse(`the running cluster has no member named ${unknown.join(", ")}: check the inventory (a new node joins only when pgha reaches it)`);
  const online = unreachable.filter((u) => member(u.node)!.online).map((u) => u.node);
  if (online.length) throw refuse(`the cluster has ${online.join(", ")} online: pgha cannot reach what the cluster can (check the inventory, SSH and the host key)`);
  const unclean = unreachable.filter((u) => member(u.node)!.unclean).map((u) => u.node);
  if (unclean.length) throw refuse(`${unclean.join(", ")} is lost but not yet fenced: wait until the cluster has fenced it, then run apply again`);
  if (!view.quorum) throw refuse("the nodes that answer have no quorum");
  const limited = (limit ?? []).filter((n) => unreachable.some((u) => u.node === n));
  if (limited.length) throw refuse(`--limit names ${limited.join(", ")}, which is down`);
  return [...unreachable.map((u) => ({ node: u.node, why: u.error, reachable: false })), ...down];
}

/**
 * The end of a run that went on without nodes: what was done, what was not, and what the operator runs.
 * A node that is off gets booted; `pgha recover` brings it back as a standby; apply again brings the
 * files of a node it could not reach to the spec.
 */
export function degradedMessage(down: Down[], changed: number, skipped: { task: string; msg?: string }[], check: boolean): string {
  const each = down.map((d) => `${d.node} is down (${d.why})`).join("; ");
  const done = check ? `${changed} task(s) would change where it is safe` : `applied where it is safe (${changed} task(s) changed)`;
  const notDone = skipped.length ? `; not done while a node is down: ${skipped.map((s) => `${s.task}${s.msg ? ` (${s.msg})` : ""}`).join("; ")}` : "";
  const off = down.filter((d) => !d.reachable).map((d) => d.node);
  const steps = down.map((d) => `${d.reachable ? "" : `boot ${d.node}, then `}run pgha recover ${d.node}`).join("; ");
  const again = off.length || skipped.length ? `, and run this apply again${off.length ? ` for ${off.join(", ")}'s own files` : ""}` : "";
  return `${each}: ${done}${notDone}. To recover: ${steps}${again}`;
}
