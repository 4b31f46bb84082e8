// Issue 4 on the lab: the 3-node PAF cluster and the shared-disk grpPostgreSQLDB cluster build from fresh
// hosts, and a write survives where it must. The PAF cluster is fenced for real (the lab's fence device),
// so its last case is issue 20's case 7: the primary's host powered off, fenced, and recovered.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { LAB_DIR, labSh } from "./lab-helpers.js";
import { clusterOn, exampleArgs, labFenced, onHost, pgha, psqlOn, specEdited, until, viaVip, where, type PghaRun } from "./pgha-helpers.js";

describe("paf-3node: PAF on a promotable clone", () => {
  const NODES = ["pg1", "pg2", "pg3"];
  const INVENTORY = "inventories/paf-3node/hosts.yml";
  const SPEC = labFenced("paf-3node");
  const withMaxConnections = (n: number) => specEdited(SPEC, ['synchronous_standby_names: "ANY 1 (pg1, pg2, pg3)"', `synchronous_standby_names: "ANY 1 (pg1, pg2, pg3)"\n    max_connections: ${n}`]);
  /** The spec as the rolling-restart case leaves the cluster (and the cases after it find it). */
  const RESTARTED = withMaxConnections(150);
  const primaryOf = (s: ReturnType<typeof clusterOn>) => where(s, "pgsql", "Promoted");
  /** Standbys streaming from PRIMARY, by application_name. */
  const streamingFrom = (primary: string) => psqlOn(primary, "SELECT string_agg(application_name, ',' ORDER BY application_name) FROM pg_stat_replication WHERE state = 'streaming'");
  let run: PghaRun;
  beforeAll(async () => {
    labSh(["up", "--nodes", "3"]);
    run = await pgha(["apply", "-i", INVENTORY, "-s", SPEC]);
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
    const again = await pgha(["apply", "-i", INVENTORY, "-s", SPEC]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
  });

  it("--rolling-restart applies a restart-only parameter: both standbys, then a switchover and pg1", async () => {
    const a = await pgha(["apply", "--rolling-restart", "-i", INVENTORY, "-s", RESTARTED], { timeoutMs: 900_000 });
    expect(a.code, a.output).toBe(0);
    expect(a.stdout).toMatch(/restarted pg2, pg3, switchover, then pg1 for max_connections; primary now pg[23]/);
    const s = await until(
      "a primary and two streaming standbys",
      () => {
        const c = clusterOn("pg1");
        return primaryOf(c).length === 1 && where(c, "pgsql", "Unpromoted").length === 2 ? c : undefined;
      },
      120_000,
    );
    const primary = primaryOf(s)[0]!;
    expect(primary).not.toBe("pg1");
    expect(s.nodes.filter((n) => n.standby)).toEqual([]);
    for (const h of NODES) expect(psqlOn(h, "SHOW max_connections"), h).toBe("150");
    expect(streamingFrom(primary)).toBe(NODES.filter((h) => h !== primary).join(","));
    const again = await pgha(["apply", "--rolling-restart", "-i", INVENTORY, "-s", RESTARTED]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
    // Lowering it would leave each restarted standby below its primary, and it would not start: refused
    // before any file is written, so no node keeps a lowered value waiting for its next restart.
    const started = NODES.map((h) => psqlOn(h, "SELECT pg_postmaster_start_time()"));
    const refused = await pgha(["apply", "--rolling-restart", "-i", INVENTORY, "-s", withMaxConnections(120)]);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toMatch(new RegExp(`refusing: max_connections 150 -> 120 on pg1, .* would go below the running primary's value \\(${primary}\\)`));
    expect(NODES.map((h) => psqlOn(h, "SELECT pg_postmaster_start_time()"))).toEqual(started);
    for (const h of NODES) expect(onHost(h, "grep '^max_connections' /etc/postgresql/15/pgha/postgresql.conf").trim(), h).toBe("max_connections = 150");
  }, 900_000);

  // Issue 20, case 7. A postmaster kill alone is restarted in place while the fail count is under
  // migration-threshold; a power-off is what moves PAF's primary.
  it("case 7, the primary's host powered off: fenced, a standby promoted on a new timeline that the other follows; the old primary recovered with pg_rewind", async () => {
    const args = ["-i", INVENTORY, "-s", RESTARTED];
    const old = primaryOf(clusterOn("pg1"))[0]!;
    const survivors = NODES.filter((h) => h !== old);
    const initPid = () => readFileSync(`${LAB_DIR}/hosts/${old}/init.pid`, "utf8").trim();
    const timeline = (primary: string) => parseInt(psqlOn(primary, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"), 16);
    const before = initPid();
    const tlBefore = timeline(old);
    labSh(["poweroff", old]);
    const [primary, standby] = await until(
      "a new primary with vip-master and one standby",
      () => {
        const s = clusterOn(survivors[0]!);
        const [p, ...more] = primaryOf(s);
        const standbys = where(s, "pgsql", "Unpromoted");
        return p && !more.length && p !== old && where(s, "vip-master", "Started").join() === p && standbys.length === 1 && standbys[0] !== old ? [p, standbys[0]!] : undefined;
      },
      180_000,
      1000,
    );
    expect(onHost(primary, `stonith_admin --history ${old}`)).toMatch(new RegExp(`reboot of ${old} successful`));
    expect(timeline(primary)).toBeGreaterThan(tlBefore);
    await until(`${standby} streaming from ${primary}`, () => streamingFrom(primary) === standby, 60_000, 1000);
    expect(Number(psqlOn(standby, "SELECT received_tli FROM pg_stat_wal_receiver"))).toBe(timeline(primary));
    viaVip("INSERT INTO e2e VALUES ('paf-power-off')", primary);
    // The fence is a reboot: the host comes back with only sshd, and Pacemaker stays stopped there.
    await until(`${old} booted by the fence`, () => initPid() !== before && onHost(old, "pidof sshd"), 120_000, 1000);
    const r = await pgha(["recover", old, ...args]);
    expect(r.code, r.output).toBe(0);
    // The old primary wrote WAL its standbys never got: its data diverged, and pg_rewind is the way back.
    expect(r.stdout.trim().split("\n").at(-1)).toMatch(new RegExp(`^${old} recovered: pg_rewind .*it streams from ${primary}$`));
    await until("both standbys streaming", () => streamingFrom(primary) === [old, standby].sort().join(","), 60_000, 1000);
    expect(where(clusterOn(primary), "pgsql", "Unpromoted")).toEqual([old, standby].sort());
    const d = await pgha(["diff", ...args]);
    expect(d.code, d.output).toBe(0);
    for (const h of NODES) await until(`the row on ${h}`, () => psqlOn(h, "SELECT count(*) FROM e2e WHERE v = 'paf-power-off'") === "1", 30_000, 1000);
  }, 600_000);
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
