// Task modules: the only code that changes hosts. Each reads what it needs (facts gathered up front, or a
// quick live check where an earlier step changed the state), then acts unless in check mode, and says
// whether it changed anything.
import { recoveryNeeds, recoveryWarning, type RecoveryNeed } from "./recovery-needs.js";
import { posix } from "node:path";
import { corosyncAuthkey } from "./authkey.js";
import type { HostFacts } from "./facts.js";
import { COROSYNC_APPLIED, COROSYNC_CONF, requiredBinaries, symlinkProblems } from "./facts.js";
import type { ClusterModel, ClusterNode, ManagedDirectory } from "./model/types.js";
import { planFile, type FileChange } from "./plan.js";
import type { RenderedCluster } from "./render.js";
import { maskSecrets } from "./secrets.js";
import { shq } from "./shell.js";
import { parseCrmMon, permanentNodeAttributes, promotedNode, type ClusterStatus } from "./status.js";
import type { Connection, ExecResult } from "./transport.js";
import type { ModuleName } from "./playbook.js";
import { applyCibPatch, cibLoader, desiredCib, PGHA_DIR, type RuntimeState } from "./cib-script.js";
import { truthy } from "./runtime-switches.js";
import { classifyCorosyncChange } from "./corosync-change.js";
import { copyPrimaryCommand, pgRecover } from "./tasks/recover.js";
import { pgSwitchover } from "./tasks/switchover.js";
import { crmPredict, settleAndVerify, type CibPlan } from "./cib-predict.js";
import { clusterBoot } from "./tasks/cluster-boot.js";
import { nodeJoin } from "./tasks/node-join.js";
import { nodeLeave } from "./tasks/node-leave.js";
import { pgMinimums } from "./tasks/standby-minimums.js";
import { LOWERED_IN_FILES_SQL, loweredRefusal } from "./standby-minimums.js";
import { nodeListInPlace } from "./tasks/node-list.js";
import { rolledCibChange } from "./tasks/cib-rolled.js";
import { maintenanceOn } from "./tasks/maintenance.js";
import { pgPassword } from "./tasks/replication-password.js";
import type { Disruption } from "./disruptions.js";

export interface HostCtx {
  node: ClusterNode;
  conn: Connection;
  facts: HostFacts;
}

/** What a command needs: a host by name and its connection (a node that leaves the spec has no more). */
export type Reachable = { node: { name: string }; conn: Connection };

export interface RunCtx {
  model: ClusterModel;
  rendered: RenderedCluster;
  hosts: HostCtx[];
  check: boolean;
  /** Verbose sink: each remote command and its output. */
  trace: (node: string, line: string) => void;
  /** Nodes whose authkey corosync_authkey replaced under a running corosync: corosync_apply restarts for them. */
  authkeyReplaced?: string[];
  /** The node a job is about (recover NODE, switchover --to NODE). */
  target?: string;
  /** Seconds between polls in wait_for (tests shorten it). */
  pollSeconds: number;
  /** Runtime state to remove (--clear-move-constraints, --clear-runtime-switches); by default it is kept. */
  clear?: readonly RuntimeState[];
  /** What the operator allows a CIB change to do (--allow-primary-restart, --allow-failover, --allow-fencing). */
  allow?: readonly Disruption[];
  /** crm_predict's finding, for crm_load. */
  cibPlan?: CibPlan;
  /** Nodes this run goes on without: the running cluster has them as down (degraded.ts). Nothing waits for them. */
  down?: string[];
  /**
   * The cluster as read with the facts (crm_mon, and the standbys streaming from the primary), as long as
   * no task of this run has changed anything: wait_for's first look, so a settled cluster costs no round trip.
   */
  early?: () => { cluster: ClusterStatus; streaming: string[] } | undefined;
  /** A connection to a host of the inventory that the spec does not name (a node that leaves), or why there is none. */
  reach?: (name: string) => Promise<Connection | string>;
  /** The live view's line while a module waits on a node: what is still missing and for how long. */
  progress?: (node: string, line: string) => void;
}

export interface TaskResult {
  changed: boolean;
  msg?: string;
  /** Structured findings for --json (crm_predict's plan). */
  detail?: Record<string, unknown>;
  /** Left undone because it needs every node and one is down (msg says what): apply reports it and fails. */
  skipped?: boolean;
}

export class TaskError extends Error {
  constructor(readonly node: string, message: string) {
    super(message);
    this.name = "TaskError";
  }
}

export async function exec(ctx: RunCtx, h: Reachable, cmd: string, stdin?: string): Promise<ExecResult> {
  ctx.trace(h.node.name, maskSecrets(`$ ${cmd.split("\n")[0]}${cmd.includes("\n") ? " ..." : ""}`, ctx.model.secrets));
  const r = await h.conn.exec(cmd, { stdin });
  for (const line of (r.stdout + r.stderr).split("\n").filter(Boolean)) ctx.trace(h.node.name, maskSecrets(`  ${line}`, ctx.model.secrets));
  return r;
}

/** Runs a command that must succeed; the error names the host and carries the remote stderr, masked. */
export async function must(ctx: RunCtx, h: Reachable, cmd: string, stdin?: string): Promise<string> {
  const r = await exec(ctx, h, cmd, stdin);
  if (r.code !== 0) {
    const detail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join("\n");
    throw new TaskError(h.node.name, maskSecrets(`exit ${r.code}: ${detail}`, ctx.model.secrets));
  }
  return r.stdout;
}

export const asPostgres = (ctx: RunCtx, cmd: string) =>
  `runuser -u ${shq(ctx.model.postgresql.osUser)} -- env -C / PGPASSFILE=${shq(posix.join(ctx.model.postgresql.home, ".pgpass"))} ${cmd}`;
/**
 * Runs a shell command as `user`, who can then do no more than that user could: what a root action in a
 * directory that user owns needs, since the user can swap any name there for a link. Root runs it itself.
 */
export const asUser = (user: string, cmd: string) => (user === "root" ? cmd : `runuser -u ${shq(user)} -- sh -c ${shq(`cd / && ${cmd}`)}`);
/**
 * pg_ctl runs the postmaster through /bin/sh with its -D in double quotes and its -o as is: the data
 * directory goes in PGDATA instead, and each -o value must be quoted for that shell (pgCtlOption).
 */
export const pgCtl = (ctx: RunCtx, sub: string) => asPostgres(ctx, `PGDATA=${shq(ctx.model.postgresql.dataDirectory)} ${shq(`${ctx.model.postgresql.bindir}/pg_ctl`)} ${sub}`);
/** `-c name=value` for pg_ctl -o, quoted twice: for the shell running pg_ctl and for the one pg_ctl runs. */
export const pgCtlOption = (settings: Record<string, string>) => `-o ${shq(Object.entries(settings).map(([k, v]) => `-c ${shq(`${k}=${v}`)}`).join(" "))}`;
/** pg_ctl puts the postgres binary's path in double quotes for /bin/sh, where these characters still act. */
const PG_CTL_UNSAFE = /["$`\\\n]/;
/** psql's unaligned rows for `sql`, run as the PostgreSQL user on the local socket. */
export const psqlRows = (ctx: RunCtx, sql: string) => {
  const pg = ctx.model.postgresql;
  return asPostgres(ctx, `${shq(`${pg.bindir}/psql`)} -X -At -h ${shq(pg.socketDirectory)} -p ${shq(String(pg.port))} -d postgres -c ${shq(sql)}`);
};

/** psql reading SQL from stdin (where a password may go, never on a command line), stopping at the first error. */
export const psqlScript = (ctx: RunCtx) => {
  const pg = ctx.model.postgresql;
  return asPostgres(ctx, `${shq(`${pg.bindir}/psql`)} -X -q -v ON_ERROR_STOP=1 -h ${shq(pg.socketDirectory)} -p ${shq(String(pg.port))} -d postgres -f -`);
};

const version = (s: string): number[] => (s.match(/(\d+)\.(\d+)(?:\.(\d+))?/) ?? []).slice(1).map((x) => Number(x ?? 0));
const older = (a: number[], b: number[]) => a[0]! < b[0]! || (a[0] === b[0] && (a[1]! < b[1]! || (a[1] === b[1] && (a[2] ?? 0) < b[2]!)));

/** Versions pgha's output is written for, and the one known defect that breaks the pgsql agent. */
export function versionProblems(model: ClusterModel, f: HostFacts): string[] {
  const out: string[] = [];
  const pcmk = version(f.versions.pacemaker);
  const coro = version(f.versions.corosync);
  const pgv = version(f.versions.postgres);
  if (!pcmk.length || older(pcmk, [2, 0, 0])) out.push(`Pacemaker 2.0 or later is needed (found: ${f.versions.pacemaker || "none"})`);
  if (!coro.length || coro[0] !== 3) out.push(`corosync 3 is needed (found: ${f.versions.corosync || "none"})`);
  if (pgv[0] !== model.postgresql.version) out.push(`PostgreSQL ${model.postgresql.version} is needed in ${model.postgresql.bindir} (found: ${f.versions.postgres || "none"})`);
  if (model.postgresql.agent === "pgsql" && pcmk.length && older(pcmk, [2, 1, 6]) && f.promotionScoreUnpatched) {
    out.push(
      `Pacemaker ${pcmk.join(".")}'s crm_attribute reads '-v -INFINITY' as options, and this host's ocf-shellfuncs passes it so ` +
        "(ocf_promotion_score: crm_attribute -p $@): the pgsql agent would retry its start until it times out. " +
        "Install Pacemaker 2.1.6+ or resource-agents 4.13+ (which call crm_attribute -p ${OCF_RESOURCE_INSTANCE} $@)",
    );
  }
  return out;
}

function preflight(ctx: RunCtx, h: HostCtx): TaskResult {
  const f = h.facts;
  const problems: string[] = [];
  if (f.hostname !== h.node.name) problems.push(`hostname is '${f.hostname}', but the spec calls this node '${h.node.name}' (Pacemaker and corosync use uname -n)`);
  const missing = requiredBinaries(ctx.model).filter((b) => !f.binaries[b]);
  if (missing.length) problems.push(`missing programs: ${missing.join(", ")}`);
  const loader = cibLoader(ctx.rendered, (b) => Boolean(f.binaries[b]));
  if ("problem" in loader) problems.push(loader.problem);
  const links = ctx.model.nodes.find((n) => n.name === h.node.name)!.links;
  ctx.model.linkInterfaces.forEach((nic, i) => {
    if (!f.interfaces.includes(nic)) problems.push(`link ${i} interface ${nic} does not exist (has: ${f.interfaces.join(", ")})`);
    if (!f.addresses.includes(links[i]!)) problems.push(`link ${i} address ${links[i]} is not configured on this host`);
  });
  problems.push(...versionProblems(ctx.model, f));
  if (PG_CTL_UNSAFE.test(ctx.model.postgresql.bindir)) problems.push(`bindir ${JSON.stringify(ctx.model.postgresql.bindir)} holds a character that pg_ctl's shell would act on (" $ \` \\ or a line break)`);
  problems.push(...symlinkProblems([...ctx.model.directories.map((d) => d.path), ...ctx.rendered.files.filter((r) => r.node === h.node.name).map((r) => r.path)], f));
  if (f.dataDirectory === "initialized" && f.pgVersion !== ctx.model.postgresql.version) {
    problems.push(`data directory ${ctx.model.postgresql.dataDirectory} holds PostgreSQL ${f.pgVersion ?? "?"}, the spec says ${ctx.model.postgresql.version}`);
  }
  if (problems.length) throw new TaskError(h.node.name, problems.join("; "));
  return { changed: false };
}

async function directories(ctx: RunCtx, h: HostCtx): Promise<TaskResult> {
  const todo = ctx.model.directories.filter((d) => {
    const f = h.facts.directories[d.path];
    return !f || f.owner !== d.owner || f.group !== d.group || f.mode !== d.mode;
  });
  if (todo.length && !ctx.check) {
    await must(ctx, h, todo.map(directoryCommand).join(" && "));
  }
  return { changed: todo.length > 0, msg: todo.map((d) => d.path).join(", ") };
}

/** Fails the command, with a message, when `path` is a symbolic link. */
const refuseLink = (path: string) => `if [ -L ${shq(path)} ]; then echo ${shq(`${path} is a symbolic link: pgha does not write through links`)} >&2; exit 1; fi`;

/**
 * Makes `d` a directory with its owner and mode, never acting through a link: a link there is refused,
 * chown -h changes a link that appears meanwhile and not its target, and the mode is set as the owner,
 * who can change no one else's file.
 */
export function directoryCommand(d: ManagedDirectory): string {
  const p = shq(d.path);
  return [
    refuseLink(d.path),
    `if [ ! -d ${p} ]; then mkdir -p ${shq(posix.dirname(d.path))} && mkdir -m ${shq(d.mode)} ${p}; fi`,
    `chown -h ${shq(`${d.owner}:${d.group}`)} ${p}`,
    asUser(d.owner, `chmod ${shq(d.mode)} ${p}`),
  ].join(" && ");
}

/** Where copies of files' previous versions go: under PGHA_DIR, which only root can enter. */
export const BACKUP_DIR = posix.join(PGHA_DIR, "backup");
export const backupPath = (path: string, backups = BACKUP_DIR) => posix.join(backups, path);

/**
 * Atomic replace, run as the file's owner (who owns its directory, and could swap any name there for a
 * link): write a temp file beside the target, set group and mode, rename over it without following a
 * link. Root first keeps a copy of the previous version under backupPath; for a secret file no copy is
 * kept (it would keep the old secret), and the copy that earlier versions left beside it is removed.
 */
export function writeFileCommand(c: FileChange, backups = BACKUP_DIR): string {
  const p = shq(c.path);
  const og = shq(`${c.owner}:${c.group}`);
  if (c.action === "attributes") return [refuseLink(c.path), `chown -h ${og} ${p}`, asUser(c.owner, `chmod ${shq(c.mode)} ${p}`)].join(" && ");
  const backup = backupPath(c.path, backups);
  return [
    refuseLink(c.path),
    c.secret ? `rm -f ${shq(`${c.path}.pgha-backup`)}` : `if [ -f ${p} ] && [ ! -L ${p} ]; then install -d -m 0700 ${shq(backups)} ${shq(posix.dirname(backup))} && cp -P --preserve=mode,ownership,timestamps ${p} ${shq(backup)}; fi`,
    asUser(
      c.owner,
      [`install -d ${shq(posix.dirname(c.path))}`, `t=$(mktemp ${shq(`${c.path}.pgha-XXXXXX`)})`, `{ cat > "$t" && chown ${og} "$t" && chmod ${shq(c.mode)} "$t" && mv -fT "$t" ${p} || { rm -f "$t"; exit 1; }; }`].join(" && "),
    ),
  ].join(" && ");
}

/** args.match / args.exclude: regular expressions on the path, to split files between tasks (and handlers). */
async function files(ctx: RunCtx, h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  const match = typeof args.match === "string" ? new RegExp(args.match) : undefined;
  const exclude = typeof args.exclude === "string" ? new RegExp(args.exclude) : undefined;
  const changes = ctx.rendered.files
    .filter((f) => f.node === h.node.name && (!match || match.test(f.path)) && !exclude?.test(f.path))
    .map((f) => planFile(f, h.facts))
    .filter((c) => c.action !== "none");
  if (!ctx.check) for (const c of changes) await must(ctx, h, writeFileCommand(c), c.action === "attributes" ? undefined : c.content);
  return { changed: changes.length > 0, msg: changes.map((c) => `${c.path} (${c.reasons.join(", ")})`).join("; ") };
}

/** state: started | stopped | restarted (always acts). Several names act in the order given. */
async function service(ctx: RunCtx, h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  const names = ([] as string[]).concat(args.name as string | string[]);
  const want = String(args.state ?? "started");
  if (!["started", "stopped", "restarted"].includes(want)) throw new TaskError(h.node.name, `service: unknown state '${want}' (started, stopped or restarted)`);
  const changed: string[] = [];
  for (const name of names) {
    const active = (await exec(ctx, h, `systemctl is-active --quiet ${shq(name)}`)).code === 0;
    if (want !== "restarted" && active === (want === "started")) continue;
    changed.push(name);
    const verb = want === "started" ? "start" : want === "stopped" ? "stop" : "restart";
    if (!ctx.check) await must(ctx, h, `systemctl ${verb} ${shq(name)}`);
  }
  return { changed: changed.length > 0, msg: changed.length ? `${want}: ${changed.join(", ")}` : undefined };
}

/**
 * A raw command, for what no module covers. `creates`: skip when that path exists (so the command runs
 * once); `changed_when: false` for read-only commands. In check mode nothing runs.
 */
async function command(ctx: RunCtx, h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  if (typeof args.cmd !== "string" || !args.cmd) throw new TaskError(h.node.name, "command: args.cmd is required");
  if (typeof args.creates === "string" && (await exec(ctx, h, `test -e ${shq(args.creates)}`)).code === 0) {
    return { changed: false, msg: `${args.creates} exists` };
  }
  const changed = args.changed_when !== false;
  if (ctx.check) return { changed, msg: changed ? `would run: ${args.cmd}` : undefined };
  await must(ctx, h, args.cmd);
  return { changed };
}

/** Clearing the CIB with Pacemaker running on any node would let that node push the old CIB back. */
async function cibClear(ctx: RunCtx, h: HostCtx): Promise<TaskResult> {
  const running = [];
  for (const other of ctx.hosts) {
    if ((await exec(ctx, other, "systemctl is-active --quiet pacemaker")).code === 0) running.push(other.node.name);
  }
  if (running.length && !ctx.check) throw new TaskError(h.node.name, `refusing to clear the CIB: Pacemaker is still running on ${running.join(", ")}`);
  const present = (await must(ctx, h, "ls -A /var/lib/pacemaker/cib 2>/dev/null || true")).trim();
  if (present && !ctx.check) await must(ctx, h, "rm -f /var/lib/pacemaker/cib/*");
  return { changed: present !== "" };
}

/** Standbys copy from the primary's own address on the last link (the replication LAN when there are two). */
const primaryAddress = (ctx: RunCtx) => ctx.model.nodes.find((n) => n.isPrimary)!.links.at(-1)!;

async function pgBootstrap(ctx: RunCtx, h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  const pg = ctx.model.postgresql;
  const d = shq(pg.dataDirectory);
  const initdb = shq(`${pg.bindir}/initdb`);
  const shared = ctx.model.topology === "shared-disk";
  const running = async () => (await exec(ctx, h, pgCtl(ctx, "status"))).code === 0;
  if (args.role === "finish") {
    const was = await running();
    if (was && !ctx.check) await must(ctx, h, pgCtl(ctx, "-m fast -w -t 120 stop"));
    if (shared && !ctx.check) await must(ctx, h, `if mountpoint -q ${shq(ctx.model.sharedDisk!.mountpoint)}; then umount ${shq(ctx.model.sharedDisk!.mountpoint)}; fi`);
    return { changed: was, msg: was ? "stopped the bootstrap instance; Pacemaker starts it from now on" : undefined };
  }
  if (args.role === "standby") {
    if (shared || h.facts.dataDirectory === "initialized") return { changed: false };
    if (ctx.check) return { changed: true, msg: "would copy the primary with pg_basebackup" };
    await must(ctx, h, copyPrimaryCommand(ctx, primaryAddress(ctx)));
    return { changed: true, msg: `copied from ${primaryAddress(ctx)}` };
  }
  // The designated primary: initdb only into an empty directory, never over data.
  let changed = false;
  const msgs: string[] = [];
  if (shared) {
    const m = shq(ctx.model.sharedDisk!.mountpoint);
    if (!ctx.check) await must(ctx, h, `install -d ${m} && if ! mountpoint -q ${m}; then mount ${shq(ctx.model.sharedDisk!.device)} ${m}; fi`);
  }
  const state = shared ? (await must(ctx, h, `if [ -f ${d}/PG_VERSION ]; then echo initialized; else echo empty; fi`)).trim() : h.facts.dataDirectory;
  if (state !== "initialized") {
    changed = true;
    msgs.push("initdb");
    if (!ctx.check) {
      await must(ctx, h, `${directoryCommand({ path: pg.dataDirectory, owner: pg.osUser, group: pg.osGroup, mode: "0700" })} && ` + asPostgres(ctx, `${initdb} -D ${d} -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256`));
    }
  }
  if (ctx.check || shared || !pg.replication) return { changed, msg: msgs.join(", ") };
  // Standbys copy from this instance, and the replication role must exist first.
  if (!(await running())) {
    // No synchronous standby exists yet: with synchronous_standby_names set, creating the role would wait forever.
    await must(ctx, h, pgCtl(ctx, `${pgCtlOption({ config_file: pg.configFile, synchronous_standby_names: "" })} -l /var/log/postgresql/pgha-bootstrap.log -w -t 120 start`));
  }
  const role = pg.replication.user;
  const sql = [
    `DO $pgha$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE "${role}" WITH REPLICATION LOGIN; END IF; END $pgha$;`,
    ...setPasswordSql(role, ctx.model.replicationPassword ?? ""),
    // pg_rewind without a superuser (PostgreSQL 11 and later): exactly the functions its documentation lists.
    ...(pg.version >= 11 ? ["pg_ls_dir(text, boolean, boolean)", "pg_stat_file(text, boolean)", "pg_read_binary_file(text)", "pg_read_binary_file(text, bigint, bigint, boolean)"].map((f) => `GRANT EXECUTE ON FUNCTION pg_catalog.${f} TO "${role}";`) : []),
  ].join("\n");
  await must(ctx, h, psqlScript(ctx), sql);
  return { changed: true, msg: [...msgs, `replication role ${role}`].join(", ") };
}

/**
 * psql input (stdin, never the command line) that sets a role's password. The password goes into a psql
 * variable (psql's own quoting: '' for a quote, \\ for a backslash) and reaches SQL as :'pw', which psql
 * quotes for the server's actual standard_conforming_strings (E'' when it holds a backslash): no server
 * setting can turn a password into SQL. Secrets hold no newline (secretValue refuses one). The session
 * first stops the server from logging the statement (as run, slow, or failed) or keeping it in
 * pg_stat_statements (a placeholder setting where that module is not loaded).
 */
export function setPasswordSql(role: string, password: string): string[] {
  if (/[\r\n]/.test(password)) throw new Error("a password with a line break reached setPasswordSql");
  return [
    "SET log_statement = 'none';",
    "SET log_min_duration_statement = -1;",
    "SET log_min_error_statement = panic;",
    "SET pg_stat_statements.track_utility = off;",
    `\\set pgha_pw '${password.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`,
    `ALTER ROLE "${role}" WITH REPLICATION LOGIN PASSWORD :'pgha_pw';`,
    "\\unset pgha_pw",
  ];
}

/**
 * Reloads a running PostgreSQL, then reports the parameters that only a restart applies: pgha never
 * restarts the database behind Pacemaker's back, it says what is pending.
 */
async function pgReload(ctx: RunCtx, h: HostCtx): Promise<TaskResult> {
  const pending = await pendingRestart(ctx, h, !ctx.check);
  if (pending === undefined || ctx.check) return { changed: pending !== undefined };
  return { changed: true, msg: pending.length ? `restart pending for: ${pending.join(", ")} (apply --rolling-restart, or a restart through Pacemaker, applies them)` : undefined };
}

/**
 * The parameters this host's PostgreSQL waits to restart for, after a reload (PostgreSQL only marks
 * them once it has re-read its files); undefined when it is not running.
 */
async function pendingRestart(ctx: RunCtx, h: HostCtx, reload: boolean): Promise<string[] | undefined> {
  if ((await exec(ctx, h, pgCtl(ctx, "status"))).code !== 0) return undefined;
  // The reload is asynchronous; give the postmaster a moment before asking what is pending.
  if (reload) await must(ctx, h, `${pgCtl(ctx, "reload")} && sleep 1`);
  const out = await must(ctx, h, psqlRows(ctx, "SELECT name FROM pg_settings WHERE pending_restart ORDER BY name"));
  return out.split("\n").filter(Boolean);
}

/**
 * Brings the live CIB to cluster.crm as a patch (the pcs way), and only when it differs: an unchanged
 * configuration never touches the CIB, and elements the spec dropped are removed. In maintenance mode
 * the CIB changes all the same (that is what maintenance windows are for); Pacemaker acts later.
 */
async function crmLoad(ctx: RunCtx, h: HostCtx): Promise<TaskResult> {
  // crm_predict compared already: nothing to load, or (check mode) nothing more to say.
  if (ctx.cibPlan && !ctx.cibPlan.changed) return { changed: false };
  // The pgsql agent's node_list first, in place: the patch would restart every instance for it.
  const inPlace = await nodeListInPlace(ctx, h);
  if (ctx.cibPlan && ctx.check) return { changed: true, msg: inPlace };
  if (ctx.cibPlan?.prediction?.rolls && ctx.model.topology !== "shared-disk" && !(await maintenanceOn(ctx, h))) {
    return { changed: true, msg: [inPlace, await rolledCibChange(ctx, h, 300)].filter(Boolean).join("; ") };
  }
  // The patch is applied by the command that builds it (its scratch files go when it ends): the status before it is read first.
  const before = ctx.cibPlan && !ctx.check ? await clusterStatus(ctx, h) : undefined;
  const cib = desiredCib(ctx.rendered, (b) => Boolean(h.facts.binaries[b]), { clear: ctx.clear, then: ctx.check ? undefined : applyCibPatch() });
  const out = await must(ctx, h, cib.script, cib.stdin);
  const changed = /^CHANGED$/m.test(out);
  if (changed && ctx.cibPlan && !ctx.check) await settleAndVerify(ctx, h, before);
  const maintenance = changed && truthy(/^maintenance-mode=(.*)$/m.exec(out)?.[1] ?? "");
  const msg = [inPlace, maintenance ? "maintenance-mode is on: Pacemaker acts on this change only when maintenance mode ends" : undefined].filter(Boolean).join("; ");
  return { changed: changed || inPlace !== undefined, msg: msg || undefined };
}

export async function clusterStatus(ctx: RunCtx, h: HostCtx): Promise<ClusterStatus | undefined> {
  const r = await exec(ctx, h, "crm_mon -1 --output-as=xml");
  if (r.code !== 0) return undefined;
  try {
    return parseCrmMon(r.stdout);
  } catch {
    return undefined;
  }
}

/** Nodes that run no resources, or that Pacemaker leaves alone: in standby or in maintenance. */
const awayNodes = (s: ClusterStatus) => s.nodes.filter((n) => n.standby || n.maintenance).map((n) => n.name);

/**
 * Why Pacemaker will not bring PostgreSQL and its VIPs to their roles now, when a switch set by hand
 * holds them back: maintenance mode, or the resource (its clone's or group's switch included) unmanaged
 * or held at target-role Stopped or Unpromoted. Waiting for them would be in vain.
 */
export function heldBack(s: ClusterStatus | undefined, model: ClusterModel): string | undefined {
  if (!s) return undefined;
  if (s.maintenanceMode) return "maintenance-mode is on";
  const ids = model.resourceIds;
  const r = s.resources.find((x) => (x.id === ids.postgresql || x.parent === ids.group) && (!x.managed || /^(Stopped|Unpromoted|Slave)$/i.test(x.targetRole ?? "")));
  return r && (r.managed ? `${r.id} is held at target-role=${r.targetRole}` : `${r.id} is not managed`);
}

/** What is still missing for `condition`, or nothing when it holds. `failed`: nodes not waited for (they need pgha recover, or are down). */
export function missingFor(condition: string, s: ClusterStatus | undefined, model: ClusterModel, replicating: string[], failed: string[] = []): string[] {
  if (!s) return ["Pacemaker is not answering"];
  const missing: string[] = [];
  if (!s.quorum) missing.push("quorum");
  const offline = model.nodes.filter((n) => !failed.includes(n.name) && !s.nodes.some((x) => x.name === n.name && x.online)).map((n) => n.name);
  if (offline.length) missing.push(`nodes online: ${offline.join(", ")}`);
  if (condition === "online" || missing.length) return missing;
  const pgId = model.resourceIds.postgresql;
  const instances = s.resources.filter((r) => r.id === pgId);
  if (model.topology === "shared-disk") {
    const group = s.resources.filter((r) => r.parent === model.resourceIds.group);
    const bad = group.filter((r) => r.role !== "Started" || r.nodes.length !== 1);
    if (!group.length || bad.length) missing.push(`group ${model.resourceIds.group} started (${bad.map((r) => `${r.id}: ${r.role || "?"}`).join(", ") || "not found"})`);
    return missing;
  }
  const primaries = instances.filter((r) => /^(Promoted|Master)$/.test(r.role)).flatMap((r) => r.nodes);
  if (primaries.length !== 1) missing.push(`one promoted ${pgId} (now: ${primaries.join(", ") || "none"})`);
  // A node in standby or maintenance (the operator's switch) is not expected to run a standby.
  // Nor is a node where Pacemaker gave up on PostgreSQL: it waits for pgha recover, not for time.
  const standbys = model.nodes.map((n) => n.name).filter((n) => !primaries.includes(n) && !awayNodes(s).includes(n) && !failed.includes(n));
  const notStandby = standbys.filter((n) => !instances.some((r) => r.nodes.includes(n) && /^(Unpromoted|Slave)$/.test(r.role)));
  if (notStandby.length) missing.push(`standby role on ${notStandby.join(", ")}`);
  const notStreaming = standbys.filter((n) => !replicating.includes(n));
  if (notStreaming.length) missing.push(`streaming replication from ${notStreaming.join(", ")}`);
  if (model.postgresql.agent === "pgsql" && primaries.length === 1) {
    const attr = `${pgId}-status`;
    const statusOf = (n: string) => s.nodes.find((x) => x.name === n)?.attributes[attr];
    if (statusOf(primaries[0]!) !== "PRI") missing.push(`${attr}=PRI on ${primaries[0]}`);
    const hs = standbys.map(statusOf);
    if (hs.length && (model.postgresql.replication?.mode === "sync" ? !hs.includes("HS:sync") : hs.some((v) => !v?.startsWith("HS:")))) {
      missing.push(`${attr}=${model.postgresql.replication?.mode === "sync" ? "HS:sync" : "HS:async"} on a standby (now: ${hs.join(", ")})`);
    }
    // check_wal_receiver: the agent's monitor marks a standby ERROR when it ran before the WAL receiver
    // started, until its next monitor. Wait for that one, so that crm_mon -A shows the truth once apply ends.
    const receiver = `${pgId}-receiver-status`;
    const stale = standbys.filter((n) => replicating.includes(n) && s.nodes.find((x) => x.name === n)?.attributes[receiver] === "ERROR");
    if (stale.length) missing.push(`${receiver}=normal on ${stale.join(", ")} (now: ERROR)`);
  }
  const vips = s.resources.filter((r) => r.parent === model.resourceIds.group);
  if (primaries.length === 1 && vips.some((r) => !r.nodes.includes(primaries[0]!))) missing.push(`VIPs on ${primaries[0]}`);
  return missing;
}

/** Polls `missing` until it returns nothing; on timeout the error says what is still missing. */
export async function poll(ctx: RunCtx, h: HostCtx, what: string, timeout: unknown, missing: () => Promise<string[]>): Promise<void> {
  const start = Date.now();
  const deadline = start + Number(timeout ?? 300) * 1000;
  for (;;) {
    const m = await missing();
    if (!m.length) return;
    if (Date.now() > deadline) throw new TaskError(h.node.name, `timed out after ${timeout ?? 300}s waiting for ${what}; still missing: ${m.join("; ")}`);
    ctx.progress?.(h.node.name, `waiting for ${what}: ${m.join("; ")}, ${Math.round((Date.now() - start) / 1000)} s of ${timeout ?? 300} s`);
    await new Promise((r) => setTimeout(r, ctx.pollSeconds * 1000));
  }
}

/**
 * The playbook's wait_for step: settled when the facts were read, and no task has changed anything since,
 * is nothing to wait for. Only here: a module that waits after its own action (a restart, a recover)
 * has not reported its change yet, and must always ask the cluster afresh (waitFor).
 */
function waitForStep(ctx: RunCtx, h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> | TaskResult {
  const e = ctx.check ? undefined : ctx.early?.();
  if (e && !heldBack(e.cluster, ctx.model) && !missingFor(String(args.condition), e.cluster, ctx.model, e.streaming, ctx.down).length) {
    const away = awayNodes(e.cluster);
    return { changed: false, msg: away.length ? `not waited for ${away.join(", ")}: in standby or maintenance` : undefined };
  }
  return waitFor(ctx, h, args);
}

export async function waitFor(ctx: RunCtx, h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  if (ctx.check) return { changed: false };
  const condition = String(args.condition);
  let s: ClusterStatus | undefined;
  let held: string | undefined;
  let failed: RecoveryNeed[] = [];
  await poll(ctx, h, condition, args.timeout, async () => {
    s = await clusterStatus(ctx, h);
    held = condition === "replication" ? heldBack(s, ctx.model) : undefined;
    if (held) return [];
    // Only where the playbook asks (after a change, not while a job of pgha's own brings a node back).
    failed = condition === "replication" && args.failed === "report" && s ? failedStandbys(s, ctx.model) : [];
    let replicating: string[] = [];
    const primary = promotedNode(s, ctx.model.resourceIds.postgresql);
    const ph = ctx.hosts.find((x) => x.node.name === primary);
    if (condition === "replication" && ph) {
      const r = await exec(ctx, ph, psqlRows(ctx, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'"));
      replicating = r.code === 0 ? r.stdout.split("\n").filter(Boolean) : [];
    }
    return missingFor(condition, s, ctx.model, replicating, [...failed.map((f) => f.node), ...(ctx.down ?? [])]);
  });
  if (failed.length) throw new TaskError(h.node.name, `${failed.map(recoveryWarning).join("; ")}. The rest of the cluster is as the spec says; nothing that needs every node ran after this`);
  const away = s ? awayNodes(s) : [];
  return { changed: false, msg: held ? `not waited for the primary and standbys: ${held}` : away.length ? `not waited for ${away.join(", ")}: in standby or maintenance` : undefined };
}

/** Standbys that Pacemaker gave up on (a fail count, no standby running): they need pgha recover, not a wait. */
const failedStandbys = (s: ClusterStatus, model: ClusterModel): RecoveryNeed[] =>
  recoveryNeeds(model, s).filter((r) => r.reasons.some((x) => x.startsWith("fail count")) && r.reasons.some((x) => x.includes("not running as a standby")));

/** The node that runs PostgreSQL as primary (promoted, or started for the shared disk). */
export const runningPrimary = (s: ClusterStatus | undefined, postgresql: string): string | undefined =>
  s?.resources.find((r) => r.id === postgresql && /^(Promoted|Master|Started)$/.test(r.role))?.nodes[0];

/** Stops Pacemaker everywhere, standbys first and the primary last, then corosync; returns the primary. */
async function stopCluster(ctx: RunCtx, h: HostCtx): Promise<string | undefined> {
  const primary = runningPrimary(await clusterStatus(ctx, h), ctx.model.resourceIds.postgresql);
  const order = [...ctx.hosts.filter((x) => x.node.name !== primary), ...ctx.hosts.filter((x) => x.node.name === primary)];
  for (const x of order) await service(ctx, x, { name: "pacemaker", state: "stopped" });
  // corosync too, once Pacemaker is down everywhere: the start then runs the corosync.conf on disk.
  await Promise.all(ctx.hosts.map((x) => service(ctx, x, { name: "corosync", state: "stopped" })));
  return primary;
}

async function startCluster(ctx: RunCtx, h: HostCtx, timeout: unknown): Promise<void> {
  await Promise.all(ctx.hosts.map((x) => service(ctx, x, { name: "pacemaker", state: "started" })));
  await waitFor(ctx, h, { condition: "online", timeout: timeout ?? 180 });
}

/** After a whole-cluster restart: the same primary is promoted again, with its standbys streaming. */
async function expectPrimary(ctx: RunCtx, h: HostCtx, primary: string | undefined, timeout: unknown, what: string): Promise<string | undefined> {
  await waitFor(ctx, h, { condition: "replication", timeout: timeout ?? 300 });
  const after = runningPrimary(await clusterStatus(ctx, h), ctx.model.resourceIds.postgresql);
  if (primary && after !== primary) throw new TaskError(h.node.name, `${what}, but the primary moved from ${primary} to ${after ?? "nowhere"}`);
  return after;
}

/**
 * The operators' manual's CIB reload (stop Pacemaker everywhere, rm -f /var/lib/pacemaker/cib/*, start,
 * load the crm file), run so that the primary stays the primary: standbys stop first, so Pacemaker has
 * nowhere to fail over to, and the primary last, so the pgsql agent removes PGSQL.lock on a clean stop.
 * Permanent node attributes (pgsql-data-status: which node holds the latest data; standby) live in the
 * CIB too: they are saved first and written back before the configuration is loaded.
 */
async function cibRebuild(ctx: RunCtx, h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  if (ctx.down?.length) throw new TaskError(h.node.name, `refusing to rebuild the CIB while ${ctx.down.join(", ")} is down: it stops and starts every node. Nothing was changed`);
  if (ctx.check) return { changed: true, msg: `would stop Pacemaker on every node (${runningPrimary(await clusterStatus(ctx, h), ctx.model.resourceIds.postgresql) ?? "no primary"} last), clear the CIB, start it and load cluster.crm` };
  const attributes = permanentNodeAttributes(await must(ctx, h, "cibadmin -Q -o nodes"));
  const primary = await stopCluster(ctx, h);
  for (const x of ctx.hosts) await cibClear(ctx, x);
  await startCluster(ctx, h, args.timeout);
  for (const [node, attrs] of Object.entries(attributes)) {
    for (const [name, value] of Object.entries(attrs)) {
      // --update=VALUE: Pacemaker 2.1.5's crm_attribute misreads a value that starts with '-' after -v.
      await must(ctx, h, `crm_attribute -l forever -N ${shq(node)} -n ${shq(name)} --update=${shq(value)}`);
    }
  }
  await crmLoad(ctx, h);
  const after = await expectPrimary(ctx, h, primary, args.timeout, "the CIB was rebuilt");
  return { changed: true, msg: `CIB rebuilt; primary ${after ?? "-"}, ${Object.keys(attributes).length} node(s)' permanent attributes kept` };
}

/**
 * What corosync on this host runs with: nothing (not running); the file on disk, when corosync started
 * after it was last written; else the copy pgha kept when it last applied it; else (a cluster pgha has
 * not reconfigured before) the file as it was before this run.
 */
async function corosyncRunning(ctx: RunCtx, x: HostCtx): Promise<{ state: string; recorded: boolean; content?: string }> {
  const f = ctx.rendered.files.find((r) => r.node === x.node.name && r.path === COROSYNC_CONF);
  const differed = f !== undefined && planFile(f, x.facts).action !== "none";
  const fx = x.facts;
  // The facts settle it when the file was already right: corosync runs it, or runs the same kept copy.
  if (f && !differed && (fx.services.corosync !== "active" || fx.corosyncRunsFile || fx.corosyncRecorded)) {
    return fx.services.corosync === "active" ? { state: "file", recorded: fx.corosyncRecorded, content: f.content } : { state: "inactive", recorded: fx.corosyncRecorded };
  }
  const writtenNow = !ctx.check && differed;
  const c = COROSYNC_CONF;
  const out = await must(
    ctx,
    x,
    [
      `if cmp -s ${c} ${COROSYNC_APPLIED}; then echo recorded; fi`,
      `pid=$(pidof corosync) || { echo inactive; exit 0; }`,
      `start=$(( $(date +%s) - $(ps -o etimes= -p "\${pid%% *}") ))`,
      `if [ "$start" -gt "$(stat -c %Y ${c} 2>/dev/null || echo 0)" ]; then echo file; cat ${c}`,
      `elif [ -f ${COROSYNC_APPLIED} ]; then echo applied; cat ${COROSYNC_APPLIED}`,
      `elif ${writtenNow ? "true" : "false"} && [ -f ${backupPath(c)} ]; then echo backup; cat ${backupPath(c)}`,
      `else echo file; cat ${c}; fi`,
    ].join("\n"),
  );
  const recorded = out.startsWith("recorded\n");
  const rest = recorded ? out.slice("recorded\n".length) : out;
  const nl = rest.indexOf("\n");
  return nl < 0 || rest.startsWith("inactive") ? { state: "inactive", recorded } : { state: rest.slice(0, nl), recorded, content: rest.slice(nl + 1) };
}

/**
 * Brings running corosync to the corosync.conf on disk, cluster-wide: nothing when it already runs it,
 * `corosync-cfgtool -R` when every change can be made at run time, else a coordinated restart of the
 * whole cluster (Pacemaker stopped standbys first and the primary last, corosync restarted everywhere,
 * the same primary promoted again). What was applied is kept, so a run that stops half-way is finished
 * by the next one.
 */
async function corosyncApply(ctx: RunCtx, h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  const running = await Promise.all(ctx.hosts.map((x) => corosyncRunning(ctx, x)));
  const desired = ctx.hosts.map((x) => ctx.rendered.files.find((r) => r.node === x.node.name && r.path === COROSYNC_CONF)?.content ?? "");
  const changes = ctx.hosts.flatMap((x, i) => (running[i]!.content === undefined ? [] : [{ node: x.node.name, ...classifyCorosyncChange(running[i]!.content!, desired[i]!) }]));
  // corosync reads its authkey only at start.
  const rekeyed = ctx.authkeyReplaced?.length ? [`authkey (${ctx.authkeyReplaced.join(", ")})`] : [];
  const needRestart = [...new Set(changes.flatMap((c) => c.needRestart)), ...rekeyed];
  const changed = [...new Set(changes.flatMap((c) => c.changed)), ...rekeyed];
  // The copy is taken once the file on disk is what corosync runs (or will run when it starts).
  const record = () => Promise.all(ctx.hosts.map((x, i) => (running[i]!.recorded ? undefined : must(ctx, x, `install -d -m 0700 ${PGHA_DIR} && install -m 0600 ${COROSYNC_CONF} ${COROSYNC_APPLIED}`))));
  if (!changed.length) {
    if (!ctx.check) await record();
    return { changed: false };
  }
  const nodes = changes.filter((c) => c.apply !== "none").map((c) => c.node);
  if (!needRestart.length) {
    const msg = `reload on ${nodes.join(", ")}: ${changed.join(", ")}`;
    if (ctx.check) return { changed: true, msg: `would ${msg}` };
    const active = ctx.hosts.find((_, i) => running[i]!.state !== "inactive")!;
    await must(ctx, active, "corosync-cfgtool -R");
    await record();
    return { changed: true, msg };
  }
  const msg = `coordinated restart of the whole cluster: ${needRestart.join(", ")} cannot change at run time`;
  // Not recorded either: the next run finds the change still to apply.
  if (ctx.down?.length) return { changed: false, skipped: true, msg: `${msg}, and ${ctx.down.join(", ")} is down` };
  if (ctx.check) return { changed: true, msg: `would do a ${msg}` };
  const pacemakerRan = (await exec(ctx, h, "systemctl is-active --quiet pacemaker")).code === 0;
  const primary = await stopCluster(ctx, h);
  await record();
  if (pacemakerRan) {
    await startCluster(ctx, h, args.timeout);
    if ((h.facts.cib?.primitives ?? 0) > 0) await expectPrimary(ctx, h, primary, args.timeout, "corosync was restarted");
  }
  return { changed: true, msg };
}

/**
 * Restarts PostgreSQL through Pacemaker on one node: the node goes into standby until its instance has
 * stopped (for the primary that is the switchover: Pacemaker promotes the best standby and moves the
 * VIPs), then comes back and must stream again. The standby flag has the `reboot` lifetime, so even a
 * run that dies half-way leaves nothing a Pacemaker restart would not clear, and it is always removed.
 */
export async function restartThroughStandby(ctx: RunCtx, h: HostCtx, x: HostCtx, wasPrimary: boolean, timeout: unknown): Promise<string | undefined> {
  const pgId = ctx.model.resourceIds.postgresql;
  const pg = ctx.model.postgresql;
  const node = shq(x.node.name);
  let newPrimary: string | undefined;
  await must(ctx, h, `crm_attribute -N ${node} -n standby -l reboot --update=on`);
  try {
    await poll(ctx, h, `${pgId} to stop on ${x.node.name}`, timeout, async () => {
      const s = await clusterStatus(ctx, h);
      const still = s?.resources.filter((r) => r.id === pgId && r.nodes.includes(x.node.name)) ?? [];
      newPrimary = promotedNode(s, pgId);
      return [...still.map((r) => `${pgId} ${r.role} on ${x.node.name}`), ...(wasPrimary && (!newPrimary || newPrimary === x.node.name) ? ["a new primary"] : []), ...(s ? [] : ["Pacemaker is not answering"])];
    });
    if (wasPrimary && pg.agent === "pgsql" && pg.tmpdir) {
      // The pgsql agent keeps PGSQL.lock when a primary stops while a standby runs. This one stopped
      // cleanly and its sync standby, now primary, received everything up to the shutdown checkpoint,
      // so it may follow the new timeline as a standby.
      if ((await exec(ctx, x, pgCtl(ctx, "status"))).code === 0) throw new TaskError(x.node.name, "PostgreSQL still runs after Pacemaker stopped it");
      await must(ctx, x, `rm -f ${shq(`${pg.tmpdir}/PGSQL.lock`)}`);
    }
  } finally {
    await must(ctx, h, `crm_attribute -N ${node} -n standby -l reboot --delete`);
  }
  await waitFor(ctx, h, { condition: "replication", timeout });
  return newPrimary;
}

/**
 * The rolling restart for parameters that need one: the standbys one at a time, then the primary by a
 * switchover; each node must stream again before the next one goes. Only nodes whose PostgreSQL reports
 * pending_restart are touched.
 */
async function pgRollingRestart(ctx: RunCtx, h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  if (ctx.model.topology === "shared-disk") return { changed: false, msg: "a single instance: a restart there is a failover (crm resource restart), not rolled" };
  const pending = await Promise.all(ctx.hosts.map((x) => pendingRestart(ctx, x, !ctx.check)));
  const primary = promotedNode(await clusterStatus(ctx, h), ctx.model.resourceIds.postgresql);
  const todo = ctx.hosts.filter((_, i) => pending[i]?.length).sort((a, b) => Number(a.node.name === primary) - Number(b.node.name === primary));
  if (!todo.length) return { changed: false };
  if (ctx.down?.length) return { changed: false, skipped: true, msg: `${todo.map((x) => x.node.name).join(", ")} wait for a restart, and a rolling restart needs every node (${ctx.down.join(", ")} is down)` };
  // pg_minimums refused a lowered minimum before the files changed; files it did not see (an earlier run's,
  // a custom playbook's) are checked as PostgreSQL reads them now, before a standby restarts with them.
  const ph = ctx.hosts.find((x) => x.node.name === primary);
  const lowered = ph ? (await must(ctx, ph, psqlRows(ctx, LOWERED_IN_FILES_SQL))).split("\n").filter(Boolean) : [];
  if (ph && lowered.length) throw new TaskError(ph.node.name, loweredRefusal(lowered, ph.node.name));
  const params = [...new Set(pending.flatMap((p) => p ?? []))].join(", ");
  const plan = todo.map((x) => (x.node.name === primary ? `switchover, then ${x.node.name}` : x.node.name)).join(", ");
  if (ctx.check) return { changed: true, msg: `would restart ${plan} for ${params}` };
  let now = primary;
  for (const x of todo) now = (await restartThroughStandby(ctx, h, x, x.node.name === primary, args.timeout)) ?? now;
  return { changed: true, msg: `restarted ${plan} for ${params}; primary now ${now ?? "-"}` };
}

export type Module = (ctx: RunCtx, h: HostCtx, args: Record<string, unknown>) => Promise<TaskResult> | TaskResult;

export const MODULE_IMPLS: Record<ModuleName, Module> = {
  preflight,
  command,
  directories,
  files,
  service,
  cib_clear: cibClear,
  cib_rebuild: cibRebuild,
  corosync_apply: corosyncApply,
  // Called late: authkey.ts imports this module, and this one imports it back.
  corosync_authkey: (ctx, h, args) => corosyncAuthkey(ctx, h, args),
  pg_bootstrap: pgBootstrap,
  crm_predict: (ctx, h) => crmPredict(ctx, h),
  crm_load: crmLoad,
  cluster_boot: (ctx, h) => clusterBoot(ctx, h),
  wait_for: waitForStep,
  pg_reload: pgReload,
  pg_rolling_restart: pgRollingRestart,
  // Called late, as corosync_authkey: their files import this one.
  pg_recover: (ctx, h, args) => pgRecover(ctx, h, args),
  pg_switchover: (ctx, h, args) => pgSwitchover(ctx, h, args),
  node_join: (ctx, h, args) => nodeJoin(ctx, h, args),
  node_leave: (ctx, h, args) => nodeLeave(ctx, h, args),
  pg_minimums: (ctx, h) => pgMinimums(ctx, h),
  pg_password: (ctx, h) => pgPassword(ctx, h),
};
