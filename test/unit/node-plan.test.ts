// The plan per node on recorded inputs: the files pgha renders for the sr-pgsql-2node example before and
// after a spec edit, the transition crm_simulate printed for that edit (Pacemaker 2.1.5, pg1 primary),
// and PostgreSQL 15's own parameter contexts (postgres --describe-config, name and context columns).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatNodePlans, nodePlans, restartParameters, type NodePlanInput, type PlanFile } from "../../src/node-plan.js";
import { parseSimulation, predict } from "../../src/transition.js";
import { renderExample, ROOT, TEST_PASSWORD } from "./helpers.js";

const RESTART = restartParameters(readFileSync(join(ROOT, "test", "fixtures", "postgres", "describe-config-15.tsv"), "utf8"));
const recorded = (name: string) => predict(parseSimulation(readFileSync(join(ROOT, "test", "fixtures", "simulate", `${name}.xml`), "utf8")), [], { postgresql: "pgsql", primary: "pg1" });

/** The files an edit of the example's spec changes, with both contents (secret files without). */
function changedFiles(edit: (spec: string) => string): PlanFile[] {
  const before = renderExample("sr-pgsql-2node").rendered.files;
  return renderExample("sr-pgsql-2node", edit)
    .rendered.files.map((f) => ({ f, old: before.find((b) => b.node === f.node && b.path === f.path) }))
    .filter(({ f, old }) => old?.content !== f.content)
    .map(({ f, old }) => (f.secret ? { node: f.node, path: f.path } : { node: f.node, path: f.path, before: old?.content, after: f.content }));
}

const input = (over: Partial<NodePlanInput>): NodePlanInput => ({
  nodes: ["pg1", "pg2"],
  primary: "pg1",
  running: ["pg1", "pg2"],
  corosyncRunning: ["pg1", "pg2"],
  files: [],
  postgresqlConf: renderExample("sr-pgsql-2node").model.postgresql.configFile,
  restartParameters: RESTART,
  postgresql: "pgsql",
  joining: [],
  leaving: [],
  ...over,
});
const verdicts = (i: NodePlanInput) => Object.values(nodePlans(i)).map((p) => p.verdict);

describe("restartParameters", () => {
  it("reads the postmaster-context parameters of postgres --describe-config", () => {
    expect(RESTART.has("shared_buffers")).toBe(true);
    expect(RESTART.has("max_connections")).toBe(true);
    expect(RESTART.has("work_mem")).toBe(false);
    expect(RESTART.has("archive_command")).toBe(false);
  });
});

describe("nodePlans", () => {
  it("a pg_hba rule: PostgreSQL reloads on both nodes, nothing restarts or moves", () => {
    const files = changedFiles((s) => s.replace("    - { type: host, database: all, user: all, address: 10.117.1.0/24", "    - { type: host, database: reports, user: all, address: 10.117.2.0/24, method: scram-sha-256 }\n    - { type: host, database: all, user: all, address: 10.117.1.0/24"));
    expect(files.map((f) => `${f.node}:${f.path}`)).toEqual(["pg1:/etc/postgresql/15/pgha/pg_hba.conf", "pg2:/etc/postgresql/15/pgha/pg_hba.conf"]);
    const plans = nodePlans(input({ files }));
    expect(plans.pg1).toEqual({ role: "primary", actions: [{ kind: "postgresql", what: "PostgreSQL reload", why: "pg_hba.conf change" }], verdict: "pg1 (primary): PostgreSQL reload; no restart, no move" });
    expect(plans.pg2!.verdict).toBe("pg2 (standby): PostgreSQL reload; no restart");
  });

  it("a restart parameter: a reload with the restart left pending, or rolled with --rolling-restart (standby first, the primary by a switchover)", () => {
    const files = changedFiles((s) => s.replace("shared_buffers: 128MB", "shared_buffers: 160MB"));
    expect(verdicts(input({ files }))).toEqual([
      "pg1 (primary): PostgreSQL reload; restart pending for shared_buffers (apply --rolling-restart applies it); no restart, no move",
      "pg2 (standby): PostgreSQL reload; restart pending for shared_buffers (apply --rolling-restart applies it); no restart",
    ]);
    expect(verdicts(input({ files, rollingRestart: true }))).toEqual([
      "pg1 (primary): PostgreSQL reload; rolling restart for shared_buffers: a switchover first, then PostgreSQL restarts here as a standby",
      "pg2 (standby): PostgreSQL reload; rolling restart for shared_buffers: PostgreSQL restarts through Pacemaker, the standbys one at a time",
    ]);
    expect(verdicts(input({ files, rollingRestart: true, singleInstance: true }))[0]).toBe(
      "pg1 (primary): PostgreSQL reload; restart pending for shared_buffers (a restart of the single instance is a failover: crm resource restart); no restart, no move",
    );
    // A parameter that a reload applies is no restart at all.
    const workMem = changedFiles((s) => s.replace("shared_buffers: 128MB", "shared_buffers: 128MB\n    work_mem: 8MB"));
    expect(verdicts(input({ files: workMem }))[0]).toBe("pg1 (primary): PostgreSQL reload; no restart, no move");
  });

  it("a hand-written postgresql.conf that sets the same in other words (bare values, inline comments, on for true): no restart pending", () => {
    const conf = input({}).postgresqlConf;
    const after = renderExample("sr-pgsql-2node").rendered.files.find((f) => f.node === "pg1" && f.path === conf)!.content;
    const before = after.replace(/^shared_buffers = '?([^'\n]*)'?$/m, "shared_buffers = $1   # tuned by hand").replace(/^hot_standby = (on|true)$/m, "hot_standby = true");
    expect(before).toMatch(/# tuned by hand/);
    expect(verdicts(input({ files: [{ node: "pg1", path: conf, before, after }] }))[0]).toBe("pg1 (primary): PostgreSQL reload; no restart, no move");
  });

  it("rep_mode sync -> async: both instances restart and the primary is demoted; the flag is named, and with it the change is rolled", () => {
    const files = changedFiles((s) => s.replace("mode: sync", "mode: async"));
    const prediction = recorded("rep-mode-async");
    const plans = nodePlans(input({ files, prediction }));
    expect(plans.pg1!.actions[0]).toEqual({ kind: "pacemaker", what: "PostgreSQL restarts: demoted and stopped, started and promoted again (writes fail meanwhile)", why: "Pacemaker's transition: resource definition change" });
    expect(plans.pg1!.verdict).toMatch(/^pg1 \(primary\): PostgreSQL restarts: demoted and stopped, .*; no move; apply needs --allow-primary-restart$/);
    expect(plans.pg2!.verdict).toMatch(/^pg2 \(standby\): PostgreSQL restarts(;|$)/);
    expect(plans.pg2!.verdict).not.toMatch(/no restart|apply needs/);
    const allowed = nodePlans(input({ files, prediction, allowed: ["restart-primary"] }));
    expect(allowed.pg1!.verdict).toContain("rolled instead of restarted in place: a switchover to a standby, then PostgreSQL restarts here as a standby");
    expect(allowed.pg1!.verdict).not.toMatch(/no move|apply needs/);
    expect(allowed.pg2!.verdict).toContain("rolled: PostgreSQL stops before the CIB changes and starts with it");
  });

  it("a vip-master address: the VIPs restart on the primary's node, PostgreSQL neither restarts nor moves", () => {
    const files = changedFiles((s) => s.replace("master: { ip: 10.117.1.100", "master: { ip: 10.117.1.110"));
    expect(verdicts(input({ files, prediction: recorded("vip-master-address") }))).toEqual([
      "pg1 (primary): restart vip-master; restart vip-rep; no PostgreSQL restart, no move",
      "pg2 (standby): nothing changes; no restart",
    ]);
  });

  it("migration-threshold: nothing restarts anywhere", () => {
    const files = changedFiles((s) => s.replace("migration-threshold: 1", "migration-threshold: 3"));
    expect(files).toEqual([]);
    const plans = nodePlans(input({ files, prediction: recorded("migration-threshold") }));
    expect(Object.values(plans).map((p) => p.verdict)).toEqual(["pg1 (primary): nothing changes; no restart, no move", "pg2 (standby): nothing changes; no restart"]);
    expect(Object.values(plans).flatMap((p) => p.actions)).toEqual([]);
  });

  it("corosync: a totem timing is a reload; the cluster name is a coordinated restart of every node, the primary kept", () => {
    const token = changedFiles((s) => s.replace("token: 3000", "token: 4500"));
    expect(verdicts(input({ files: token }))).toEqual(["pg1 (primary): corosync reload (corosync-cfgtool -R); no restart, no move", "pg2 (standby): corosync reload (corosync-cfgtool -R); no restart"]);
    const name = changedFiles((s) => s.replace("name: pgcluster", "name: pgcluster-b"));
    const plans = nodePlans(input({ files: name }));
    for (const n of ["pg1", "pg2"]) {
      expect(plans[n]!.actions[0]).toEqual({
        kind: "corosync",
        what: "coordinated restart of the whole cluster: Pacemaker stops (standbys first, the primary last), corosync restarts, the same primary is promoted again",
        why: "totem.cluster_name cannot change at run time",
      });
      expect(plans[n]!.verdict).not.toMatch(/no restart/);
    }
    expect(plans.pg1!.verdict).toMatch(/; no move$/);
    // A build: nothing runs yet, every file is new.
    const fresh = renderExample("sr-pgsql-2node").rendered.files.map((f) => ({ node: f.node, path: f.path, before: "", after: f.content }));
    expect(verdicts(input({ files: fresh, primary: undefined, running: [], corosyncRunning: [] }))[0]).toBe(
      "pg1 (no instance): corosync.conf changes; corosync does not run here: it starts with it; configuration files change; PostgreSQL does not run here: they apply when it starts; no restart",
    );
  });

  it("nodes that join or leave, and a node where PostgreSQL does not run", () => {
    const plans = nodePlans(input({ nodes: ["pg1", "pg2", "pg3"], running: ["pg1"], joining: ["pg3"], leaving: [{ name: "pg4", online: true }], files: [{ node: "pg2", path: "/etc/postgresql/15/pgha/pg_hba.conf" }] }));
    expect(Object.keys(plans)).toEqual(["pg1", "pg2", "pg3", "pg4"]);
    expect(plans.pg2!.verdict).toBe("pg2 (no instance): configuration files change; PostgreSQL does not run here: they apply when it starts; no restart");
    expect(plans.pg3!.verdict).toMatch(/^pg3 \(joins\): joins: its replication slot on the primary, a base backup/);
    const started = nodePlans(input({ nodes: ["pg1", "pg2", "pg3"], joining: ["pg3"], prediction: predict([{ action: "start", resource: "pgsql", node: "pg3" }], [], { postgresql: "pgsql", primary: "pg1" }) }));
    expect(started.pg3!.verdict).toBe("pg3 (joins): joins: its replication slot on the primary, a base backup from the primary, Pacemaker started; PostgreSQL starts; no restart");
    expect(plans.pg4!.verdict).toMatch(/^pg4 \(leaves\): leaves the cluster: standby until nothing runs there, then Pacemaker and corosync stop; its data directory stays$/);
  });

  it("a failover and a fence are named per node with their flags", () => {
    const failover = nodePlans(input({ prediction: recorded("primary-monitor-failed") }));
    expect(failover.pg1!.verdict).toBe("pg1 (primary): vip-master moves to pg2; vip-rep moves to pg2; PostgreSQL stops: the primary leaves this node; apply needs --allow-failover");
    expect(failover.pg2!.verdict).toBe("pg2 (standby): vip-master arrives from pg1; vip-rep arrives from pg1; PostgreSQL is promoted: the new primary; no restart; apply needs --allow-failover");
    expect(nodePlans(input({ prediction: recorded("failed-stop-fence") })).pg1!.verdict).toMatch(/^pg1 \(primary\): fenced by its fence device.*apply needs --allow-fencing/);
  });

  it("names parameters and keys, never a value", () => {
    const files = changedFiles((s) => s.replace("shared_buffers: 128MB", `shared_buffers: 128MB\n    application_name: '${TEST_PASSWORD}'`));
    expect(files.length).toBeGreaterThan(0);
    expect(JSON.stringify(nodePlans(input({ files })))).not.toContain(TEST_PASSWORD);
    expect(formatNodePlans(nodePlans(input({ files }))).join("\n")).not.toContain(TEST_PASSWORD);
  });
});
