// pg_minimums: before any file is written, a changed postgresql.conf that would set a standby minimum
// (max_connections, ...) below the running primary's value stops the run. Written and refused later,
// the lowered value would wait on every node for the next restart, and a standby restarted with it
// (after a fence, say) would not start. Costs nothing when no postgresql.conf changes.
import { planFile } from "../plan.js";
import { loweredMinimums, loweredRefusal, parsePrimarySettings, PRIMARY_SETTINGS_SQL } from "../standby-minimums.js";
import { clusterStatus, must, psqlRows, runningPrimary, TaskError, type HostCtx, type RunCtx, type TaskResult } from "../tasks.js";

export async function pgMinimums(ctx: RunCtx, h: HostCtx): Promise<TaskResult> {
  const conf = ctx.model.postgresql.configFile;
  const changed = ctx.hosts.flatMap((x) => {
    const f = ctx.rendered.files.find((r) => r.node === x.node.name && r.path === conf);
    const action = f && planFile(f, x.facts).action;
    return f && (action === "create" || action === "update") ? [{ node: x.node.name, content: f.content }] : [];
  });
  if (!changed.length) return { changed: false };
  const s = ctx.early?.()?.cluster ?? (await clusterStatus(ctx, h));
  const primary = ctx.hosts.find((x) => x.node.name === runningPrimary(s, ctx.model.resourceIds.postgresql));
  // No primary to compare with (none runs, or out of reach): the rolling restart checks again before it restarts anything.
  if (!primary) return { changed: false, msg: "no running primary to compare the standby minimums with" };
  const lowered = loweredMinimums(changed, parsePrimarySettings(await must(ctx, primary, psqlRows(ctx, PRIMARY_SETTINGS_SQL))), conf);
  if (lowered.length) throw new TaskError(primary.node.name, loweredRefusal(lowered, primary.node.name));
  return { changed: false };
}
