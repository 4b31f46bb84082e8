// node_join: a node that is new to the running cluster (or came back empty, as a new machine with the
// same name and address) joins it online. By the time this runs, reconfigure.yml has pushed its files
// and the others' (corosync.conf with it in the nodelist, pg_hba.conf letting it replicate) and the
// running nodes have reloaded corosync. Here: the primary re-reads pg_hba.conf, the new node's
// replication slot is made on the primary (the pgsql agent makes slots only when it promotes), its data
// is copied from the primary by pg_basebackup (as recover does), and Pacemaker starts there. The CIB
// gains the node's fence device, node_list and clone-max afterwards, in crm_load. The primary and its
// VIPs are never stopped or moved.
import { slotName } from "../model/postgresql.js";
import { joiningNodes } from "../node-join.js";
import { exec, must, pgCtl, poll, psqlRows, TaskError, type HostCtx, type RunCtx, type TaskResult } from "../tasks.js";
import { asideCommand, copyPrimaryCommand } from "./recover.js";
import { liveStatus, roles } from "./standby.js";

/** Whether the pgsql agent names a replication slot per node (replication_slot_name). */
export const usesSlots = (ctx: RunCtx) =>
  ctx.model.crm.primitives.find((p) => p.id === ctx.model.resourceIds.postgresql)?.params.some((kv) => kv.key === "replication_slot_name") ?? false;

export async function nodeJoin(ctx: RunCtx, _h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  const joining = joiningNodes(ctx.model, Object.fromEntries(ctx.hosts.map((x) => [x.node.name, x.facts])));
  if (!joining.length) return { changed: false };
  const hosts = ctx.hosts.filter((x) => joining.includes(x.node.name));
  const streaming = ctx.model.topology === "streaming-replication";
  // A joining node's own data is of no known age (a node that left keeps its data directory): it is
  // moved aside, kept, and the node gets a fresh copy of the primary.
  const aside = (x: HostCtx) => x.facts.dataDirectory === "initialized";
  const { s, via } = await liveStatus(ctx);
  const { primary, primaryHost } = roles(ctx, s);
  if (streaming && !primaryHost) throw new TaskError(joining.join(","), `no primary runs to copy ${joining.join(", ")} from; nothing was done for ${joining.length > 1 ? "them" : "it"}`);
  const plan = hosts.map((x) => `${x.node.name}: ${streaming ? `pg_basebackup from ${primary}${aside(x) ? " (its old data directory moved aside, kept)" : ""}, ` : ""}start Pacemaker`).join("; ");
  if (ctx.check) return { changed: true, msg: `would join ${plan}` };
  if (streaming) {
    // pg_hba.conf was pushed just before; the handler's reload comes only at the end of the run.
    await must(ctx, primaryHost!, pgCtl(ctx, "reload"));
    if (usesSlots(ctx)) {
      for (const x of hosts) {
        // Reserved now, so the primary keeps the WAL from before the copy until the node streams.
        const slot = slotName(x.node.name);
        await must(ctx, primaryHost!, psqlRows(ctx, `SELECT pg_create_physical_replication_slot('${slot}', true) WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '${slot}')`));
      }
    }
  }
  for (const x of hosts) {
    if (streaming) {
      const busy = (await exec(ctx, x, "pidof pg_basebackup")).stdout.trim();
      if (busy) throw new TaskError(x.node.name, `pg_basebackup of an earlier run still runs there (pid ${busy}); rerun once it has ended`);
      if (aside(x)) {
        if ((await exec(ctx, x, pgCtl(ctx, "status"))).code === 0) throw new TaskError(x.node.name, "PostgreSQL runs there outside Pacemaker; stop it before it joins");
        await must(ctx, x, asideCommand(ctx, "mv"));
      }
      await must(ctx, x, copyPrimaryCommand(ctx, ctx.model.postgresql.replication!.upstreamHost));
    }
    await must(ctx, x, "systemctl start pacemaker");
  }
  await poll(ctx, via, `${joining.join(", ")} online`, args.timeout ?? 180, async () => {
    const now = (await liveStatus(ctx)).s;
    return joining.filter((n) => !now.nodes.some((m) => m.name === n && m.online));
  });
  return { changed: true, msg: `joined ${plan}` };
}
