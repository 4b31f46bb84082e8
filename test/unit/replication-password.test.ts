// pg_password (issue 14 review): a replication password rotated in the spec is set on the running
// primary's role before reconfigure.yml pushes the new .pgpass, with the password on psql's stdin only.
// The hosts are a scripted transport: crm_mon answers with a healthy 2-node cluster (pg1 primary).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseFacts } from "../../src/facts.js";
import { pgpassField } from "../../src/model/postgresql.js";
import { sha256 } from "../../src/plan.js";
import { loadPlaybook } from "../../src/playbook.js";
import { MODULE_IMPLS, type HostCtx, type RunCtx } from "../../src/tasks.js";
import { renderExample, ROOT, TEST_PASSWORD } from "./helpers.js";

const healthy = readFileSync(join(ROOT, "test/fixtures/status/pgsql-2node-healthy.xml"), "utf8");
const PGPASS = "/var/lib/postgresql/.pgpass";
/** Contains what quoting has to get right: a quote and a backslash. */
const NEW_PASSWORD = String.raw`n3w'pa\ss`;

interface Ran {
  node: string;
  command: string;
  stdin?: string;
}

/** The 2-node example with NEW_PASSWORD in the spec; `pgpass` says, per node, which password its .pgpass file holds now. */
function cluster(pgpass: Record<string, string>, opts: { check?: boolean; crmMon?: string } = {}) {
  const { model, rendered } = renderExample("sr-pgsql-2node");
  const old = rendered.files.find((f) => f.node === "pg1" && f.path === PGPASS)!.content;
  const holding = (pw: string) => old.replaceAll(pgpassField(TEST_PASSWORD), pgpassField(pw));
  model.replicationPassword = NEW_PASSWORD;
  model.secrets.push(NEW_PASSWORD);
  for (const f of rendered.files.filter((x) => x.path === PGPASS)) f.content = holding(NEW_PASSWORD);
  const ran: Ran[] = [];
  const traced: string[] = [];
  const host = (name: string): HostCtx => ({
    node: model.nodes.find((n) => n.name === name)!,
    facts: parseFacts(`HASH\t${PGPASS}\t${sha256(holding(pgpass[name]!))}\n`),
    conn: {
      node: name,
      close: () => undefined,
      exec: async (command, o) => {
        ran.push({ node: name, command, stdin: o?.stdin });
        return command.startsWith("crm_mon") ? { code: 0, stdout: opts.crmMon ?? healthy, stderr: "" } : { code: 0, stdout: "", stderr: "" };
      },
    },
  });
  const ctx: RunCtx = { model, rendered, hosts: [host("pg1"), host("pg2")], check: opts.check ?? false, trace: (n, l) => traced.push(`${n} ${l}`), pollSeconds: 0 };
  return { ctx, ran, traced, psql: () => ran.filter((r) => r.command.includes("/psql")) };
}

describe("pg_password", () => {
  it("sets the new password on the primary's role, on psql's stdin only, when a node's .pgpass holds another one", async () => {
    const { ctx, ran, traced, psql } = cluster({ pg1: TEST_PASSWORD, pg2: TEST_PASSWORD });
    const r = await MODULE_IMPLS.pg_password(ctx, ctx.hosts[0]!, {});
    expect(r).toEqual({ changed: true, msg: "set the replication role repl's password on pg1 (.pgpass differs on pg1, pg2)" });
    expect(psql()).toHaveLength(1);
    const [set] = psql();
    expect(set!.node).toBe("pg1");
    expect(set!.command).toMatch(/ -f -$/);
    // psql's own quoting of the variable ('' and \\), then the statement that uses it, with nothing logged.
    expect(set!.stdin!.split("\n")).toEqual([
      "SET log_statement = 'none';",
      "SET log_min_duration_statement = -1;",
      "SET log_min_error_statement = panic;",
      "SET pg_stat_statements.track_utility = off;",
      String.raw`\set pgha_pw 'n3w''pa\\ss'`,
      `ALTER ROLE "repl" WITH REPLICATION LOGIN PASSWORD :'pgha_pw';`,
      "\\unset pgha_pw",
    ]);
    for (const x of ran) expect(x.command).not.toContain("n3w");
    expect(traced.join("\n")).not.toContain("n3w");
  });

  it("changes nothing once every .pgpass holds the spec's password (a rerun, or no rotation at all)", async () => {
    const { ctx, ran } = cluster({ pg1: NEW_PASSWORD, pg2: NEW_PASSWORD });
    expect(await MODULE_IMPLS.pg_password(ctx, ctx.hosts[0]!, {})).toEqual({ changed: false });
    expect(ran).toEqual([]);
  });

  it("sets it again while any node's .pgpass still differs (a run that stopped after the primary), naming only that node", async () => {
    const { ctx, psql } = cluster({ pg1: NEW_PASSWORD, pg2: TEST_PASSWORD });
    expect((await MODULE_IMPLS.pg_password(ctx, ctx.hosts[0]!, {})).msg).toMatch(/on pg1 \(\.pgpass differs on pg2\)$/);
    expect(psql().map((r) => r.node)).toEqual(["pg1"]);
  });

  it("in check mode says it would rotate and runs no SQL", async () => {
    const { ctx, psql } = cluster({ pg1: TEST_PASSWORD, pg2: TEST_PASSWORD }, { check: true });
    expect(await MODULE_IMPLS.pg_password(ctx, ctx.hosts[0]!, {})).toEqual({ changed: true, msg: "would set the replication role repl's password on pg1 (.pgpass differs on pg1, pg2)" });
    expect(psql()).toEqual([]);
  });

  it("with no primary running, stops the run before any .pgpass changes", async () => {
    const { ctx, psql } = cluster({ pg1: TEST_PASSWORD, pg2: TEST_PASSWORD }, { crmMon: healthy.replace(/role="Promoted"/g, 'role="Unpromoted"') });
    await expect(MODULE_IMPLS.pg_password(ctx, ctx.hosts[0]!, {})).rejects.toThrow(/no primary runs to set the replication password on; nothing was changed/);
    expect(psql()).toEqual([]);
  });

  it("reconfigure.yml runs it once, after the corosync steps and before the files that hold .pgpass are pushed", () => {
    const tasks = loadPlaybook(join(ROOT, "playbooks", "reconfigure.yml")).tasks;
    const at = (name: string) => tasks.findIndex((t) => t.module + ":" + t.name === name);
    const pw = tasks.findIndex((t) => t.module === "pg_password");
    expect(tasks[pw]).toMatchObject({ hosts: "all", run_once: true });
    expect(pw).toBeGreaterThan(at("corosync_apply:apply the corosync configuration"));
    expect(pw).toBeLessThan(at("files:postgresql configuration"));
  });
});
