// pg_password: on a built cluster, a new replication password in the spec reaches the role on the
// running primary before the nodes' .pgpass files change (reconfigure.yml pushes them next). The
// standbys' open connections stay up; at their next reconnect their .pgpass holds what the role has.
// A node's .pgpass that differs from the rendered one (its facts hash) is what says the password may
// have changed: the password itself is never read back from a host. A run that stops between the two
// steps leaves .pgpass differing, so the next run sets the password again (the same one) and pushes.
import { posix } from "node:path";
import { planFile } from "../plan.js";
import { must, psqlScript, setPasswordSql, TaskError, type HostCtx, type RunCtx, type TaskResult } from "../tasks.js";
import { liveStatus, roles } from "./standby.js";

/** The nodes whose .pgpass exists and differs in content from the rendered one. */
export function stalePgpass(ctx: RunCtx): string[] {
  const path = posix.join(ctx.model.postgresql.home, ".pgpass");
  return ctx.hosts
    .filter((x) => {
      const f = ctx.rendered.files.find((r) => r.node === x.node.name && r.path === path);
      return f !== undefined && x.facts.files[path]?.exists === true && planFile(f, x.facts).reasons.includes("content differs");
    })
    .map((x) => x.node.name);
}

export async function pgPassword(ctx: RunCtx, _h: HostCtx): Promise<TaskResult> {
  const role = ctx.model.postgresql.replication?.user;
  const password = ctx.model.replicationPassword;
  if (role === undefined || password === undefined) return { changed: false };
  const stale = stalePgpass(ctx);
  if (!stale.length) return { changed: false };
  const { primary, primaryHost } = roles(ctx, (await liveStatus(ctx)).s);
  const what = `the replication role ${role}'s password on ${primary ?? "the primary"} (.pgpass differs on ${stale.join(", ")})`;
  if (ctx.check) return { changed: true, msg: `would set ${what}` };
  // Pushing .pgpass with no primary to take the password would lock every standby out at its next reconnect.
  if (!primaryHost) throw new TaskError(stale.join(","), `no primary runs to set the replication password on; nothing was changed (.pgpass differs on ${stale.join(", ")})`);
  // The password reaches psql on stdin only (setPasswordSql keeps it out of the server's logs too).
  await must(ctx, primaryHost, psqlScript(ctx), setPasswordSql(role, password).join("\n"));
  return { changed: true, msg: `set ${what}` };
}
