// Model rules that the examples alone do not exercise: PostgreSQL version awareness, the Pacemaker 1.1
// spelling, two_node, STONITH off, and user templates overriding built-in ones.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderExample } from "./helpers.js";

const file = (r: ReturnType<typeof renderExample>, node: string, path: string) => r.rendered.files.find((f) => f.node === node && f.path === path)?.content;

describe("PostgreSQL version awareness", () => {
  const pg11 = (agent: string) =>
    renderExample("paf-3node", (s) =>
      s
        .replace("version: 15", "version: 11")
        .replace("agent: pgsqlms", `agent: ${agent}`)
        .replace(`synchronous_standby_names: "ANY 1 (pg1, pg2, pg3)"`, "shared_buffers: 128MB")
        .replace("  replication:\n", "  archive: { restore_command: 'cp /arch/%f %p' }\n  agent_params: { master_ip: 10.117.2.100 }\n  replication:\n"),
    );

  it("PAF on PostgreSQL 11 gets a recovery.conf template per node, and wal_keep_segments", () => {
    const r = pg11("pgsqlms");
    const rec = file(r, "pg2", "/etc/postgresql/11/pgha/recovery.conf.pcmk")!;
    expect(rec).toContain("standby_mode = on");
    expect(rec).toContain("primary_conninfo = 'host=10.117.2.100 port=5432 user=repl application_name=pg2'");
    expect(rec).toContain("recovery_target_timeline = 'latest'");
    expect(rec).toContain("restore_command = 'cp /arch/%f %p'");
    const conf = file(r, "pg2", "/etc/postgresql/11/pgha/postgresql.conf")!;
    expect(conf).toContain("wal_keep_segments = 32");
    expect(conf).not.toMatch(/wal_keep_size|primary_conninfo/);
    expect(r.rendered.crm).toContain("recovery_template=/etc/postgresql/11/pgha/recovery.conf.pcmk");
  });

  it("the pgsql agent writes recovery settings itself: no recovery.conf, no primary_conninfo from pgha", () => {
    const r = pg11("pgsql");
    expect(r.rendered.files.some((f) => f.path.includes("recovery.conf"))).toBe(false);
    expect(file(r, "pg2", "/etc/postgresql/11/pgha/postgresql.conf")).not.toMatch(/primary_conninfo|standby_mode/);
    expect(r.model.files.pg1!.find((f) => f.path.endsWith("postgresql.conf"))!.agentLines?.test("include '/var/lib/postgresql/tmp/rep_mode.conf' # added by pgsql RA")).toBe(true);
  });

  it("PAF on PostgreSQL 12+ puts the standby settings in postgresql.conf, with the node as application_name", () => {
    const r = renderExample("paf-3node");
    expect(file(r, "pg3", "/etc/postgresql/15/pgha/postgresql.conf")).toContain("primary_conninfo = 'host=10.117.2.100 port=5432 user=repl application_name=pg3'");
    expect(r.model.postgresql.recovery).toBe("standby.signal");
    expect(r.rendered.crm).not.toContain("recovery_template");
  });
});

describe("Pacemaker spelling and cluster size", () => {
  it("syntax: ms gives the Pacemaker 1.1 ms resource with Master/Slave roles", () => {
    const { rendered } = renderExample("sr-pgsql-2node", (s) => s.replace("pacemaker:\n", "pacemaker:\n  syntax: ms\n"));
    expect(rendered.crm).toMatch(/^ms msPostgresql pgsql \\\n {4}meta \$id=msPostgresql-meta_attributes master-max=1 master-node-max=1 clone-max=2/m);
    expect(rendered.crm).toContain("role=Master id=pgsql-monitor-9s");
    expect(rendered.crm).toContain("colocation colocation-master-group-msPostgresql inf: master-group msPostgresql:Master");
    expect(rendered.crm).not.toMatch(/Promoted|promotable/);
  });

  it("two_node only for two nodes, and three nodes stop without quorum", () => {
    const two = renderExample("sr-pgsql-2node");
    const three = renderExample("paf-3node");
    expect(file(two, "pg1", "/etc/corosync/corosync.conf")).toContain("two_node: 1");
    expect(file(three, "pg1", "/etc/corosync/corosync.conf")).not.toContain("two_node");
    expect(three.rendered.crm).toContain("no-quorum-policy=stop");
  });

  it("without STONITH: a warning, stonith-enabled=false, no fence devices, and no on-fail=fence", () => {
    const r = renderExample("shared-disk-2node", (s) => s.replace(/ {2}stonith:\n[\s\S]*?(?=\n {2}vips:)/, "  stonith:\n    enabled: false"));
    expect(r.model.warnings.map((w) => w.code)).toEqual(["model-stonith-disabled"]);
    expect(r.rendered.crm).toContain("stonith-enabled=false");
    expect(r.rendered.crm).not.toMatch(/fence-pg|on-fail=fence/);
    expect(r.rendered.crm).toContain("op stop interval=0s timeout=60s on-fail=block id=prmFsPostgreSQLDB-stop-0s");
  });
});

describe("templates", () => {
  it("a user's template directory overrides a built-in template of the same name, and only that one", () => {
    const dir = mkdtempSync(join(tmpdir(), "pgha-tpl-"));
    writeFileSync(join(dir, "pg_ident.conf.hbs"), "# site map for {{node}}\nsite {{node}} postgres\n");
    const r = renderExample("sr-pgsql-2node", (s) => s, dir);
    expect(file(r, "pg2", "/etc/postgresql/15/pgha/pg_ident.conf")).toBe("# site map for pg2\nsite pg2 postgres\n");
    expect(file(r, "pg2", "/etc/postgresql/15/pgha/pg_hba.conf")).toBe(file(renderExample("sr-pgsql-2node"), "pg2", "/etc/postgresql/15/pgha/pg_hba.conf"));
  });
});
