// Running the real pgha executable against the lab, and reading lab hosts directly (lab.sh exec).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCrmMon, type ClusterStatus } from "../../src/status.js";
import { labSh, type ShResult } from "./lab-helpers.js";

export const PASSWORD = "e2e-Repl:S3cret'pw";
export const ENV = { ...process.env, PGHA_REPL_PASSWORD: PASSWORD, CI: "true" };

export interface PghaRun extends ShResult {
  output: string;
}

/** Runs bin/pgha.js; `onLine` sees each output line as it arrives (to act in the middle of a run). */
export function pgha(args: string[], opts: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void; timeoutMs?: number } = {}): Promise<PghaRun> {
  return new Promise((resolve) => {
    const child = spawn("node", ["bin/pgha.js", ...args], { env: opts.env ?? ENV, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 600_000);
    const feed = (chunk: Buffer, sink: "out" | "err") => {
      const s = chunk.toString();
      if (sink === "out") stdout += s;
      else stderr += s;
      if (opts.onLine) for (const l of s.split("\n")) if (l) opts.onLine(l);
    };
    child.stdout.on("data", (c: Buffer) => feed(c, "out"));
    child.stderr.on("data", (c: Buffer) => feed(c, "err"));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, output: stdout + stderr });
    });
  });
}

export const exampleArgs = (example: string, inventory = `inventories/${example}/hosts.yml`) => ["-i", inventory, "-s", `inventories/${example}/cluster.yml`];

/** Runs CMD inside a lab host (as root) and returns stdout; throws on failure. */
export function onHost(host: string, cmd: string): string {
  return labSh(["exec", host, "sh", "-c", cmd]).stdout;
}

export function psqlOn(host: string, sql: string): string {
  return onHost(host, `cd / && runuser -u postgres -- psql -X -At -v ON_ERROR_STOP=1 -c ${JSON.stringify(sql)}`).trim();
}

export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs: number, stepMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A copy of an example's inventory with one host's address replaced (e.g. by one nobody answers on). */
export function inventoryWith(example: string, host: string, address: string): string {
  const dir = mkdtempSync(join(tmpdir(), "pgha-e2e-inv-"));
  const text = readFileSync(`inventories/${example}/hosts.yml`, "utf8").replace(new RegExp(`(${host}: \\{ ansible_host: )[0-9.]+`), `$1${address}`);
  writeFileSync(join(dir, "hosts.yml"), text);
  return join(dir, "hosts.yml");
}

/** The cluster as crm_mon's XML shows it from HOST (robust to display details like "(Monitoring)"). */
export function clusterOn(host: string): ClusterStatus {
  return parseCrmMon(onHost(host, "crm_mon -1 --output-as=xml"));
}

/** Node names where RESOURCE runs in ROLE (Promoted, Unpromoted, Started). */
export function where(s: ClusterStatus, resource: string, role: string): string[] {
  return s.resources.filter((r) => r.id === resource && r.role === role).flatMap((r) => r.nodes).sort();
}

/** A spec with text edits, in a file of its own (each edit must apply). */
export function specEdited(spec: string, ...edits: [string, string][]): string {
  let text = readFileSync(spec, "utf8");
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`${spec} has no '${from}'`);
    text = text.replace(from, to);
  }
  const file = join(mkdtempSync(join(tmpdir(), "pgha-e2e-spec-")), "cluster.yml");
  writeFileSync(file, text);
  return file;
}

/** An example's spec fenced for real by the lab's fence agent (fence_pgha_lab power-cycles the host
 *  through the lab's BMC) instead of the example's fence_dummy, plus any further edits. */
export function labFenced(example: string, ...edits: [string, string][]): string {
  const spec = `inventories/${example}/cluster.yml`;
  const devices = [...readFileSync(spec, "utf8").matchAll(/\{ agent: "stonith:fence_dummy", params: \{ type: file, status_file: \S+, pcmk_host_list: (pg\d) \} \}/g)];
  if (devices.length === 0) throw new Error(`${spec} has no fence_dummy device`);
  return specEdited(spec, ...devices.map(([line, h]): [string, string] => [line, `{ agent: "stonith:fence_pgha_lab", params: { plug: ${h}, pcmk_host_list: ${h} } }`]), ...edits);
}

/** The sr-pgsql-2node cluster settled: the primary with its VIPs on `primary`, and `standby` streaming as HS:sync. */
export const settled = (primary: string, standby: string) =>
  until(
    `${primary} primary, ${standby} HS:sync`,
    () => {
      const s = clusterOn(primary);
      return where(s, "pgsql", "Promoted").join() === primary && where(s, "vip-master", "Started").join() === primary && s.nodes.find((n) => n.name === standby)?.attributes["pgsql-status"] === "HS:sync";
    },
    180_000,
  );

/** The application's role and table for writes through vip-master (made on the primary). */
export const createAppTable = (primary: string) => psqlOn(primary, "CREATE ROLE app LOGIN PASSWORD 'app-pw'; CREATE TABLE e2e(v text); GRANT ALL ON e2e TO app;");

/** A fresh 2-node lab with the sr-pgsql-2node cluster built by ARGS, settled, and the application's table. */
export async function builtTwoNode(args: string[]): Promise<void> {
  labSh(["up", "--nodes", "2"]);
  const build = await pgha(["apply", ...args]);
  if (build.code !== 0) throw new Error(`build failed:\n${build.output}`);
  await settled("pg1", "pg2");
  createAppTable("pg1");
}

/** SQL through vip-master as the application does it, from a host of the service LAN (pg1 by default). */
export const viaVip = (sql: string, from = "pg1") => onHost(from, `cd / && PGPASSWORD=app-pw psql -X -At -h 10.117.1.100 -U app -d postgres -c "${sql}"`).trim();

/** A row written through vip-master is readable on both nodes. */
export async function writeReadsBack(value: string, from = "pg1"): Promise<void> {
  viaVip(`INSERT INTO e2e VALUES ('${value}')`, from);
  for (const h of ["pg1", "pg2"]) await until(`'${value}' on ${h}`, () => psqlOn(h, `SELECT count(*) FROM e2e WHERE v = '${value}'`) === "1", 30_000, 1000);
}

/** The sr-pgsql-2node primary's postmaster killed (kill -9, the manuals' case 1); resolves once Pacemaker has promoted `next` and moved vip-master there. */
export async function failOverByKill(primary: string, next: string): Promise<void> {
  onHost(primary, "kill -9 $(head -1 /var/lib/postgresql/15/pgha/postmaster.pid)");
  await until(`${next} promoted with vip-master`, () => {
    const s = clusterOn(next);
    return where(s, "pgsql", "Promoted").join() === next && where(s, "vip-master", "Started").join() === next;
  }, 180_000);
}
