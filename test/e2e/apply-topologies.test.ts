// Issue 4 on the lab: the 3-node PAF cluster and the shared-disk grpPostgreSQLDB cluster build from fresh
// hosts, and a write survives where it must.
import { beforeAll, describe, expect, it } from "vitest";
import { labSh } from "./lab-helpers.js";
import { clusterOn, exampleArgs, onHost, pgha, psqlOn, specEdited, until, where, type PghaRun } from "./pgha-helpers.js";

describe("paf-3node: PAF on a promotable clone", () => {
  let run: PghaRun;
  beforeAll(async () => {
    labSh(["up", "--nodes", "3"]);
    run = await pgha(["apply", ...exampleArgs("paf-3node")]);
  });

  it("builds one primary and two streaming standbys", () => {
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/^pg1\s+online\s+primary\s+primary\s+vip-master,vip-rep/m);
    expect(run.stdout).toMatch(/^pg2\s+online\s+standby\s+streaming\//m);
    expect(run.stdout).toMatch(/^pg3\s+online\s+standby\s+streaming\//m);
    const s = clusterOn("pg1");
    expect(where(s, "pgsql", "Promoted")).toEqual(["pg1"]);
    expect(where(s, "pgsql", "Unpromoted")).toEqual(["pg2", "pg3"]);
  });

  it("a write through vip-master is readable on each standby", async () => {
    psqlOn("pg1", "CREATE ROLE app LOGIN PASSWORD 'app-pw'; CREATE TABLE e2e(v text); GRANT ALL ON e2e TO app;");
    onHost("pg3", `cd / && PGPASSWORD=app-pw psql -X -h 10.117.1.100 -U app -d postgres -c "INSERT INTO e2e VALUES ('paf')"`);
    for (const h of ["pg2", "pg3"]) await until(`the row on ${h}`, () => psqlOn(h, "SELECT v FROM e2e") === "paf", 30_000, 1000);
  });

  it("a second apply changes nothing", async () => {
    const again = await pgha(["apply", ...exampleArgs("paf-3node")]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
  });

  it("--rolling-restart applies a restart-only parameter: both standbys, then a switchover and pg1", async () => {
    const [, inv, , spec] = exampleArgs("paf-3node");
    const edited = specEdited(spec!, ['synchronous_standby_names: "ANY 1 (pg1, pg2, pg3)"', 'synchronous_standby_names: "ANY 1 (pg1, pg2, pg3)"\n    max_connections: 150']);
    const a = await pgha(["apply", "--rolling-restart", "-i", inv!, "-s", edited], { timeoutMs: 900_000 });
    expect(a.code, a.output).toBe(0);
    expect(a.stdout).toMatch(/restarted pg2, pg3, switchover, then pg1 for max_connections; primary now pg[23]/);
    const s = await until(
      "a primary and two streaming standbys",
      () => {
        const c = clusterOn("pg1");
        return where(c, "pgsql", "Promoted").length === 1 && where(c, "pgsql", "Unpromoted").length === 2 ? c : undefined;
      },
      120_000,
    );
    const primary = where(s, "pgsql", "Promoted")[0]!;
    expect(primary).not.toBe("pg1");
    expect(s.nodes.filter((n) => n.standby)).toEqual([]);
    for (const h of ["pg1", "pg2", "pg3"]) expect(psqlOn(h, "SHOW max_connections"), h).toBe("150");
    const streaming = psqlOn(primary, "SELECT string_agg(application_name, ',' ORDER BY application_name) FROM pg_stat_replication WHERE state = 'streaming'");
    expect(streaming).toBe(["pg1", "pg2", "pg3"].filter((h) => h !== primary).join(","));
    const again = await pgha(["apply", "--rolling-restart", "-i", inv!, "-s", edited]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
    // Lowering it would leave each restarted standby below its primary, and it would not start: refused.
    const lower = specEdited(spec!, ['synchronous_standby_names: "ANY 1 (pg1, pg2, pg3)"', 'synchronous_standby_names: "ANY 1 (pg1, pg2, pg3)"\n    max_connections: 120']);
    const started = ["pg1", "pg2", "pg3"].map((h) => psqlOn(h, "SELECT pg_postmaster_start_time()"));
    const refused = await pgha(["apply", "--rolling-restart", "-i", inv!, "-s", lower]);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toMatch(/refusing the rolling restart: max_connections 150 -> 120 would go below the primary's value/);
    expect(["pg1", "pg2", "pg3"].map((h) => psqlOn(h, "SELECT pg_postmaster_start_time()"))).toEqual(started);
  }, 900_000);
});

describe("shared-disk-2node: grpPostgreSQLDB on the lab's shared disk", () => {
  const MOUNT = "/var/lib/postgresql/15/shared";
  const mountedOn = () => ["pg1", "pg2"].filter((h) => onHost(h, `grep -c ' ${MOUNT} ' /proc/mounts || true`).trim() === "1");
  let run: PghaRun;
  beforeAll(async () => {
    labSh(["up", "--nodes", "2"]);
    run = await pgha(["apply", ...exampleArgs("shared-disk-2node")]);
  });

  it("runs the group on one node, with the filesystem mounted there only", () => {
    expect(run.code, run.output).toBe(0);
    expect(mountedOn()).toEqual(["pg1"]);
    const s = clusterOn("pg1");
    for (const r of ["prmFsPostgreSQLDB", "prmIpPostgreSQLDB", "prmApPostgreSQLDB"]) expect(where(s, r, "Started")).toEqual(["pg1"]);
  });

  it("a write through the service VIP survives a failover to the other node", async () => {
    psqlOn("pg1", "CREATE ROLE app LOGIN PASSWORD 'app-pw'; CREATE TABLE e2e(v text); GRANT ALL ON e2e TO app;");
    onHost("pg2", `cd / && PGPASSWORD=app-pw psql -X -h 10.117.1.100 -U app -d postgres -c "INSERT INTO e2e VALUES ('shared')"`);
    onHost("pg1", `kill -9 $(head -1 ${MOUNT}/data/postmaster.pid)`);
    await until("the group on pg2", () => ["prmFsPostgreSQLDB", "prmIpPostgreSQLDB", "prmApPostgreSQLDB"].every((r) => where(clusterOn("pg2"), r, "Started").join() === "pg2"), 180_000);
    expect(mountedOn()).toEqual(["pg2"]);
    expect(onHost("pg1", `cd / && PGPASSWORD=app-pw psql -X -At -h 10.117.1.100 -U app -d postgres -c "SELECT v FROM e2e"`).trim()).toBe("shared");
  });
});
