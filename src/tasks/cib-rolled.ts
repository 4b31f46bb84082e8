// A CIB change that Pacemaker carries out by restarting every PostgreSQL instance at once: a parameter of
// the PostgreSQL resource (rep_mode, ...). Pacemaker stops the primary and its standbys together, and on
// the lab a rep_mode change that way left no primary at all (the pgsql agent keeps PGSQL.lock on the old
// primary and finds no LATEST standby to promote). With --allow-primary-restart, crm_load rolls it
// instead, as the rolling restart does for PostgreSQL's own parameters: the standbys stop first (node
// standby; the agent, still with the old parameters, takes them out of synchronous_standby_names, so no
// commit waits for them), the CIB changes under maintenance mode and the resource's history is
// refreshed (Pacemaker records the new parameters and restarts nothing), the standbys start with the
// new parameters, and then the primary moves to one of them by a switchover and restarts as a standby.
import { desiredCib, applyCibPatch } from "../cib-script.js";
import { shq } from "../shell.js";
import { promotedNode } from "../status.js";
import { clusterStatus, exec, must, poll, restartThroughStandby, TaskError, waitFor, type HostCtx, type RunCtx } from "../tasks.js";
import { underMaintenance } from "./maintenance.js";

/** Rolls the CIB change around the primary; returns what was done. crm_predict decided it may (Prediction.rolls). */
export async function rolledCibChange(ctx: RunCtx, h: HostCtx, timeout: number): Promise<string> {
  const pgId = ctx.model.resourceIds.postgresql;
  if (ctx.down?.length) throw new TaskError(h.node.name, `this change restarts PostgreSQL, and rolling it needs every node (${ctx.down.join(", ")} is down). Nothing was changed`);
  const s = await clusterStatus(ctx, h);
  const primary = promotedNode(s, pgId);
  const ph = ctx.hosts.find((x) => x.node.name === primary);
  const standbys = ctx.hosts.filter((x) => x !== ph && s?.resources.some((r) => r.id === pgId && r.nodes.includes(x.node.name)));
  if (!ph || !standbys.length) {
    throw new TaskError(h.node.name, `this change restarts PostgreSQL, and ${ph ? `no standby runs to switch over to` : "no primary runs"}: pgha does not restart a lone primary in place. Nothing was changed`);
  }
  const names = standbys.map((x) => x.node.name);
  const patch = (clear: RunCtx["clear"]) => {
    const cib = desiredCib(ctx.rendered, (b) => Boolean(h.facts.binaries[b]), { clear, then: applyCibPatch() });
    return must(ctx, h, cib.script, cib.stdin);
  };
  const standby = (n: string) => `crm_attribute -N ${shq(n)} -n standby -l reboot`;
  try {
    for (const n of names) await must(ctx, h, `${standby(n)} --update=on`);
    await poll(ctx, h, `${pgId} to stop on ${names.join(", ")}`, timeout, async () => {
      const now = await clusterStatus(ctx, h);
      return names.filter((n) => now?.resources.some((r) => r.id === pgId && r.nodes.includes(n))).map((n) => `${pgId} on ${n}`);
    });
    // Runtime switches stay through the change: clearing them would end the maintenance mode it runs under.
    await underMaintenance(ctx, h, pgId, "changing the CIB under maintenance mode", timeout, () => patch(ctx.clear?.filter((c) => c !== "runtime-switches")));
  } finally {
    // Also after a failure before maintenance mode: the standbys go back to what they ran.
    for (const n of names) await exec(ctx, h, `${standby(n)} --delete`);
  }
  await waitFor(ctx, h, { condition: "replication", timeout });
  const now = await restartThroughStandby(ctx, h, ph, true, timeout);
  // The switches the operator asked to clear (--clear-runtime-switches), now that nothing waits on maintenance mode.
  if (ctx.clear?.includes("runtime-switches")) await patch(ctx.clear);
  return `rolled: ${names.join(", ")} stopped, the CIB changed under maintenance mode, ${names.join(", ")} started with it, then a switchover to ${now ?? "?"} and ${ph.node.name} restarted as its standby`;
}
