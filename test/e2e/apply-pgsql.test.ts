// Issue 4 on the lab: pgha apply builds the Linux-HA Japan style 2-node cluster (pgsql agent, sync),
// a second run changes nothing, a write through vip-master reaches the standby, and killing the
// primary's postmaster makes Pacemaker promote the standby and move the VIPs.
import { beforeAll, describe, expect, it } from "vitest";
import { labSh } from "./lab-helpers.js";
import { clusterOn, ENV, exampleArgs, onHost, PASSWORD, pgha, psqlOn, until, where, type PghaRun } from "./pgha-helpers.js";

const ARGS = exampleArgs("sr-pgsql-2node");
const epoch = () => onHost("pg1", "cibadmin -Q | head -1").match(/ epoch="(\d+)"/)![1];
const postmasterStart = (h: string) => psqlOn(h, "SELECT pg_postmaster_start_time()");
const pacemakerdPid = (h: string) => onHost(h, "pidof pacemakerd").trim();

describe("sr-pgsql-2node: build, idempotency, failover", () => {
  let first: PghaRun;

  beforeAll(async () => {
    labSh(["up", "--nodes", "2"]);
    first = await pgha(["apply", "-v", ...ARGS]);
  });

  it("builds the cluster: PRI and HS:sync, VIPs on the primary", () => {
    expect(first.code, first.output).toBe(0);
    expect(first.stdout).toMatch(/task\(s\) changed/);
    expect(first.stdout).toMatch(/^pg1\s+online\s+primary\s+PRI\s+.*vip-master/m);
    expect(first.stdout).toMatch(/^pg2\s+online\s+standby\s+HS:sync/m);
    const mon = onHost("pg1", "crm_mon -1 -A");
    expect(mon).toMatch(/pgsql-status\s*:\s*PRI/);
    expect(mon).toMatch(/pgsql-status\s*:\s*HS:sync/);
  });

  it("never prints or logs the replication password, even with -v", () => {
    expect(first.output).not.toContain(PASSWORD);
    expect(first.output).not.toContain("S3cret");
    for (const h of ["pg1", "pg2"]) {
      // logs on the hosts (PostgreSQL's, the bootstrap log, Pacemaker's) and pgha's own files
      expect(onHost(h, "grep -rl 'S3cret' /var/log /var/lib/pgha /etc/postgresql /var/lib/postgresql/15/pgha/log 2>/dev/null || true").trim()).toBe("");
      expect(onHost(h, "stat -c '%U %a' /var/lib/postgresql/.pgpass").trim()).toBe("postgres 600");
    }
  });

  it("a write through vip-master is readable on the standby", async () => {
    psqlOn("pg1", "CREATE ROLE app LOGIN PASSWORD 'app-pw'; CREATE TABLE e2e(v text); GRANT ALL ON e2e TO app;");
    onHost("pg2", `cd / && PGPASSWORD=app-pw psql -X -h 10.117.1.100 -U app -d postgres -c "INSERT INTO e2e VALUES ('via-vip')"`);
    await until("the row on the standby", () => psqlOn("pg2", "SELECT v FROM e2e") === "via-vip", 30_000, 1000);
    expect(psqlOn("pg2", "SELECT pg_is_in_recovery()")).toBe("t");
  });

  it("a second apply changes nothing: no restart, CIB epoch unchanged", async () => {
    const before = { epoch: epoch(), pm1: postmasterStart("pg1"), pm2: postmasterStart("pg2"), pcmk1: pacemakerdPid("pg1"), pcmk2: pacemakerdPid("pg2") };
    const again = await pgha(["apply", ...ARGS]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
    expect({ epoch: epoch(), pm1: postmasterStart("pg1"), pm2: postmasterStart("pg2"), pcmk1: pacemakerdPid("pg1"), pcmk2: pacemakerdPid("pg2") }).toEqual(before);
  });

  it("apply --check on the built cluster reports nothing to do and exits 0", async () => {
    const check = await pgha(["apply", "--check", ...ARGS]);
    expect(check.code, check.output).toBe(0);
    expect(check.stdout).toMatch(/nothing would change/);
  });

  it("a .pgpass holding another password: diff, diff -v, diff --json and apply -v name the file, never the old or new password", async () => {
    onHost("pg2", `printf '%s\\n' '*:5432:replication:repuser:Old-S3cret-pw' > /var/lib/postgresql/.pgpass`);
    for (const args of [["diff"], ["diff", "-v"], ["diff", "--json"]]) {
      const r = await pgha([...args, ...ARGS]);
      expect(r.code, r.output).toBe(2);
      expect(r.output).toContain("/var/lib/postgresql/.pgpass");
      expect(r.output).not.toMatch(/S3cret/);
    }
    const fixed = await pgha(["apply", "-v", ...ARGS]);
    expect(fixed.code, fixed.output).toBe(0);
    expect(fixed.output).not.toMatch(/S3cret/);
    expect(onHost("pg2", "cat /var/lib/postgresql/.pgpass")).toContain(":e2e-Repl\\:S3cret'pw");
    expect((await pgha(["diff", ...ARGS])).code).toBe(0);
  });

  it("no root action follows a link the postgres user planted: apply refuses the links, and their root-owned targets stay untouched", async () => {
    const asPostgres = (cmd: string) => onHost("pg2", `cd / && runuser -u postgres -- sh -c ${JSON.stringify(cmd)}`);
    const canary = () => onHost("pg2", "stat -c '%U:%G %a %s' /etc/pgha-canary /etc/pgha-canary.d && cat /etc/pgha-canary");
    onHost("pg2", "printf 'root-only canary\\n' > /etc/pgha-canary && chmod 0644 /etc/pgha-canary && mkdir -p -m 0755 /etc/pgha-canary.d");
    const before = canary();
    // As Debian's packages leave it (the lab's was made by root): the version directory is the postgres user's.
    const versionDirOwner = onHost("pg2", "stat -c %U:%G /var/lib/postgresql/15").trim();
    onHost("pg2", "chown postgres:postgres /var/lib/postgresql/15");
    // What a database superuser can do as the postgres OS user (COPY ... TO PROGRAM): links in its own directories.
    asPostgres(
      "cd /etc/postgresql/15/pgha && mv pg_ident.conf pg_ident.conf.real && ln -s /etc/pgha-canary pg_ident.conf && " +
        "cd /var/lib/postgresql/15 && mv archive archive.real && ln -s /etc/pgha-canary.d archive && " +
        "cd /var/lib/postgresql && printf '*:5432:replication:repuser:Old-S3cret-pw\\n' > .pgpass && ln -sfn /etc/pgha-canary .pgpass.pgha-backup && chmod 0755 tmp",
    );
    const refused = await pgha(["apply", ...ARGS]);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain("/etc/postgresql/15/pgha/pg_ident.conf is a symbolic link (owned by postgres)");
    expect(refused.output).toContain("/var/lib/postgresql/15/archive is a symbolic link (owned by postgres)");
    const diff = await pgha(["diff", "-v", ...ARGS]);
    expect(diff.output).toContain("pg_ident.conf");
    expect(diff.output).not.toContain("root-only canary");
    expect(canary()).toBe(before);
    // The links the plan refuses are gone; the backup link, the old .pgpass and tmpdir's mode are left to apply.
    asPostgres("cd /etc/postgresql/15/pgha && rm pg_ident.conf && mv pg_ident.conf.real pg_ident.conf && cd /var/lib/postgresql/15 && rm archive && mv archive.real archive");
    const fixed = await pgha(["apply", ...ARGS]);
    expect(fixed.code, fixed.output).toBe(0);
    expect(canary()).toBe(before);
    expect(onHost("pg2", "cat /var/lib/postgresql/.pgpass")).toContain(":e2e-Repl\\:S3cret'pw");
    expect(onHost("pg2", "stat -c '%U %a' /var/lib/postgresql/tmp; ls -A /var/lib/postgresql | grep -c pgha-backup || true").trim().split("\n")).toEqual(["postgres 700", "0"]);
    // No copy of a secret file keeps its old password anywhere pgha writes.
    expect(onHost("pg2", "grep -rl Old-S3cret /var/lib/pgha /var/lib/postgresql /etc/postgresql 2>/dev/null || true").trim()).toBe("");
    expect((await pgha(["diff", ...ARGS])).code).toBe(0);
    onHost("pg2", `rm -rf /etc/pgha-canary /etc/pgha-canary.d && chown ${versionDirOwner} /var/lib/postgresql/15`);
  });

  it("a rotated replication password is set on the primary's role before .pgpass: the standby streams again after it reconnects, the old password is refused", async () => {
    const ROTATED = "e2e-Rotated:S3cret'pw2";
    const env = { ...ENV, PGHA_REPL_PASSWORD: ROTATED };
    // A login as the replication user from pg2's replication address, with this password and no .pgpass.
    const logsIn = (pw: string) =>
      labSh(["exec", "pg2", "sh", "-c", `cd / && PGPASSFILE=/dev/null PGPASSWORD=${JSON.stringify(pw)} psql -X -At -h 10.117.2.11 -U repl -d postgres -c 'SELECT 1'`], { allowFail: true }).code === 0;
    expect(logsIn(PASSWORD)).toBe(true);
    const check = await pgha(["apply", "--check", ...ARGS], { env });
    expect(check.code, check.output).toBe(2);
    expect(check.stdout).toContain("would set the replication role repl's password on pg1 (.pgpass differs on pg1, pg2)");
    expect(logsIn(PASSWORD)).toBe(true);
    const rotated = await pgha(["apply", "-v", ...ARGS], { env });
    expect(rotated.code, rotated.output).toBe(0);
    expect(rotated.stdout).toContain("set the replication role repl's password on pg1 (.pgpass differs on pg1, pg2)");
    expect(rotated.output).not.toMatch(/S3cret/);
    expect(onHost("pg1", "grep -rl 'S3cret' /var/log /var/lib/pgha 2>/dev/null || true").trim()).toBe("");
    // The standby's open connection outlived the change; dropped, it must log in again with its new .pgpass.
    const cut = psqlOn("pg1", "SELECT now()");
    psqlOn("pg1", "SELECT pg_terminate_backend(pid) FROM pg_stat_replication");
    await until(
      "pg2 streaming again (a new connection) and HS:sync",
      () => psqlOn("pg1", `SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND backend_start > '${cut}'`) === "1" && /pgsql-status\s*:\s*HS:sync/.test(onHost("pg1", "crm_mon -1 -A")),
      120_000,
      2000,
    );
    expect(logsIn(PASSWORD)).toBe(false);
    expect(logsIn(ROTATED)).toBe(true);
    const again = await pgha(["apply", ...ARGS], { env });
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
  });

  it("keeps no copy of cluster.crm or of the CIBs it compared in /var/lib/pgha, only the stamp (a hash)", () => {
    for (const h of ["pg1", "pg2"]) {
      const kept = onHost(h, "ls -A /var/lib/pgha").trim().split("\n");
      // The CIB is compared on the first node (run_once): its stamp is there.
      if (h === "pg1") expect(kept).toContain("cib.stamp");
      expect(kept.filter((f) => /^cluster\.|^cib-|^cib\.patch$|^cib\.[A-Za-z0-9]{6}$/.test(f))).toEqual([]);
    }
  });

  it("killing the primary's postmaster promotes the standby and moves the VIPs", async () => {
    onHost("pg1", "kill -9 $(head -1 /var/lib/postgresql/15/pgha/postmaster.pid)");
    await until(
      "pg2 promoted with both VIPs",
      () => {
        const s = clusterOn("pg2");
        return where(s, "pgsql", "Promoted").join() === "pg2" && where(s, "vip-master", "Started").join() === "pg2" && where(s, "vip-rep", "Started").join() === "pg2";
      },
      180_000,
    );
    expect(psqlOn("pg2", "SELECT pg_is_in_recovery()")).toBe("f");
    expect(psqlOn("pg2", "SELECT v FROM e2e")).toBe("via-vip");
  });
});
