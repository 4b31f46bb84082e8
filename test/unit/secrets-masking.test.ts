// Issue 14, items 2 and 9: secrets are known by structure (secret files, fence devices' secret_params) and
// masked in every output form, old and new values, whatever escaping they went through; secret files and
// values are read the way users expect, and no server setting turns a password into SQL.
// The CLI runs for real (pgha diff, diff -v, diff --json, render, validate) against hosts that a fake
// connection answers for with CIBs that crmsh and crm_diff really built from the old and new spec.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maskCibPatch } from "../../src/cib-diff.js";
import { main } from "../../src/cli.js";
import type { Connections } from "../../src/gather.js";
import type { ClusterModel } from "../../src/model/types.js";
import { loadTemplates, renderCluster } from "../../src/render.js";
import { secretForms, secretResolver } from "../../src/secrets.js";
import { exec, setPasswordSql, type RunCtx } from "../../src/tasks.js";
import type { Connection } from "../../src/transport.js";
import { build, exampleText } from "./helpers.js";
import { missingTools, run, scratchCib } from "./scratch-cib.js";

// Every character that quoting or escaping treats specially somewhere: XML, JSON, crm, SQL, shell, .pgpass.
const OLD_FENCE = `Old"fe\\nce&<pw>'$x:1`;
const NEW_FENCE = `New"fe\\nce&<pw>'$x:2`;
const REPL = `Repl"pw\\&<'$1:x`;
const SECRETS = [OLD_FENCE, NEW_FENCE, REPL];

const EXAMPLE = "sr-pgsql-2node";
/** The example, with pg1 fenced by an IPMI device whose password is a secret_param from the environment. */
const SPEC = exampleText(EXAMPLE).replace(
  'pg1: { agent: "stonith:fence_dummy", params: { type: file, status_file: /var/lib/pacemaker/fence-pg1.status, pcmk_host_list: pg1 } }',
  'pg1: { agent: "stonith:fence_ipmilan", params: { ip: 192.0.2.11, username: admin, pcmk_host_list: pg1 }, secret_params: { password: { env: PGHA_TEST_FENCE_PW } } }',
);
const HOSTS = exampleText(EXAMPLE, "hosts.yml");
const envFor = (fence: string) => ({ PGHA_REPL_PASSWORD: REPL, PGHA_TEST_FENCE_PW: fence });
const crmOf = (fence: string) => renderCluster(build(SPEC, HOSTS, envFor(fence)), loadTemplates()).crm;

/** Fails with the forms of each secret found in `text`. */
function expectNoSecret(text: string, what: string): void {
  const found = SECRETS.flatMap((s) => secretForms(s).filter((f) => text.includes(f)).map((f) => `${JSON.stringify(f)} (of ${JSON.stringify(s)})`));
  expect(found, `${what} shows a secret`).toEqual([]);
  // Beyond the forms pgha knows: no distinctive piece of any secret either.
  for (const piece of ["fe\\nce", "fe\\\\nce", "Repl", "Old", "New"]) expect(text, what).not.toContain(piece);
}

const skip = missingTools(["crm", "cibadmin", "crm_diff"]);
const work = mkdtempSync(join(tmpdir(), "pgha-secrets-"));
const specFile = join(work, "cluster.yml");
const hostsFile = join(work, "hosts.yml");
writeFileSync(specFile, SPEC);
writeFileSync(hostsFile, HOSTS);
const saved = { ...process.env };

/** The live CIB (old fence password), the desired one (new) and crm_diff's patch, as a node would print them. */
let cib: { live: string; desired: string; patch: string };

beforeAll(() => {
  Object.assign(process.env, envFor(NEW_FENCE));
  if (skip.length) return;
  const live = scratchCib(crmOf(OLD_FENCE), { pg1: {}, pg2: {} }).file;
  const desired = scratchCib(crmOf(NEW_FENCE), { pg1: {}, pg2: {} }).file;
  const patch = spawnSync("crm_diff", ["--no-version", "-o", live, "-n", desired], { encoding: "utf8" }).stdout;
  cib = { live: readFileSync(live, "utf8"), desired: readFileSync(desired, "utf8"), patch };
}, 60_000);

afterAll(() => {
  for (const k of Object.keys(envFor(""))) if (saved[k] === undefined) delete process.env[k];
  else process.env[k] = saved[k];
  rmSync(work, { recursive: true, force: true });
});

/**
 * Hosts for the CLI: pg1 runs Pacemaker; the desired-CIB script answers with the CIBs above (or fails
 * like crmsh does, echoing the crm line with the new password); crm_mon is not there.
 */
const fakeHosts = (failCib = false) => async (model: ClusterModel): Promise<Connections> =>
  new Map(
    model.nodes.map((n): [string, Connection] => [
      n.name,
      {
        node: n.name,
        close: () => undefined,
        exec: async (command) => {
          if (command === "sh -s") return { code: 0, stdout: n.name === "pg1" ? "SERVICE\tpacemaker\tactive\n" : "", stderr: "" };
          if (command.includes("cib-live.xml")) {
            if (failCib) return { code: 1, stdout: "", stderr: `ERROR: fence-pg1: parameter "password" is bad: password=${crmOf(NEW_FENCE).match(/password=("(?:[^"\\]|\\.)*")/)![1]}\n` };
            return { code: 0, stdout: ["CHANGED\n" + cib.live, cib.desired, cib.patch].join("@@PGHA-SPLIT@@\n"), stderr: "" };
          }
          return { code: 1, stdout: "", stderr: "not on this fake host" };
        },
      },
    ]),
  );

async function pgha(args: string[], connect = fakeHosts()): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await main(args, { out: (s) => lines.push(s), err: (s) => lines.push(s), connect });
  return { code, out: lines.join("\n") };
}

describe.skipIf(skip.length > 0)("secrets are masked by structure in every output form", () => {
  const I = ["-i", hostsFile, "-s", specFile];

  it("the CIBs really hold both fence passwords (XML-escaped), so the masking below is tested against them", () => {
    expect(cib.live).toContain('value="Old&quot;fe\\nce&amp;&lt;pw&gt;&apos;$x:1"');
    expect(cib.patch).toContain('value="New&quot;fe\\nce&amp;&lt;pw&gt;&apos;$x:2"');
  });

  it("diff: the CIB summary says a rotated fence password changed, never either value", async () => {
    const r = await pgha(["diff", ...I]);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^ {4}primitive fence-pg1: .*password \*{8} -> \*{8}/m);
    expect(r.out).toMatch(/\.pgpass: create .*\n {4}\(content holds a secret: not shown\)|\.pgpass: create/);
    expectNoSecret(r.out, "pgha diff");
  });

  it("diff -v: Pacemaker's patch keeps its structure with the secret values masked", async () => {
    const r = await pgha(["diff", "-v", ...I]);
    expect(r.out).toContain('<change-attr name="value" operation="set" value="********"/>');
    expect(r.out).toMatch(/<nvpair name="password" value="\*{8}" id="fence-pg1-instance_attributes-password"\/>/);
    expectNoSecret(r.out, "pgha diff -v");
  });

  it("diff --json: no secret in any form, JSON escaping included", async () => {
    const r = await pgha(["diff", "--json", ...I]);
    const doc = JSON.parse(r.out) as { cib: { summary: string[]; patch: string } };
    expect(doc.cib.summary.join("\n")).toContain("password ******** -> ********");
    expect(doc.cib.patch).toContain('value="********"');
    expectNoSecret(r.out, "pgha diff --json");
  });

  it("an error that echoes the crm line (crm-quoted new password) shows no secret, as text or JSON", async () => {
    for (const json of [[], ["--json"]]) {
      const r = await pgha(["diff", ...I, ...json], fakeHosts(true));
      expect(r.code).toBe(1);
      expect(r.out).toContain("building the desired CIB failed");
      expectNoSecret(r.out, `a failed diff ${json.join("")}`);
    }
  });

  it("render and validate print no secret", async () => {
    for (const args of [["render", ...I, "-o", join(work, "out"), "-v"], ["render", ...I, "-o", join(work, "out2"), "--json"], ["validate", ...I, "--json"]]) {
      const r = await pgha(args);
      expect(r.code, r.out).toBe(0);
      expectNoSecret(r.out, `pgha ${args[0]}`);
    }
  });

  it("apply -v traces mask a secret in the forms remote tools print it", async () => {
    const model = build(SPEC, HOSTS, envFor(NEW_FENCE));
    const traces: string[] = [];
    const printed = [NEW_FENCE, REPL].flatMap(secretForms).join("\n");
    const conn: Connection = { node: "pg1", close: () => undefined, exec: async () => ({ code: 0, stdout: printed, stderr: printed }) };
    const ctx = { model, trace: (_: string, l: string) => traces.push(l) } as unknown as RunCtx;
    await exec(ctx, { node: model.nodes[0]!, conn, facts: {} } as never, `echo ${JSON.stringify(NEW_FENCE)}`);
    expect(traces.length).toBeGreaterThan(10);
    expectNoSecret(traces.join("\n"), "traces");
  });

  it("a patch's secret nvpair is masked by its position, whatever its value", () => {
    const patch = `<diff format="2"><change operation="modify" path="/cib/configuration/resources/primitive[@id=&apos;f&apos;]/instance_attributes[@id=&apos;f-ia&apos;]/nvpair[@id=&apos;f-pw&apos;]"><change-list><change-attr name="value" operation="set" value="unknown-to-pgha"/></change-list><change-result><nvpair name="pw" value="unknown-to-pgha" id="f-pw"/></change-result></change><change operation="create" path="/cib/configuration/resources" position="1"><nvpair id="g-ip" name="ip" value="192.0.2.1"/></change></diff>`;
    const masked = maskCibPatch(patch, new Set(["f-pw"]));
    expect(masked).not.toContain("unknown-to-pgha");
    expect(masked.match(/\*{8}/g)).toHaveLength(2);
    expect(masked).toContain('value="192.0.2.1"');
  });
});

describe("secret edge cases", () => {
  const dir = join(work, "edge");
  mkdirSync(dir);
  const file = (name: string, content: string) => (writeFileSync(join(dir, name), content), name);

  it("one final newline of a secret file or environment value is dropped; any other newline or control character is refused, naming the source and never the value", () => {
    const resolve = secretResolver({ ONE: "pw-env\n", TWO: "pw\nsecond-line", TAB: "pw\there", CR: "pw\r\n" }, dir);
    expect(resolve({ file: file("a", "pw-file\n") })).toEqual({ value: "pw-file" });
    expect(resolve({ file: file("b", "pw-file\r\n") })).toEqual({ value: "pw-file" });
    expect(resolve({ env: "ONE" })).toEqual({ value: "pw-env" });
    expect(resolve({ env: "CR" })).toEqual({ value: "pw" });
    for (const [src, name] of [[{ file: file("c", "pw-file\n\n") }, "secret file c"], [{ file: file("d", "first\nsecond-line\n") }, "secret file d"], [{ env: "TWO" }, "environment variable TWO"], [{ env: "TAB" }, "environment variable TAB"]] as const) {
      const r = resolve(src);
      expect(r).toMatchObject({ invalid: true });
      const msg = (r as { error: string }).error;
      expect(msg).toContain(name);
      expect(msg).not.toMatch(/second-line|here|pw-file/);
    }
  });

  it("a secret file that is a FIFO, a device, a directory or not text is refused at once, without a byte of it", () => {
    const resolve = secretResolver({}, dir);
    spawnSync("mkfifo", [join(dir, "fifo")]);
    writeFileSync(join(dir, "latin1"), Buffer.from([0x70, 0x77, 0xe9, 0x0a]));
    const cases: [string, RegExp][] = [["fifo", /fifo .*not a regular file/], ["/dev/zero", /not a regular file/], [".", /is a directory/], ["latin1", /latin1 .*: is not UTF-8 text$/]];
    for (const [file, message] of cases) {
      const started = Date.now();
      expect((resolve({ file }) as { error: string }).error).toMatch(message);
      expect(Date.now() - started).toBeLessThan(1000);
    }
    expect((resolve({ file: "latin1" }) as { error: string }).error).not.toMatch(/0xe9|byte/);
  });

  it("validate reports a secret with a line break as model-secret-invalid at its line in the spec", async () => {
    writeFileSync(join(dir, "two-lines.pw"), "first-pw-line\nsecond-pw-line\n");
    writeFileSync(join(dir, "cluster.yml"), exampleText(EXAMPLE).replace("{ env: PGHA_REPL_PASSWORD }", "{ file: two-lines.pw }"));
    writeFileSync(join(dir, "hosts.yml"), HOSTS);
    const r = await pgha(["validate", "-i", join(dir, "hosts.yml"), "-s", join(dir, "cluster.yml"), "--json"]);
    expect(r.code).toBe(1);
    const d = (JSON.parse(r.out) as { diagnostics: { code: string; line: number; message: string }[] }).diagnostics;
    expect(d).toMatchObject([{ code: "model-secret-invalid", line: exampleText(EXAMPLE).split("\n").findIndex((l) => l.includes("{ env: PGHA_REPL_PASSWORD }")) + 1 }]);
    expect(d[0]!.message).toContain("two-lines.pw");
    expect(r.out).not.toMatch(/pw-line/);
  });

  it("an inline secret with a line break gets the same model-secret-invalid (one check, not the schema's 'invalid secret source'), and one final newline is dropped", async () => {
    const line = exampleText(EXAMPLE).split("\n").findIndex((l) => l.includes("{ env: PGHA_REPL_PASSWORD }")) + 1;
    writeFileSync(join(dir, "hosts.yml"), HOSTS);
    for (const [inline, codes] of [['"first-pw-line\\nsecond-pw-line"', ["model-secret-inline", "model-secret-invalid"]], ['"one-pw-line\\n"', ["model-secret-inline"]]] as const) {
      writeFileSync(join(dir, "cluster.yml"), exampleText(EXAMPLE).replace("{ env: PGHA_REPL_PASSWORD }", inline));
      const r = await pgha(["validate", "-i", join(dir, "hosts.yml"), "-s", join(dir, "cluster.yml"), "--json"]);
      const d = (JSON.parse(r.out) as { diagnostics: { code: string; line: number }[] }).diagnostics;
      expect(d.map((x) => [x.code, x.line])).toEqual(codes.map((c) => [c, line]));
      expect(r.out).not.toMatch(/pw-line/);
    }
  });

  it("a relative file: path is read from the spec's directory, wherever pgha runs", async () => {
    mkdirSync(join(dir, "secrets"));
    writeFileSync(join(dir, "secrets", "repl.pw"), "from-the-spec-dir\n");
    writeFileSync(join(dir, "rel.yml"), exampleText(EXAMPLE).replace("{ env: PGHA_REPL_PASSWORD }", "{ file: secrets/repl.pw }"));
    writeFileSync(join(dir, "hosts.yml"), HOSTS);
    expect(process.cwd()).not.toBe(dir);
    const out = join(work, "rel-out");
    const r = await pgha(["render", "-i", join(dir, "hosts.yml"), "-s", join(dir, "rel.yml"), "-o", out]);
    expect(r.code, r.out).toBe(0);
    expect(readFileSync(join(out, "pg1", "/var/lib/postgresql/.pgpass"), "utf8")).toContain(":from-the-spec-dir");
  });

  const pgBin = "/usr/lib/postgresql/15/bin";
  const noPg = process.getuid?.() !== 0 || missingTools([`${pgBin}/initdb`, `${pgBin}/pg_ctl`, `${pgBin}/psql`, "runuser"]).length > 0;
  it.skipIf(noPg)("the SQL that sets a password stores it exactly, and injects nothing, whatever standard_conforming_strings says", () => {
    const base = mkdtempSync(join(tmpdir(), "pgha-pw-"));
    const [uid, gid] = ["-u", "-g"].map((f) => Number(run("id", [f, "postgres"]).trim()));
    chownSync(base, uid!, gid!);
    chmodSync(base, 0o700);
    const asPg = (cmd: string, args: string[], input?: string) => spawnSync("runuser", ["-u", "postgres", "--", cmd, ...args], { input, encoding: "utf8", cwd: "/", timeout: 60_000 });
    const data = join(base, "data");
    const port = String(20000 + (process.pid % 20000));
    const psql = (sql: string) => asPg(`${pgBin}/psql`, ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", base, "-p", port, "-d", "postgres", "-f", "-"], sql);
    try {
      expect(asPg(`${pgBin}/initdb`, ["-D", data, "-U", "postgres", "-A", "peer", "--no-sync", "--no-instructions"]).status).toBe(0);
      const start = asPg(`${pgBin}/pg_ctl`, ["start", "-D", data, "-w", "-t", "30", "-l", join(base, "log"), "-o", `-c listen_addresses= -c unix_socket_directories=${base} -p ${port} -c password_encryption=md5`]);
      expect(start.status, start.stderr).toBe(0);
      // A backslash before the quote: with standard_conforming_strings off, '' quoting alone ends the string there.
      const hostile = String.raw`a\'; CREATE ROLE pgha_injected; --$pgha$ \\ '' "x" :'pw' $1`;
      for (const scs of ["off", "on"]) {
        const r = psql([`SET standard_conforming_strings = ${scs};`, `CREATE ROLE "rep_${scs}";`, ...setPasswordSql(`rep_${scs}`, hostile), `SELECT rolpassword FROM pg_authid WHERE rolname = 'rep_${scs}';`, "SELECT count(*) FROM pg_roles WHERE rolname = 'pgha_injected';"].join("\n"));
        expect(r.status, r.stderr).toBe(0);
        const md5 = `md5${createHash("md5").update(hostile + `rep_${scs}`).digest("hex")}`;
        expect(r.stdout.trim().split("\n")).toEqual([md5, "0"]);
      }
      expect(() => setPasswordSql("rep", "a\nb")).toThrow(/line break/);
    } finally {
      asPg(`${pgBin}/pg_ctl`, ["stop", "-D", data, "-m", "immediate", "-w"]);
      rmSync(base, { recursive: true, force: true });
    }
  }, 90_000);
});
