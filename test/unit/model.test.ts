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

describe("safe defaults (docs/safe-defaults.md)", () => {
  const codes = (r: ReturnType<typeof renderExample>) => r.model.warnings.map((w) => w.code);
  const sr = renderExample("sr-pgsql-2node");

  it("two nodes: priority-fencing-delay with a priority on the primary's group, no-quorum-policy=stop, no warnings", () => {
    expect(sr.rendered.crm).toMatch(/no-quorum-policy=stop \\\n {4}priority-fencing-delay=10s/);
    expect(sr.rendered.crm).toContain("group master-group vip-master vip-rep \\\n    meta $id=master-group-meta_attributes priority=1");
    expect(renderExample("shared-disk-2node").rendered.crm).toMatch(/group grpPostgreSQLDB [^\n]*\\\n {4}meta \$id=grpPostgreSQLDB-meta_attributes priority=1/);
    expect(codes(sr).filter((c) => c.startsWith("model-fence") || c.startsWith("model-no-quorum") || c.startsWith("model-ping"))).toEqual([]);
  });

  it("three nodes need no fence delay", () => {
    expect(renderExample("paf-3node").rendered.crm).not.toMatch(/priority-fencing-delay|priority=1/);
  });

  it("a device's pcmk_delay_base replaces the default delay, and keeps the warning away", () => {
    const r = renderExample("sr-pgsql-2node", (s) => s.replace("fence-pg1.status, pcmk_host_list: pg1 }", "fence-pg1.status, pcmk_host_list: pg1, pcmk_delay_base: 10s }"));
    expect(r.rendered.crm).not.toMatch(/priority-fencing-delay|priority=1/);
    expect(codes(r)).not.toContain("model-fence-race");
  });

  it("warns about a two-node fence race when the delay is switched off", () => {
    const r = renderExample("sr-pgsql-2node", (s) => s.replace("stonith-timeout: 120s", "stonith-timeout: 120s\n    priority-fencing-delay: 0"));
    expect(codes(r)).toContain("model-fence-race");
    expect(r.rendered.crm).not.toMatch(/priority=1/);
  });

  it("warns about no-quorum-policy=ignore, a single ping target and STONITH off", () => {
    const r = renderExample("sr-pgsql-2node", (s) =>
      s
        .replace("stonith-timeout: 120s", "no-quorum-policy: ignore")
        .replace("hosts: [10.117.1.1, 10.117.1.2]", "hosts: [10.117.1.1]")
        .replace(/ {2}stonith:\n[\s\S]*?(?=\n {2}vips:)/, "  stonith:\n    enabled: false"),
    );
    expect(codes(r)).toEqual(expect.arrayContaining(["model-no-quorum-ignore", "model-ping-single-target", "model-stonith-disabled"]));
  });

  it("with STONITH a failed stop or demote fences; the ping guard needs one target, not all", () => {
    expect(sr.rendered.crm).not.toContain("on-fail=block");
    expect(sr.rendered.crm).toContain("op stop interval=0s timeout=300s on-fail=fence id=pgsql-stop-0s");
    expect(sr.rendered.crm).toContain("op demote interval=0s timeout=300s on-fail=fence id=pgsql-demote-0s");
    expect(sr.rendered.crm).toContain("op stop interval=0s timeout=60s on-fail=fence id=vip-master-stop-0s");
    expect(sr.rendered.crm).toContain("-inf: not_defined default_ping_set or default_ping_set lt 100");
  });

  it("restart_on_promote is off from PostgreSQL 9.3; where a user turns it on, a failed promote fences", () => {
    expect(sr.rendered.crm).toContain("restart_on_promote=false");
    expect(sr.rendered.crm).toContain("op promote interval=0s timeout=300s on-fail=restart id=pgsql-promote-0s");
    const on = renderExample("sr-pgsql-2node", (s) => s.replace("    tmpdir: /var/lib/postgresql/tmp", "    tmpdir: /var/lib/postgresql/tmp\n    restart_on_promote: true"));
    expect(on.rendered.crm).toContain("restart_on_promote=true");
    expect(on.rendered.crm).toContain("op promote interval=0s timeout=300s on-fail=fence id=pgsql-promote-0s");
  });

  it("the pgsql agent logs start-up errors and reports its WAL receiver; PAF's VIP orders are Mandatory", () => {
    expect(sr.rendered.crm).toMatch(/logfile=\/var\/log\/postgresql\/postgresql-15-pgha\.log .*check_wal_receiver=true/);
    expect(renderExample("paf-3node").rendered.crm).toContain("order order-pgsql-clone-demote-master-group Mandatory: pgsql-clone:demote master-group:stop symmetrical=false");
    expect(renderExample("shared-disk-2node").rendered.crm).toMatch(/fstype=ext4 force_unmount=safe/);
  });

  it("pg_hba refuses replication from the node itself and the replication VIP before admitting the cluster's nodes", () => {
    const hba = file(sr, "pg2", "/etc/postgresql/15/pgha/pg_hba.conf")!.split("\n");
    const first = (l: string) => hba.indexOf(l);
    for (const a of ["10.117.1.12", "10.117.2.12", "10.117.2.100"]) {
      expect(first(`host replication repl ${a}/32 reject`)).toBeGreaterThan(0);
      expect(first(`host replication repl ${a}/32 reject`)).toBeLessThan(first("host replication repl 10.117.1.11/32 scram-sha-256"));
    }
    expect(hba).not.toContain("host replication repl 10.117.1.11/32 reject");
    expect(hba).not.toContain("host replication repl 10.117.1.100/32 reject");
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
