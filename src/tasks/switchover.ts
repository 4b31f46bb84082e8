// pgha switchover [--to NODE]: the manuals' planned move of the primary (their failback), through
// Pacemaker: the old primary goes into standby until its PostgreSQL has stopped cleanly, Pacemaker
// promotes the caught-up standby and moves the VIPs, and the old primary comes back as a standby of it
// (the rolling restart's path, which also removes the pgsql agent's PGSQL.lock after the clean stop).
import { shq } from "../shell.js";
import { leftoverMoveConstraints } from "../status.js";
import { must, restartThroughStandby, TaskError, type HostCtx, type RunCtx, type TaskResult } from "../tasks.js";
import { liveStatus, roles, standbyProblems } from "./standby.js";

export async function pgSwitchover(ctx: RunCtx, _h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  const { clone } = ctx.model.resourceIds;
  const { s, via } = await liveStatus(ctx);
  const { primary, primaryHost } = roles(ctx, s);
  if (!primary || !primaryHost) throw new TaskError(via.node.name, "no primary runs, so there is nothing to switch over from (pgha status; pgha recover NODE); nothing was changed");
  const to = ctx.target;
  if (to !== undefined && !ctx.model.nodes.some((n) => n.name === to)) throw new TaskError(via.node.name, `--to ${to}: no such node (nodes: ${ctx.model.nodes.map((n) => n.name).join(", ")})`);
  if (to === primary) return { changed: false, msg: `${primary} is already the primary: nothing to do` };
  const candidates = ctx.model.nodes.map((n) => n.name).filter((n) => n !== primary && (to === undefined || n === to));
  const problems = await Promise.all(candidates.map((n) => standbyProblems(ctx, s, n, true)));
  const target = candidates.find((_, i) => !problems[i]!.length);
  if (!target) {
    const why = candidates.map((n, i) => `${n}: ${problems[i]!.join("; ")}`).join(" / ");
    throw new TaskError(via.node.name, `refusing the switchover: no caught-up standby to promote (${why || "no standby"}); nothing was changed`);
  }
  const leftovers = leftoverMoveConstraints(await must(ctx, via, "cibadmin -Q -o constraints"));
  if (leftovers.length) {
    throw new TaskError(via.node.name, `refusing the switchover: move constraints ${leftovers.join(", ")} are left from an earlier crm_resource --move/--ban; remove them first (pgha apply --clear-move-constraints); nothing was changed`);
  }
  // With more than one standby, Pacemaker would promote the best one: a temporary preference says which.
  const others = ctx.model.nodes.filter((n) => n.name !== primary && n.name !== target);
  const plan = `switch over from ${primary} to ${target}: ${primary} in standby until its PostgreSQL stops, ${target} promoted, ${primary} back as its standby${others.length ? ` (a temporary cli-prefer-${clone} on ${target}, removed at the end)` : ""}`;
  if (ctx.check) return { changed: true, msg: `would ${plan}` };
  let now: string | undefined;
  try {
    if (others.length) await must(ctx, via, `crm_resource --move --promoted -r ${shq(clone)} -N ${shq(target)}`);
    now = await restartThroughStandby(ctx, via, primaryHost, true, args.timeout);
  } finally {
    if (others.length) await must(ctx, via, `crm_resource --clear -r ${shq(clone)}`);
  }
  if (now !== target) throw new TaskError(via.node.name, `Pacemaker promoted ${now ?? "nothing"}, not ${target}`);
  return { changed: true, msg: `switched over: ${target} is the primary, ${primary} streams from it as a standby` };
}
