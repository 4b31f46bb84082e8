// pgha recover NODE: the manuals' recovery of a failed node (standby the node, clean up, resync, back in
// the cluster) as one task. It never stops or restarts the primary (a CHECKPOINT there at most, which
// pg_rewind needs from a primary just promoted): the node is kept out of the way (node standby,
// or Pacemaker left stopped there), its data follows the primary as it is, is rewound with pg_rewind,
// or is copied afresh with pg_basebackup; the old data directory is kept beside the new one. What an
// interrupted run had done is read back from a state file on the node, so a rerun converges.
import { posix } from "node:path";
import { PGHA_DIR } from "../cib-script.js";
import { planFile } from "../plan.js";
import { shq } from "../shell.js";
import { permanentNodeAttributes, type ClusterStatus } from "../status.js";
import { asPostgres, asUser, directoryCommand, exec, must, pgCtl, poll, psqlRows, TaskError, waitFor, writeFileCommand, type HostCtx, type RunCtx, type TaskResult } from "../tasks.js";
import { liveStatus, roles, standbyProblems, wantedHs } from "./standby.js";

/** On the node: "rewinding" while pg_rewind runs, "resynced CHECKPOINT" once the data is a standby's. */
const STATE_FILE = `${PGHA_DIR}/recover.state`;
const CLEAN = /^shut down( in recovery)?$/;

type Resync = { how: "follow" | "pg_rewind" | "pg_basebackup" | "crashed"; why: string };

/** pg_controldata's cluster state and latest checkpoint, or undefined without a data directory. */
async function control(ctx: RunCtx, x: HostCtx): Promise<{ state: string; checkpoint: string } | undefined> {
  const pg = ctx.model.postgresql;
  const r = await exec(ctx, x, asPostgres(ctx, `${shq(`${pg.bindir}/pg_controldata`)} -D ${shq(pg.dataDirectory)}`));
  if (r.code !== 0) return undefined;
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(r.stdout)?.[1]?.trim() ?? "";
  return { state: field("Database cluster state"), checkpoint: field("Latest checkpoint location") };
}

/** A libpq conninfo value: quoted, so a space or a quote in it cannot add a keyword. */
const conninfoValue = (v: string) => `'${v.replace(/[\\']/g, "\\$&")}'`;

/** libpq conninfo of the primary for pg_rewind: its replication address, as the replication role (password from .pgpass). */
const sourceServer = (ctx: RunCtx) => {
  const pg = ctx.model.postgresql;
  return `host=${conninfoValue(pg.replication!.upstreamHost)} port=${pg.port} user=${conninfoValue(pg.replication!.user)} dbname=postgres`;
};

const pgRewind = (ctx: RunCtx, dryRun: boolean) => {
  const pg = ctx.model.postgresql;
  return asPostgres(ctx, `${shq(`${pg.bindir}/pg_rewind`)}${dryRun ? " --dry-run" : ""} -D ${shq(pg.dataDirectory)} --config-file=${shq(pg.configFile)} --source-server=${shq(sourceServer(ctx))}`);
};

const lastLine = (s: string) => s.trim().split("\n").at(-1) ?? "";

/** The timeline of the primary's last checkpoint when it is not the one the primary writes on (no row when it is). */
export const STALE_CHECKPOINT_SQL = "SELECT timeline_id FROM pg_control_checkpoint() WHERE timeline_id <> ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int";

/**
 * pg_rewind takes the source's timeline from its control file, which names a new timeline only once the
 * checkpoint after the promotion has ended, and that one is spread (seconds: 8 s for 80 buffers on the
 * lab). A rewind before it takes the old timeline for the primary's, rewinds to the wrong ancestor, and
 * the node never starts ("requested timeline 3 does not contain minimum recovery point ... on timeline
 * 1"): pg_rewind's documentation asks for a CHECKPOINT on a source just promoted. Returns the stale
 * timeline (undefined when the control file is current); with `run`, checkpoints the primary first.
 */
async function staleSourceCheckpoint(ctx: RunCtx, primary: HostCtx, run: boolean): Promise<string | undefined> {
  const stale = (await must(ctx, primary, psqlRows(ctx, STALE_CHECKPOINT_SQL))).trim() || undefined;
  if (stale && run) await must(ctx, primary, psqlRows(ctx, "CHECKPOINT"));
  return stale;
}

/** How the node's data can become a standby of the primary, read without changing it. */
async function decide(ctx: RunCtx, x: HostCtx): Promise<Resync> {
  // An earlier run's copy may outlive its dropped connection: never two at once on one data directory.
  const busy = (await exec(ctx, x, "pidof pg_rewind pg_basebackup")).stdout.trim();
  if (busy) throw new TaskError(x.node.name, `pg_rewind or pg_basebackup of an earlier run still runs there (pid ${busy}); rerun once it has ended`);
  const c = await control(ctx, x);
  if (!c) return { how: "pg_basebackup", why: "no data directory" };
  const state = (await must(ctx, x, `cat ${STATE_FILE} 2>/dev/null || true`)).trim();
  if (state === "rewinding") return { how: "pg_basebackup", why: "an earlier pg_rewind did not finish" };
  if (state === `resynced ${c.checkpoint}`) return { how: "follow", why: "resynchronised by an earlier run" };
  // A crashed instance must finish crash recovery before pg_rewind can compare: only a real run does that.
  if (!CLEAN.test(c.state)) return { how: "crashed", why: `not shut down cleanly (${c.state})` };
  const r = await exec(ctx, x, pgRewind(ctx, true));
  const out = r.stdout + r.stderr;
  if (r.code === 0 && /no rewind required/.test(out)) return { how: "follow", why: "its timeline and WAL are an ancestor of the primary's" };
  if (r.code === 0) return { how: "pg_rewind", why: /servers diverged at [^\n]*/.exec(out)?.[0] ?? "diverged" };
  return { how: "pg_basebackup", why: `pg_rewind cannot: ${lastLine(out)}` };
}

const PLAN: Record<Resync["how"], string> = {
  follow: "nothing to resynchronise",
  pg_rewind: "pg_rewind from the primary (the data directory copied aside first)",
  pg_basebackup: "pg_basebackup from the primary (the data directory moved aside)",
  crashed: "pg_rewind after crash recovery, pg_basebackup if that cannot (the data directory copied aside first)",
};

/**
 * Keeps DATADIR as DATADIR.pgha-<UTC time> (copied, or moved away); prints the path. -T: a link that
 * appears at that name is replaced or refused, never followed into another directory.
 */
export function asideCommand(ctx: RunCtx, verb: "cp -a" | "mv"): string {
  const d = shq(ctx.model.postgresql.dataDirectory);
  return `a=${d}.pgha-$(date -u +%Y%m%d%H%M%S); while [ -e "$a" ] || [ -L "$a" ]; do sleep 1; a=${d}.pgha-$(date -u +%Y%m%d%H%M%S); done; ${verb} -T ${d} "$a" && echo "$a"`;
}

/**
 * pg_basebackup of the running primary into a directory of pgha's own, renamed into place at the end,
 * so an interrupted copy never leaves a half-filled data directory. `source`: the primary's address.
 */
export function copyPrimaryCommand(ctx: RunCtx, source: string): string {
  const pg = ctx.model.postgresql;
  const d = shq(pg.dataDirectory);
  const partial = shq(`${pg.dataDirectory}.pgha-partial`);
  // rm -rf removes a link, not what it points at; mkdir refuses a name that exists; mv -T never moves into a linked directory.
  return [
    `rm -rf ${partial}`,
    directoryCommand({ path: `${pg.dataDirectory}.pgha-partial`, owner: pg.osUser, group: pg.osGroup, mode: "0700" }),
    asPostgres(ctx, `${shq(`${pg.bindir}/pg_basebackup`)} -h ${shq(source)} -p ${shq(String(pg.port))} -U ${shq(pg.replication!.user)} -D ${partial} -X stream -c fast -w`),
    ...(pg.recovery === "standby.signal" ? [asPostgres(ctx, `touch ${partial}/standby.signal`)] : []),
    `if [ -d ${d} ] && [ ! -L ${d} ]; then rmdir ${d}; fi`,
    `mv -T ${partial} ${d}`,
  ].join(" && ");
}

/** Makes the data directory a standby's; returns what was done and the directories kept aside. */
async function resync(ctx: RunCtx, x: HostCtx, plan: Resync): Promise<{ done: string; kept: string[] }> {
  const pg = ctx.model.postgresql;
  const d = shq(pg.dataDirectory);
  const kept: string[] = [];
  let done = `${PLAN.follow} (${plan.why})`;
  let how = plan.how;
  if (how === "pg_rewind" || how === "crashed") {
    kept.push((await must(ctx, x, asideCommand(ctx, "cp -a"))).trim());
    await must(ctx, x, `install -d -m 0700 ${PGHA_DIR} && echo rewinding > ${STATE_FILE}`);
    const r = await exec(ctx, x, pgRewind(ctx, false));
    const out = r.stdout + r.stderr;
    if (r.code === 0) {
      // pg_rewind copied the primary's own files: the node's are put back, then what pgha renders there.
      const own = ["postgresql.conf", "postgresql.auto.conf", "pg_hba.conf", "pg_ident.conf"].map((f) => `if [ -f "$a/${f}" ]; then cp -p "$a/${f}" ${d}/${f}; fi`);
      // As the PostgreSQL user: the data directory is that user's, and so is any link in it.
      await must(ctx, x, asUser(ctx.model.postgresql.osUser, [`a=${shq(kept[0]!)}`, ...own].join("; ")));
      for (const f of ctx.rendered.files.filter((f) => f.node === x.node.name && f.path.startsWith(`${pg.dataDirectory}/`))) {
        await must(ctx, x, writeFileCommand({ ...planFile(f, x.facts), action: "update" }), f.content);
      }
      done = /no rewind required/.test(out) ? `${PLAN.follow} after crash recovery (no rewind required)` : `pg_rewind (${/servers diverged at [^\n]*/.exec(out)?.[0] ?? plan.why})`;
    } else {
      how = "pg_basebackup";
      plan = { how, why: `pg_rewind failed: ${lastLine(out)}` };
    }
  }
  if (how === "pg_basebackup") {
    if ((await exec(ctx, x, `[ -z "$(ls -A ${d} 2>/dev/null)" ]`)).code !== 0) kept.push((await must(ctx, x, asideCommand(ctx, "mv"))).trim());
    await must(ctx, x, copyPrimaryCommand(ctx, pg.replication!.upstreamHost));
    done = `pg_basebackup (${plan.why})`;
  }
  if (pg.recovery === "standby.signal") await must(ctx, x, asPostgres(ctx, `touch ${d}/standby.signal`));
  const c = await control(ctx, x);
  await must(ctx, x, `install -d -m 0700 ${PGHA_DIR} && echo ${shq(`resynced ${c?.checkpoint ?? ""}`)} > ${STATE_FILE}`);
  return { done, kept };
}

/** The pgsql agent's lock on the node: it refuses to start there until the data is known to be good. */
const lockFile = (ctx: RunCtx) => (ctx.model.postgresql.agent === "pgsql" && ctx.model.postgresql.tmpdir ? posix.join(ctx.model.postgresql.tmpdir, "PGSQL.lock") : undefined);

/** Refusals that leave everything untouched. */
async function refuse(ctx: RunCtx, via: HostCtx, s: ClusterStatus, node: string): Promise<{ primary: string; x: HostCtx }> {
  const x = ctx.hosts.find((h) => h.node.name === node);
  if (!x) throw new TaskError(via.node.name, `no node named ${node} (nodes: ${ctx.hosts.map((h) => h.node.name).join(", ")})`);
  if (ctx.model.topology === "shared-disk") throw new TaskError(node, "recover resynchronises a streaming standby; a shared-disk cluster has none (crm_resource --cleanup is all a failed node needs)");
  const { primary } = roles(ctx, s);
  if (!primary) throw new TaskError(node, `refusing: no primary runs, so there is nothing to follow; bring a primary up first (pgha status). Nothing was changed`);
  if (primary === node) throw new TaskError(node, `refusing: ${node} is the running primary; recover is for a failed node (pgha switchover moves the primary). Nothing was changed`);
  if (ctx.model.postgresql.agent === "pgsql") {
    const attr = `${ctx.model.resourceIds.postgresql}-data-status`;
    const ds = permanentNodeAttributes(await must(ctx, via, "cibadmin -Q -o nodes"));
    if (ds[node]?.[attr] === "LATEST" && !Object.entries(ds).some(([n, a]) => n !== node && a[attr] === "LATEST")) {
      throw new TaskError(node, `refusing: ${attr} says ${node} holds the latest data and no other node does; its data may be the only copy of committed transactions. Nothing was changed`);
    }
  }
  return { primary, x };
}

export async function pgRecover(ctx: RunCtx, _h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  const node = ctx.target;
  if (!node) throw new TaskError(_h.node.name, "recover needs the node to recover");
  const pgId = ctx.model.resourceIds.postgresql;
  const { s, via } = await liveStatus(ctx);
  const { primary, x } = await refuse(ctx, via, s, node);
  const { primaryHost } = roles(ctx, s);
  const lock = lockFile(ctx);
  const locked = lock !== undefined && (await exec(ctx, x, `test -e ${shq(lock)}`)).code === 0;
  const problems = [...(await standbyProblems(ctx, s, node, false)), ...(locked ? [`${lock} is there`] : [])];
  if (!problems.length) return { changed: false, msg: `${node} is a healthy standby of ${primary}${ctx.model.postgresql.agent === "pgsql" ? ` (${wantedHs(ctx)})` : ""}: nothing to do` };
  const online = s.nodes.find((n) => n.name === node)?.online ?? false;
  const running = (await exec(ctx, x, pgCtl(ctx, "status"))).code === 0;
  const found = `${node}: ${problems.join("; ")}; primary ${primary}`;
  const away = online ? `put ${node} in standby` : `keep Pacemaker stopped on ${node}`;
  const back = online ? `clean up its fail counts, take it out of standby` : `start Pacemaker there`;
  const steps = (resyncPlan: string) => [away, resyncPlan, ...(lock ? [`remove ${lock}`] : []), back, `wait for ${node} to stream${ctx.model.postgresql.agent === "pgsql" ? ` (${wantedHs(ctx)})` : ""}`].join(", ");
  if (ctx.check) {
    const stale = primaryHost && (await staleSourceCheckpoint(ctx, primaryHost, false));
    const plan = running
      ? `resynchronise once PostgreSQL stopped there (decided then: follow, pg_rewind or pg_basebackup)`
      : stale
        ? `CHECKPOINT on ${primary} (its control file still names timeline ${stale}, and pg_rewind reads the timeline there), then resynchronise (decided then: follow, pg_rewind or pg_basebackup)`
        : PLAN[(await decide(ctx, x)).how];
    return { changed: true, msg: `found ${found}; would ${steps(plan)}` };
  }
  if (online) {
    await must(ctx, via, `crm_attribute -N ${shq(node)} -n standby -l reboot --update=on`);
    await poll(ctx, via, `${pgId} to stop on ${node}`, args.timeout ?? 120, async () => ((await liveStatus(ctx)).s.resources.some((r) => r.id === pgId && r.nodes.includes(node)) ? [`${pgId} on ${node}`] : []));
  }
  try {
    if ((await exec(ctx, x, pgCtl(ctx, "status"))).code === 0) throw new TaskError(node, `PostgreSQL runs on ${node} outside Pacemaker's control; stop it first (pg_ctl stop), recover never stops it behind Pacemaker's back`);
    if (primaryHost) await staleSourceCheckpoint(ctx, primaryHost, true);
    const { done, kept } = await resync(ctx, x, await decide(ctx, x));
    if (lock) await must(ctx, x, `rm -f ${shq(lock)}`);
    if (!online) {
      await must(ctx, x, "systemctl start pacemaker");
      await poll(ctx, via, `${node} online`, args.timeout ?? 180, async () => ((await liveStatus(ctx)).s.nodes.some((n) => n.name === node && n.online) ? [] : [`${node} online`]));
    }
    await must(ctx, via, `crm_resource --cleanup -r ${shq(pgId)} -N ${shq(node)}`);
    for (const lifetime of ["reboot", "forever"]) {
      const attr = `crm_attribute -N ${shq(node)} -n standby -l ${lifetime}`;
      await must(ctx, via, `if ${attr} --query -q >/dev/null 2>&1; then ${attr} --delete; fi`);
    }
    await waitFor(ctx, via, { condition: "replication", timeout: args.timeout ?? 300 });
    const left = await standbyProblems(ctx, (await liveStatus(ctx)).s, node, false);
    if (left.length) throw new TaskError(node, `${node} is back but not a healthy standby yet: ${left.join("; ")}`);
    await must(ctx, x, `rm -f ${STATE_FILE}`);
    return { changed: true, msg: `${node} recovered: ${done}${kept.length ? `; old data directory kept at ${kept.join(", ")}` : ""}; it streams from ${primary}${ctx.model.postgresql.agent === "pgsql" ? ` (${wantedHs(ctx)})` : ""}` };
  } catch (e) {
    const m = (e as Error).message;
    throw new TaskError(node, `${m}${online ? `. ${node} stays in standby until it is recovered` : ""}; rerun pgha recover ${node} once the cause is fixed`);
  }
}
