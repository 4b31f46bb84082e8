// node_leave: a node the spec dropped leaves the running cluster online, in two steps around the
// corosync reload of reconfigure.yml. `drain` (before anything else changes): the node goes into
// standby until nothing runs there (its PostgreSQL stops through Pacemaker, its fence devices and VIPs
// stay where they are), then its Pacemaker and corosync stop and its CIB files are cleared, so it never
// starts its old cluster again and a later apply can add it back as a new node. The others keep quorum:
// two of three votes until the reload, then two_node (corosync 3.0.4+ takes it at run time, and a
// wait_for_all it implies is only ever waited for at start). `forget` (after the others run the
// nodelist without it): Pacemaker forgets it (crm_node --force -R) and the primary drops its
// replication slot. Its data directory stays. The primary's node is refused (switch over first), and so
// is an online node pgha cannot reach; an offline one that it cannot reach is forgotten all the same.
import { slotName } from "../model/postgresql.js";
import { removedPrimaryRefusal } from "../node-join.js";
import { usesSlots } from "./node-join.js";
import { leavePlan, leavingNodes, unreachableRefusal, type LeavingNode } from "../node-leave.js";
import { shq } from "../shell.js";
import { clusterStatus, exec, must, pgCtl, poll, psqlRows, TaskError, type HostCtx, type Reachable, type RunCtx, type TaskResult } from "../tasks.js";
import { liveStatus, roles } from "./standby.js";

export async function nodeLeave(ctx: RunCtx, _h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  // The cluster as read with the facts, while nothing has changed: a run without leaving nodes costs nothing more.
  const early = ctx.early?.()?.cluster;
  if (early && !leavingNodes(ctx.model, early).length) return { changed: false };
  const { s, via } = await liveStatus(ctx);
  const leaving = leavingNodes(ctx.model, s);
  if (!leaving.length) return { changed: false };
  const refusal = removedPrimaryRefusal(ctx.model, s);
  if (refusal) throw new TaskError(via.node.name, refusal);
  return args.phase === "forget" ? forget(ctx, via, s, leaving) : drain(ctx, via, leaving, args.timeout);
}

async function drain(ctx: RunCtx, via: HostCtx, leaving: LeavingNode[], timeout: unknown): Promise<TaskResult> {
  const kept = ctx.model.nodes.map((n) => n.name);
  const reached = await Promise.all(leaving.map(async (n) => ({ n, x: await reach(ctx, n.name) })));
  for (const { n, x } of reached) {
    const refusal = unreachableRefusal(n, typeof x === "string" ? x : undefined);
    if (refusal) throw new TaskError(n.name, refusal);
  }
  const plan = reached.map(({ n, x }) => leavePlan(n, kept, typeof x === "string" ? x : undefined)).join("; ");
  if (ctx.check) return { changed: true, msg: `would leave: ${plan}` };
  for (const { n, x } of reached) {
    if (typeof x === "string") continue;
    if (n.online) {
      // The reboot lifetime: a run that dies here leaves nothing that stopping Pacemaker there would not clear.
      await must(ctx, via, `crm_attribute -N ${shq(n.name)} -n standby -l reboot --update=on`);
      await poll(ctx, via, `every resource to stop on ${n.name}`, timeout, async () => {
        const now = await clusterStatus(ctx, via);
        if (!now) return ["Pacemaker is not answering"];
        return now.resources.filter((r) => r.nodes.includes(n.name)).map((r) => `${r.id} ${r.role} on ${n.name}`);
      });
    }
    await must(ctx, x, "systemctl stop pacemaker && systemctl stop corosync && rm -f /var/lib/pacemaker/cib/*");
    // Pacemaker stopped it, unless someone had made it unmanaged or put the node in maintenance: a standby, never the primary (refused above).
    if ((await exec(ctx, x, pgCtl(ctx, "status"))).code === 0) await must(ctx, x, pgCtl(ctx, "-m fast -w -t 120 stop"));
  }
  return { changed: true, msg: `left: ${plan}` };
}

async function forget(ctx: RunCtx, via: HostCtx, s: Parameters<typeof roles>[1], leaving: LeavingNode[]): Promise<TaskResult> {
  const names = leaving.map((n) => n.name).join(", ");
  const still = leaving.filter((n) => n.online).map((n) => n.name);
  // Not drained (check mode, or an earlier step failed): Pacemaker would take a live member back at once.
  if (still.length && !ctx.check) throw new TaskError(via.node.name, `${still.join(", ")} still online: not forgotten`);
  if (ctx.check) return { changed: true, msg: `would forget ${names} (crm_node --force -R${usesSlots(ctx) ? ", its replication slot" : ""})` };
  const { primaryHost } = roles(ctx, s);
  for (const n of leaving) {
    await must(ctx, via, `crm_node --force -R ${shq(n.name)}`);
    if (primaryHost && usesSlots(ctx)) {
      const slot = slotName(n.name);
      // Its walsender ends a moment after the node's PostgreSQL stopped; an active slot cannot be dropped.
      await poll(ctx, primaryHost, `slot ${slot} to be released`, 60, async () => ((await must(ctx, primaryHost, psqlRows(ctx, `SELECT 1 FROM pg_replication_slots WHERE slot_name = '${slot}' AND active`))).trim() ? [`slot ${slot} inactive`] : []));
      await must(ctx, primaryHost, psqlRows(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${slot}'`));
    }
  }
  return { changed: true, msg: `forgot ${names}: removed from the CIB${primaryHost && usesSlots(ctx) ? `, replication slots dropped on ${primaryHost.node.name}` : ""}` };
}

/** A connection to a node outside the spec, or why there is none. */
async function reach(ctx: RunCtx, name: string): Promise<Reachable | string> {
  const conn = ctx.reach ? await ctx.reach(name) : "pgha reaches only the spec's nodes here";
  return typeof conn === "string" ? conn : { node: { name }, conn };
}
