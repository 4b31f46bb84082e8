// cluster_boot: whether corosync and Pacemaker start when the node boots. Off by default: a node that was
// fenced or crashed comes back without joining, and an operator starts it (pgha recover) once the cause
// is known; the manuals' recovery starts Pacemaker by hand. The facts say what is enabled now.
import { SERVICES } from "../facts.js";
import { must, type HostCtx, type RunCtx, type TaskResult } from "../tasks.js";

export async function clusterBoot(ctx: RunCtx, h: HostCtx): Promise<TaskResult> {
  const want = ctx.model.startOnBoot;
  const wrong = SERVICES.filter((s) => (h.facts.enabled[s] ?? false) !== want);
  if (!wrong.length) return { changed: false };
  const verb = want ? "enable" : "disable";
  if (!ctx.check) await must(ctx, h, `systemctl ${verb} ${wrong.join(" ")}`);
  return { changed: true, msg: `${verb} at boot: ${wrong.join(", ")}` };
}
