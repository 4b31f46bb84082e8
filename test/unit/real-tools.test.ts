// Real-tool checks of what `pgha render` writes, for every example in inventories/: the crm file loads into an
// empty CIB with real crmsh and crm_verify accepts it, a PostgreSQL 15 server starts with the rendered
// postgresql.conf/pg_hba.conf/pg_ident.conf, and corosync accepts each corosync.conf except for not running on a
// cluster node. CI installs the Debian packages (test/lab/install-deps.sh); without them these tests skip, saying why.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, chmodSync, chownSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { applyCibPatch, desiredCibScript, type RuntimeState } from "../../src/cib-script.js";
import { main } from "../../src/cli.js";
import { runtimeSwitches, type RuntimeSwitch } from "../../src/runtime-switches.js";

const ROOT = join(import.meta.dirname, "..", "..");
const EXAMPLES = readdirSync(join(ROOT, "inventories"), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(ROOT, "inventories", d.name, "cluster.yml")))
  .map((d) => d.name)
  .sort();
const PASSWORD = "real-Tools-pw-3b8d";
const PG_BIN = "/usr/lib/postgresql/15/bin";

// ---------------------------------------------------------------------------------------------------------------
// Tools.

function which(cmd: string): string | undefined {
  if (cmd.startsWith("/")) return isExecutable(cmd) ? cmd : undefined;
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin", "/usr/bin"];
  return dirs.map((d) => join(d, cmd)).find(isExecutable);
}
function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
function missing(cmds: string[]): string[] {
  return cmds.filter((c) => !which(c));
}

const CRM_TOOLS = ["crm", "cibadmin", "crm_verify"];
const COROSYNC_TOOLS = ["corosync"];
const PG_TOOLS = ["initdb", "postgres", "pg_ctl", "pg_isready", "psql"].map((t) => join(PG_BIN, t));
const isRoot = process.getuid?.() === 0;
const PG_RUNNER = isRoot ? which("runuser") : undefined;
const missingCrm = missing(CRM_TOOLS);
const missingCorosync = missing(COROSYNC_TOOLS);
const missingPg = [...missing(PG_TOOLS), ...(isRoot && !PG_RUNNER ? ["runuser"] : [])];
const pgUserProblem = !isRoot && userInfo().username !== "postgres" ? "PostgreSQL checks run as root (through runuser -u postgres) or as the postgres user" : undefined;

function skipReason(what: string, absent: string[], extra?: string): string | undefined {
  const why = absent.length ? `missing ${absent.join(", ")} (install the Debian packages: bash test/lab/install-deps.sh)` : extra;
  if (why) console.warn(`real-tools: skipping the ${what} checks: ${why}`);
  return why;
}
const skipCrm = skipReason("crmsh/crm_verify", missingCrm);
const skipCorosync = skipReason("corosync", missingCorosync);
const skipPg = skipReason("PostgreSQL", missingPg, pgUserProblem);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; never throws for a non-zero exit. */
function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(which(cmd) ?? cmd, args, { env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], timeout: opts.timeoutMs ?? 30_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
const show = (r: Result) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** Memoised async work: started once (in beforeAll, so the examples run in parallel), awaited by the tests. */
function lazy<T>(f: () => Promise<T>): (() => Promise<T>) & { started: () => boolean } {
  let p: Promise<T> | undefined;
  const get = () => {
    if (!p) {
      p = f();
      p.catch(() => undefined); // reported by the test that awaits it
    }
    return p;
  };
  return Object.assign(get, { started: () => p !== undefined });
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering every example once.

const crmRuns = new Map(EXAMPLES.map((e) => [e, lazy(() => crmRun(ex(e)))]));
const servers = new Map(EXAMPLES.map((e) => [e, lazy(() => startPostgres(ex(e)))]));

let work: string;
const savedPassword = process.env.PGHA_REPL_PASSWORD;

interface Rendered {
  example: string;
  dir: string;
  crm: string;
  /** Node name -> corosync nodeid, from the spec. */
  nodes: [string, number][];
  primary: string;
}
const rendered = new Map<string, Rendered>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "pgha-real-tools-"));
  process.env.PGHA_REPL_PASSWORD = PASSWORD;
  for (const example of EXAMPLES) {
    const src = join(ROOT, "inventories", example);
    const dir = join(work, example, "out");
    const out: string[] = [];
    const code = await main(["render", "-i", join(src, "hosts.yml"), "-s", join(src, "cluster.yml"), "-o", dir], { out: (s) => out.push(s), err: (s) => out.push(s) });
    if (code !== 0) throw new Error(`pgha render ${example} failed:\n${out.join("\n")}`);
    const spec = parseYaml(readFileSync(join(src, "cluster.yml"), "utf8")) as { cluster: { nodes: { members: Record<string, { id: number }> } }; postgresql: { primary: string } };
    const nodes = Object.entries(spec.cluster.nodes.members).map(([n, m]) => [n, m.id] as [string, number]);
    rendered.set(example, { example, dir, crm: join(dir, "cluster.crm"), nodes, primary: spec.postgresql.primary });
  }
  // The slow parts (crmsh, initdb and server start) of every example run at once; the tests await them.
  for (const e of EXAMPLES) {
    if (!skipCrm) void crmRuns.get(e)!();
    if (!skipPg) void servers.get(e)!();
  }
  if (!skipCorosync) void corosyncRuns();
}, 30_000);

afterAll(async () => {
  // Always stop every server that was started, whatever the tests did.
  const started = await Promise.allSettled([...servers.values()].filter((s) => s.started()).map((s) => s()));
  await Promise.all(started.flatMap((s) => (s.status === "fulfilled" ? [stopPostgres(s.value)] : [])));
  // Let crmsh and corosync finish before their scratch files go.
  await Promise.allSettled([...[...crmRuns.values()].filter((r) => r.started()).map((r) => r()), ...(corosyncRuns.started() ? [corosyncRuns()] : [])]);
  if (savedPassword === undefined) delete process.env.PGHA_REPL_PASSWORD;
  else process.env.PGHA_REPL_PASSWORD = savedPassword;
  if (work) rmSync(work, { recursive: true, force: true });
}, 90_000);

const ex = (example: string): Rendered => {
  const r = rendered.get(example);
  if (!r) throw new Error(`${example} was not rendered`);
  return r;
};

/** Every file under dir, relative, sorted. */
function walk(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(dir, join(prefix, e.name)) : [join(prefix, e.name)]))
    .sort();
}

/** The one rendered file of `node` whose name is `name`. */
function nodeFile(r: Rendered, node: string, name: string): string {
  const hits = walk(join(r.dir, node)).filter((f) => f.split("/").pop() === name);
  if (hits.length !== 1) throw new Error(`expected one ${name} for ${node} in ${r.example}, found ${hits.length}`);
  return join(r.dir, node, hits[0]!);
}

// CI installs the packages, so there a missing tool is a failure, not a skip.
it.runIf(Boolean(process.env.CI))("has every tool it needs (CI)", () => {
  expect([skipCrm, skipCorosync, skipPg].filter(Boolean)).toEqual([]);
});

it("finds the examples", () => {
  expect(EXAMPLES).toEqual(expect.arrayContaining(["paf-3node", "shared-disk-2node", "sr-pgsql-2node"]));
});

// ---------------------------------------------------------------------------------------------------------------
// crmsh + crm_verify against a CIB file.

/**
 * An empty CIB (`cibadmin --empty`) with the example's nodes, quorum, and each node online in the status section.
 * Without the node_state entries a STONITH-enabled cluster would consider every node unclean, and crm_verify would
 * warn that it schedules fencing for them (exit 78): true, but nothing to do with the configuration under test.
 */
async function emptyCib(nodes: [string, number][]): Promise<string> {
  const empty = await sh("cibadmin", ["--empty"]);
  if (empty.code !== 0 || !/<nodes\/>/.test(empty.stdout) || !/<status\/>/.test(empty.stdout)) throw new Error(`unexpected cibadmin --empty output:\n${show(empty)}`);
  const nodeXml = nodes.map(([name, id]) => `<node id="${id}" uname="${name}"/>`).join("");
  const stateXml = nodes.map(([name, id]) => `<node_state id="${id}" uname="${name}" in_ccm="true" crmd="online" join="member" expected="member"/>`).join("");
  return empty.stdout
    .replace("<cib ", '<cib have-quorum="1" ')
    .replace("<nodes/>", `<nodes>${nodeXml}</nodes>`)
    .replace("<status/>", `<status>${stateXml}</status>`);
}

interface CrmRun {
  load1: Result;
  verify: Result;
  config1: Result;
  load2: Result;
  config2: Result;
}

async function crmRun(r: Rendered): Promise<CrmRun> {
  const dir = join(work, r.example, "crm");
  const home = join(dir, "home"); // no user crm.conf can change how crmsh reads the file
  mkdirSync(home, { recursive: true });
  const cib = join(dir, "cib.xml");
  writeFileSync(cib, await emptyCib(r.nodes));
  const env = { ...process.env, CIB_file: cib, HOME: home };
  const load = () => sh("crm", ["-D", "plain", "configure", "load", "update", r.crm], { env, timeoutMs: 60_000 });
  const query = () => sh("cibadmin", ["-Q", "-o", "configuration"], { env });
  const load1 = await load();
  const verify = await sh("crm_verify", ["-L", "-V"], { env });
  const config1 = await query();
  const load2 = await load();
  const config2 = await query();
  return { load1, verify, config1, load2, config2 };
}

/** Ids pgha wrote into cluster.crm: element ids, `$id=` set/rule ids and op `id=`s. */
function crmIds(crm: string): string[] {
  const ids: string[] = [];
  for (const line of crm.split("\n")) {
    const el = /^(?:primitive|group|clone|ms|location|colocation|order) (\S+)/.exec(line);
    if (el) ids.push(el[1]!);
    const set = /^(?:property|rsc_defaults|op_defaults) (\S+):/.exec(line);
    if (set) ids.push(set[1]!);
    for (const m of line.matchAll(/\$id=(\S+)/g)) ids.push(m[1]!);
    if (/^\s+op /.test(line)) for (const m of line.matchAll(/(?:^|\s)id=(\S+)/g)) ids.push(m[1]!);
  }
  return ids;
}

interface XmlElement {
  tag: string;
  attrs: Record<string, string>;
}
function xmlElements(xml: string): XmlElement[] {
  return [...xml.matchAll(/<([A-Za-z_][\w-]*)((?:\s+[\w:-]+="[^"]*")*)\s*\/?>/g)].map((m) => ({
    tag: m[1]!,
    attrs: Object.fromEntries([...m[2]!.matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])),
  }));
}

/** CIB elements whose ids must be the explicit ones from cluster.crm (crmsh would otherwise invent them). */
const EXPLICIT_ID_TAGS = ["primitive", "group", "clone", "master", "rsc_location", "rsc_colocation", "rsc_order", "op", "rule", "instance_attributes", "meta_attributes", "cluster_property_set"];

describe.skipIf(Boolean(skipCrm))("crmsh: the rendered cluster.crm loads into an empty CIB", { timeout: 90_000 }, () => {
  describe.each(EXAMPLES)("%s", (example) => {
    const run = () => crmRuns.get(example)!();

    it("crm configure load update exits 0 without errors or warnings", async () => {
      const { load1 } = await run();
      expect(load1.code, show(load1)).toBe(0);
      expect(stripAnsi(load1.stdout + load1.stderr), show(load1)).not.toMatch(/ERROR/);
      expect(stripAnsi(load1.stdout + load1.stderr), show(load1)).not.toMatch(/WARNING/);
    });

    it("crm_verify -L -V accepts the result", async () => {
      const { load1, verify } = await run();
      expect(load1.code).toBe(0);
      expect(verify.code, show(verify)).toBe(0);
      expect(verify.stdout + verify.stderr, show(verify)).not.toMatch(/error|warning/i);
    });

    it("a second load update changes nothing (no duplicated ids)", async () => {
      const { config1, load2, config2 } = await run();
      expect(config1.code, show(config1)).toBe(0);
      expect(load2.code, show(load2)).toBe(0);
      expect(stripAnsi(load2.stdout + load2.stderr)).not.toMatch(/ERROR/);
      expect(config1.stdout.length).toBeGreaterThan(0);
      expect(config2.stdout).toBe(config1.stdout);
      const ids = xmlElements(config2.stdout).flatMap((e) => (e.attrs.id ? [e.attrs.id] : []));
      expect(ids.filter((id, i) => ids.indexOf(id) !== i), "duplicate ids").toEqual([]);
    });

    it("every element, op, rule and attribute set carries the id pgha gave it", async () => {
      const { config1 } = await run();
      const crm = readFileSync(ex(example).crm, "utf8");
      const given = crmIds(crm);
      expect(new Set(given).size, "pgha's ids are unique").toBe(given.length);
      const elements = xmlElements(config1.stdout).filter((e) => EXPLICIT_ID_TAGS.includes(e.tag));
      const inCib = elements.map((e) => e.attrs.id ?? `<${e.tag} without id>`);
      expect(inCib.filter((id) => !given.includes(id)), "CIB ids crmsh made up").toEqual([]);
      expect(given.filter((id) => !inCib.includes(id)), "pgha ids missing from the CIB").toEqual([]);
      for (const op of elements.filter((e) => e.tag === "op")) {
        expect(op.attrs.id, JSON.stringify(op.attrs)).toMatch(new RegExp(`-${op.attrs.name}-${op.attrs.interval}$`));
      }
      // The property and defaults sets keep their conventional ids.
      expect(inCib).toContain("cib-bootstrap-options");
      expect(inCib).toContain("rsc-options");
    });

    it("names its operations explicitly, roles included", async () => {
      const { config1 } = await run();
      const ops = xmlElements(config1.stdout).filter((e) => e.tag === "op");
      const streaming = /topology: streaming-replication/.test(readFileSync(join(ROOT, "inventories", example, "cluster.yml"), "utf8"));
      if (streaming) {
        expect(ops).toContainEqual({ tag: "op", attrs: expect.objectContaining({ id: "pgsql-monitor-9s", name: "monitor", interval: "9s", role: "Promoted" }) });
        expect(ops).toContainEqual({ tag: "op", attrs: expect.objectContaining({ id: "pgsql-monitor-10s", name: "monitor", interval: "10s", role: "Unpromoted" }) });
      } else {
        expect(ops).toContainEqual({ tag: "op", attrs: expect.objectContaining({ id: "prmApPostgreSQLDB-monitor-10s", name: "monitor", interval: "10s" }) });
        expect(ops.some((o) => o.attrs.role)).toBe(false);
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL 15 with the rendered configuration files.

/** Settings the scratch server overrides on its command line; everything else comes from the rendered file. */
const PG_OVERRIDDEN = ["data_directory", "hba_file", "ident_file", "port", "unix_socket_directories", "listen_addresses", "archive_mode", "logging_collector"];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** argv that runs `cmd` as the postgres OS user. */
const asPostgres = (cmd: string, args: string[]): [string, string[]] => (isRoot ? [PG_RUNNER!, ["-u", "postgres", "--", cmd, ...args]] : [cmd, args]);
const pg = (tool: string, args: string[], timeoutMs?: number) => sh(...asPostgres(join(PG_BIN, tool), args), { timeoutMs });

interface PgServer {
  example: string;
  base: string;
  data: string;
  conf: string;
  socket: string;
  port: number;
  log: string;
  started: boolean;
  /** Problems on the way up, with the server log. */
  failure?: string;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const f of readdirSync(path, { recursive: true }) as string[]) chownSync(join(path, f), uid, gid);
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([sh("id", ["-u", "postgres"]), sh("id", ["-g", "postgres"])]);
  if (uid.code !== 0 || gid.code !== 0) throw new Error(`no postgres OS user:\n${show(uid)}`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

async function startPostgres(r: Rendered): Promise<PgServer> {
  const base = join(work, r.example, "pg");
  const s: PgServer = { example: r.example, base, data: join(base, "data"), conf: join(base, "conf"), socket: join(base, "sock"), port: await freePort(), log: join(base, "server.log"), started: false };
  mkdirSync(s.conf, { recursive: true });
  mkdirSync(s.socket, { recursive: true });
  for (const f of ["postgresql.conf", "pg_hba.conf", "pg_ident.conf"]) copyFileSync(nodeFile(r, r.primary, f), join(s.conf, f));
  if (isRoot) {
    const { uid, gid } = await postgresIds();
    chownSync(work, uid, gid); // the postgres user must be able to traverse into the scratch directories
    chownSync(join(work, r.example), uid, gid);
    chownTree(base, uid, gid);
  }
  chmodSync(base, 0o700);

  const init = await pg("initdb", ["-D", s.data, "-U", "postgres", "-A", "peer", "--no-sync", "--no-instructions"], 60_000);
  if (init.code !== 0) return { ...s, failure: `initdb failed:\n${show(init)}` };

  const overrides: Record<string, string> = {
    data_directory: s.data,
    hba_file: join(s.conf, "pg_hba.conf"),
    ident_file: join(s.conf, "pg_ident.conf"),
    port: String(s.port),
    unix_socket_directories: s.socket,
    listen_addresses: "127.0.0.1",
    archive_mode: "off",
    logging_collector: "off",
  };
  if (Object.keys(overrides).sort().join() !== [...PG_OVERRIDDEN].sort().join()) throw new Error("test setup: PG_OVERRIDDEN must list the overrides");
  const opts = Object.entries(overrides)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(" ");
  // pg_ctl runs `postgres -D <config dir> <opts>` in the background and waits until it accepts connections.
  const start = await pg("pg_ctl", ["start", "-D", s.conf, "-o", opts, "-l", s.log, "-w", "-t", "30"], 60_000);
  s.started = existsSync(join(s.data, "postmaster.pid"));
  const log = () => (existsSync(s.log) ? readFileSync(s.log, "utf8") : "(no log)");
  if (start.code !== 0) return { ...s, failure: `pg_ctl start failed:\n${show(start)}\n--- server log\n${log()}` };
  for (let i = 0; i < 100; i++) {
    const ready = await pg("pg_isready", ["-h", s.socket, "-p", String(s.port), "-d", "postgres"]);
    if (ready.code === 0) return s;
    await new Promise((res) => setTimeout(res, 100));
  }
  return { ...s, failure: `pg_isready never succeeded\n--- server log\n${log()}` };
}

async function stopPostgres(s: PgServer): Promise<void> {
  if (!existsSync(join(s.data, "postmaster.pid"))) return;
  // -D is the data directory here: pg_ctl finds postmaster.pid there (the config dir's data_directory is the production path).
  const stop = await pg("pg_ctl", ["stop", "-D", s.data, "-m", "fast", "-w", "-t", "30"], 60_000);
  if (stop.code !== 0 && existsSync(join(s.data, "postmaster.pid"))) {
    const pid = Number(readFileSync(join(s.data, "postmaster.pid"), "utf8").split("\n")[0]);
    if (pid > 0) process.kill(pid, "SIGQUIT"); // immediate shutdown of the server this test started
  }
}

async function psql(s: PgServer, sql: string): Promise<string> {
  const r = await pg("psql", ["-X", "-h", s.socket, "-p", String(s.port), "-U", "postgres", "-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]);
  if (r.code !== 0) throw new Error(`psql failed for ${sql}:\n${show(r)}`);
  return r.stdout.trim();
}

/** `name = value` lines of a rendered postgresql.conf. */
function confParameters(path: string): string[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => /^\s*[a-z_.]+\s*=/.test(l))
    .map((l) => l.split("=")[0]!.trim());
}

describe.skipIf(Boolean(skipPg))("PostgreSQL 15 starts with the rendered configuration", { timeout: 90_000 }, () => {
  describe.each(EXAMPLES)("%s (the primary's files)", (example) => {
    const server = async () => {
      const s = await servers.get(example)!();
      if (s.failure) throw new Error(s.failure);
      return s;
    };

    it("starts, listening on loopback only, with restart_after_crash off", async () => {
      const s = await server();
      expect(await psql(s, "SHOW restart_after_crash")).toBe("off");
      expect(await psql(s, "SHOW listen_addresses")).toBe("127.0.0.1");
      expect(await psql(s, "SHOW config_file")).toBe(join(s.conf, "postgresql.conf"));
    });

    it("accepts every rendered parameter", async () => {
      const s = await server();
      const conf = join(s.conf, "postgresql.conf");
      const names = confParameters(conf);
      expect(names.length).toBeGreaterThan(10);
      const rows = (await psql(s, `SELECT name || '|' || coalesce(error, '') FROM pg_file_settings WHERE sourcefile = '${conf}' ORDER BY seqno`)).split("\n");
      expect(rows.map((r) => r.split("|")[0]), "every line of the file was read").toEqual(names);
      // The only settings not applied are the ones this test overrides on the command line.
      const notApplied = rows.filter((r) => !r.endsWith("|")).map((r) => r.split("|")[0]);
      expect(notApplied.filter((n) => !PG_OVERRIDDEN.includes(n!)), rows.join("\n")).toEqual([]);
      const fromFile = Number(await psql(s, `SELECT count(*) FROM pg_settings WHERE source = 'configuration file' AND sourcefile = '${conf}'`));
      expect(fromFile).toBe(names.filter((n) => !PG_OVERRIDDEN.includes(n)).length);
    });

    it("accepts every pg_hba.conf rule", async () => {
      const s = await server();
      const hba = join(s.conf, "pg_hba.conf");
      const lines = readFileSync(hba, "utf8")
        .split("\n")
        .filter((l) => l.trim() && !l.trim().startsWith("#"));
      expect(await psql(s, "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL")).toBe("0");
      expect(Number(await psql(s, "SELECT count(*) FROM pg_hba_file_rules"))).toBe(lines.length);
      // The connection itself came through the rendered `local all postgres peer` rule.
      expect(await psql(s, "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'local' ORDER BY line_number LIMIT 1")).toBe("peer");
    });

    it("stops cleanly", async () => {
      const s = await server();
      const stop = await pg("pg_ctl", ["stop", "-D", s.data, "-m", "fast", "-w", "-t", "30"], 60_000);
      expect(stop.code, show(stop)).toBe(0);
      expect(existsSync(join(s.data, "postmaster.pid"))).toBe(false);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// corosync -t: off a cluster node, the only complaint must be that this host is not in the nodelist.

/** The local-host complaint and the exit line that follows it; anything else is a real problem with the file. */
const NOT_A_NODE = [/parse error in config: No valid name found for local host$/, /Corosync Cluster Engine exiting with status 8 at /];

/** A copy of the file that logs to stderr only (so the test sees corosync's complaints); nothing else changes. */
function loggingToStderr(conf: string): string {
  const out = conf.replace(/^(\s*to_stderr:) no$/m, "$1 yes").replace(/^(\s*to_logfile:) yes$/m, "$1 no").replace(/^(\s*to_syslog:) yes$/m, "$1 no");
  const after = out.split("\n");
  const changed = conf.split("\n").filter((l, i) => l !== after[i]).map((l) => l.trim().split(":")[0]);
  if (!changed.includes("to_stderr") || changed.some((k) => !["to_stderr", "to_logfile", "to_syslog"].includes(k!))) {
    throw new Error(`test setup: expected a logging section with to_stderr: no, got changes to ${changed.join(", ")}`);
  }
  return out;
}

async function corosyncTest(confText: string, name: string): Promise<{ result: Result; complaints: string[] }> {
  const dir = join(work, "corosync");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.conf`);
  // With crypto on, corosync reads its authkey: a scratch one stands in for /etc/corosync/authkey.
  const key = join(dir, "authkey");
  if (!existsSync(key)) writeFileSync(key, randomBytes(256), { mode: 0o400 });
  writeFileSync(file, confText.replace(/^(\s*)crypto_hash: .*$/m, `$&\n$1keyfile: ${key}`));
  // corosync resolves the node names while looking for itself; keep an unreachable DNS from stalling the test.
  const env = { ...process.env, RES_OPTIONS: "single-request timeout:1 attempts:1" };
  const result = await sh("corosync", ["-t", "-c", file], { env, timeoutMs: 30_000 });
  const complaints = (result.stdout + result.stderr).split("\n").filter((l) => l.trim());
  return { result, complaints };
}

/** Every node's file of every example, all at once (corosync mostly waits on name lookups). */
const corosyncRuns = lazy(async () => {
  const all = EXAMPLES.flatMap((e) => ex(e).nodes.map(([node]) => ({ example: e, node, path: join(ex(e).dir, node, "etc", "corosync", "corosync.conf") })));
  const runs = await Promise.all(all.map((f) => corosyncTest(loggingToStderr(readFileSync(f.path, "utf8")), `${f.example}-${f.node}`)));
  return { all, runs };
});

describe.skipIf(Boolean(skipCorosync))("corosync -t accepts every rendered corosync.conf (except that this host is no node)", { timeout: 60_000 }, () => {
  it("each node's corosync.conf has only the not-in-nodelist complaint", async () => {
    const { all, runs } = await corosyncRuns();
    expect(all.length).toBe(EXAMPLES.reduce((n, e) => n + ex(e).nodes.length, 0));
    runs.forEach(({ result, complaints }, i) => {
      const what = `${all[i]!.example}/${all[i]!.node}: ${show(result)}`;
      expect(result.code, what).toBe(8);
      expect(complaints.length, what).toBe(NOT_A_NODE.length);
      complaints.forEach((c, k) => expect(c, what).toMatch(NOT_A_NODE[k]!));
    });
  });

  it("would report a real problem (control: a broken token value)", async () => {
    const r = ex(EXAMPLES[0]!);
    const conf = loggingToStderr(readFileSync(join(r.dir, r.nodes[0]![0], "etc", "corosync", "corosync.conf"), "utf8"));
    const broken = conf.replace(/^(\s*)cluster_name: .*$/m, "$1cluster_name: x\n$1token: not-a-number");
    expect(broken).not.toBe(conf);
    const { result, complaints } = await corosyncTest(broken, "control");
    expect(result.code).not.toBe(0);
    expect(complaints.join("\n")).toMatch(/totem\.token/);
    expect(complaints.some((c) => NOT_A_NODE[0]!.test(c))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The desired-CIB comparison (crm_load, diff) and its stamp, against a CIB file with real crmsh.

describe.skipIf(Boolean(skipCrm))("the desired-CIB comparison and its stamp", { timeout: 120_000 }, () => {
  const example = "sr-pgsql-2node";
  let dir: string;
  let env: NodeJS.ProcessEnv;
  /**
   * Runs the comparison with cluster.crm `crm` on stdin, and with `apply` the patch too; PATH may hide crmsh
   * to prove it was not needed. The desired CIB and the patch are copied out of the script's scratch
   * directory into seen/ for the test to read.
   */
  const compare = async (crm: string, opts: { clear?: RuntimeState[]; withoutCrmsh?: boolean; apply?: boolean } = {}) => {
    const script = join(dir, "compare.sh");
    const seen = `cp "$t"/cib-desired.xml "$t"/cib.patch ${join(dir, "seen")}/`;
    writeFileSync(script, desiredCibScript({ clear: opts.clear, dir: join(dir, "pgha"), then: opts.apply ? `${seen}\n${applyCibPatch(join(dir, "pgha"))}` : seen }));
    const runEnv = opts.withoutCrmsh ? { ...env, PATH: `${join(dir, "nocrm")}${delimiter}${env.PATH}` } : env;
    const r = await sh("sh", ["-c", `sh ${script} < ${crm}`], { env: runEnv, timeoutMs: 60_000 });
    expect(r.code, show(r)).toBe(0);
    return r.stdout.trim();
  };
  const patch = (crm: string) => compare(crm, { apply: true });

  beforeAll(async () => {
    dir = join(work, "stamp");
    mkdirSync(join(dir, "nocrm"), { recursive: true });
    mkdirSync(join(dir, "seen"));
    // A crm that fails loudly: the fast path must not call crmsh at all.
    writeFileSync(join(dir, "nocrm", "crm"), "#!/bin/sh\necho 'crmsh was called' >&2\nexit 99\n");
    chmodSync(join(dir, "nocrm", "crm"), 0o755);
    writeFileSync(join(dir, "cib.xml"), await emptyCib(ex(example).nodes));
    mkdirSync(join(dir, "home"), { recursive: true });
    env = { ...process.env, CIB_file: join(dir, "cib.xml"), HOME: join(dir, "home") };
  });

  it("finds an empty CIB different, patches it, and then trusts the stamp without crmsh", async () => {
    const crm = ex(example).crm;
    expect(await compare(crm)).toBe("CHANGED");
    expect(await patch(crm)).toBe("CHANGED");
    expect(await compare(crm, { withoutCrmsh: true })).toBe("UNCHANGED");
    expect(readFileSync(join(dir, "seen", "cib.patch"), "utf8")).toBe("");
  });

  it("ignores what Pacemaker changes at run time (permanent node attributes)", async () => {
    const r = await sh("crm_attribute", ["-l", "forever", "-N", ex(example).nodes[0]![0], "-n", "pgsql-data-status", "--update=LATEST"], { env });
    expect(r.code, show(r)).toBe(0);
    expect(await compare(ex(example).crm, { withoutCrmsh: true })).toBe("UNCHANGED");
  });

  it("compares in full after a hand edit, and finds it", async () => {
    const cib = join(dir, "cib.xml");
    const before = readFileSync(cib, "utf8");
    writeFileSync(cib, before.replace(/(name="migration-threshold" value=")\d+"/, (_, head: string) => `${head}7"`));
    expect(readFileSync(cib, "utf8")).not.toBe(before);
    expect(await compare(ex(example).crm)).toBe("CHANGED");
    await patch(ex(example).crm);
    expect(await compare(ex(example).crm, { withoutCrmsh: true })).toBe("UNCHANGED");
  });

  it("compares in full when cluster.crm changed", async () => {
    const edited = join(dir, "edited.crm");
    writeFileSync(edited, readFileSync(ex(example).crm, "utf8").replace(/migration-threshold=\d+/, "migration-threshold=9"));
    expect(await compare(edited)).toBe("CHANGED");
  });

  it("keeps nothing of cluster.crm (which holds the fence passwords) at rest: only the stamp, a hash, stays after a comparison, an applied patch, a failure or a signal, and earlier versions' files go", async () => {
    const state = join(dir, "pgha");
    const left = () => readdirSync(state).sort();
    writeFileSync(join(state, "cluster.crm"), "left by an earlier version");
    writeFileSync(join(state, "cib-live.xml"), "left by an earlier version");
    const edited = join(dir, "edited.crm");
    expect(await compare(edited)).toBe("CHANGED");
    expect(left()).toEqual(["cib.stamp"]);
    expect(readFileSync(join(state, "cib.stamp"), "utf8")).toMatch(/^[0-9a-f]{64} [0-9a-f]{64}\n$/);
    expect(await patch(edited)).toBe("CHANGED");
    expect(left()).toEqual(["cib.stamp"]);
    expect(await patch(ex(example).crm)).toBe("CHANGED");
    // A failing step (set -e), and the session's end while the script runs (SIGHUP, as a dropped SSH session may give).
    for (const then of ["false", "kill -HUP $$; sleep 5"]) {
      writeFileSync(join(dir, "interrupted.sh"), desiredCibScript({ dir: state, then: `[ -s "$t"/cib-live.xml ]; ${then}` }));
      const r = await sh("sh", ["-c", `sh ${join(dir, "interrupted.sh")} < ${edited}`], { env, timeoutMs: 60_000 });
      expect(r.code, show(r)).not.toBe(0);
      expect(left()).toEqual(["cib.stamp"]);
    }
  });

  it("does not trust the stamp when move constraints are to be cleared", async () => {
    const r = await compare(ex(example).crm, { clear: ["move-constraints"], withoutCrmsh: true }).catch((e: Error) => e.message);
    expect(r).toMatch(/crmsh was called/);
  });

  describe("the operator's switches", () => {
    const run = async (cmd: string, args: string[]) => {
      const r = await sh(cmd, args, { env });
      expect(r.code, show(r)).toBe(0);
      return r.stdout;
    };
    const live = () => run("cibadmin", ["-Q"]);
    const seen = (f: string) => readFileSync(join(dir, "seen", f), "utf8");
    let SET: RuntimeSwitch[];

    beforeAll(async () => {
      const [pg1, pg2] = ex(example).nodes.map(([name]) => name) as [string, string];
      SET = [
        { on: "cluster", target: "", name: "maintenance-mode", value: "true" },
        { on: "resource", target: "vip-slave", name: "target-role", value: "Stopped" },
        { on: "resource", target: "master-group", name: "maintenance", value: "true" },
        // crm_resource sets a cloned primitive's switch on its clone, which has no meta attributes in
        // cluster.crm: the switch brings its own set
        { on: "resource", target: "ping-clone", name: "is-managed", value: "false" },
        { on: "resource", target: "pgsql-clone", name: "is-managed", value: "false" },
        { on: "node", target: pg1, name: "maintenance", value: "true" },
        { on: "node", target: pg2, name: "standby", value: "on" },
      ];
      // The CIB as apply leaves it, then the switches as an operator sets them.
      if ((await compare(ex(example).crm)) === "CHANGED") await patch(ex(example).crm);
      await run("crm_attribute", ["-t", "crm_config", "-n", "maintenance-mode", "-v", "true"]);
      await run("crm_resource", ["-r", "vip-slave", "--meta", "-p", "target-role", "-v", "Stopped"]);
      await run("crm_resource", ["-r", "master-group", "--meta", "-p", "maintenance", "-v", "true"]);
      await run("crm_resource", ["-r", "ping", "--meta", "-p", "is-managed", "-v", "false"]);
      await run("crm_resource", ["-r", "pgsql-clone", "--meta", "-p", "is-managed", "-v", "false"]);
      await run("crm_attribute", ["-N", pg1, "-n", "maintenance", "-v", "true", "-l", "forever"]);
      await run("crm_attribute", ["-N", pg2, "-n", "standby", "-v", "on", "-l", "forever"]);
      expect(runtimeSwitches(await live())).toEqual(SET);
    });

    it("keeps every switch: the patch is empty, and the stamp then holds them", async () => {
      expect(await compare(ex(example).crm)).toBe("UNCHANGED");
      expect(seen("cib.patch")).toBe("");
      expect(runtimeSwitches(seen("cib-desired.xml"))).toEqual(SET);
      expect(await compare(ex(example).crm, { withoutCrmsh: true })).toBe("UNCHANGED");
    });

    it("applies a spec change during maintenance mode, says so, and keeps the switches", async () => {
      const edited = join(dir, "edited.crm");
      writeFileSync(edited, readFileSync(ex(example).crm, "utf8").replace(/migration-threshold=\d+/, "migration-threshold=9"));
      expect((await compare(edited)).split("\n")).toEqual(["CHANGED", "maintenance-mode=true"]);
      expect(seen("cib.patch")).toMatch(/migration-threshold/);
      await patch(edited);
      const after = await live();
      expect(after).toMatch(/name="migration-threshold" value="9"/);
      expect(runtimeSwitches(after)).toEqual(SET);
      expect((await patch(ex(example).crm)).split("\n")).toEqual(["CHANGED", "maintenance-mode=true"]);
      expect(runtimeSwitches(await live())).toEqual(SET);
    });

    it("lets the spec win where it sets a switch itself", async () => {
      const edited = join(dir, "maintenance-off.crm");
      writeFileSync(edited, readFileSync(ex(example).crm, "utf8").replace(/^property cib-bootstrap-options: \\$/m, "$& \n    maintenance-mode=false \\"));
      expect((await compare(edited)).split("\n")).toEqual(["CHANGED", "maintenance-mode=false"]);
      expect(runtimeSwitches(seen("cib-desired.xml"))).toEqual(SET.slice(1));
    });

    it("removes them all with --clear-runtime-switches, and only then", async () => {
      expect(await compare(ex(example).crm, { clear: ["runtime-switches"] })).toBe("CHANGED");
      const ops = [...seen("cib.patch").matchAll(/operation="(\w+)"/g)].map((m) => m[1]);
      expect(ops).toEqual(SET.map(() => "delete"));
      await compare(ex(example).crm, { clear: ["runtime-switches"], apply: true });
      const after = await live();
      expect(runtimeSwitches(after)).toEqual([]);
      expect(after).not.toMatch(/<meta_attributes[^>]*\/>/);
      expect(await compare(ex(example).crm, { withoutCrmsh: true })).toBe("UNCHANGED");
    });
  });
});
