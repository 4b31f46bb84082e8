// Issue 14, item 9: secret files and values are read the way users expect, and no server setting turns a
// password into SQL.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { secretResolver } from "../../src/secrets.js";
import { setPasswordSql } from "../../src/tasks.js";
import { exampleText } from "./helpers.js";
import { missingTools, run } from "./scratch-cib.js";

const EXAMPLE = "sr-pgsql-2node";
const HOSTS = exampleText(EXAMPLE, "hosts.yml");
const work = mkdtempSync(join(tmpdir(), "pgha-secrets-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function pgha(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await main(args, { out: (s) => lines.push(s), err: (s) => lines.push(s) });
  return { code, out: lines.join("\n") };
}

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
