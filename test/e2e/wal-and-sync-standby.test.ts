// Issue 13, items 6 and 7 on the lab (sr-pgsql-2node): a standby stopped while the primary writes more
// than wal_keep_size of WAL catches up through its replication slot; the archive stays within its
// retention; and when the sync standby's host loses power, a commit on the primary waits seconds, not
// a minute (wal_sender_timeout).
import { beforeAll, describe, expect, it } from "vitest";
import { labSh } from "./lab-helpers.js";
import { clusterOn, onHost, pgha, psqlOn, specEdited, until, where } from "./pgha-helpers.js";

const INV = ["-i", "inventories/sr-pgsql-2node/hosts.yml"];
const MB = 1024 * 1024;
const WAL_KEEP_MB = 32;
const KEEP_SEGMENTS = 4;
const ARCHIVE = "/var/lib/postgresql/15/archive";
// Small WAL settings keep the volume (and the test) small; frequent checkpoints remove old WAL early.
const SPEC = specEdited(
  "inventories/sr-pgsql-2node/cluster.yml",
  ["    shared_buffers: 128MB\n", `    shared_buffers: 128MB\n    wal_keep_size: ${WAL_KEEP_MB}MB\n    max_wal_size: 64MB\n    min_wal_size: 32MB\n`],
  ["keep_segments: 64", `keep_segments: ${KEEP_SEGMENTS}`],
);

const status = (h: string) => clusterOn("pg1").nodes.find((n) => n.name === h)?.attributes["pgsql-status"];
const streamingSync = (h: string) => until(`${h} streaming in sync (HS:sync)`, () => status(h) === "HS:sync", 180_000, 2000);
/** Writes about MBYTES of WAL on the primary and switches to a new segment. */
const writeWal = (mbytes: number) =>
  psqlOn("pg1", `INSERT INTO walfill SELECT repeat(md5(g::text), 32) FROM generate_series(1, ${mbytes * 900}) g; SELECT pg_switch_wal(); CHECKPOINT;`);
const archivedSegments = (h: string) => Number(onHost(h, `ls ${ARCHIVE} | grep -cE '^[0-9A-F]{24}$' || true`).trim());

describe("WAL retention and a dead sync standby on sr-pgsql-2node", () => {
  beforeAll(async () => {
    labSh(["up", "--nodes", "2"]);
    const build = await pgha(["apply", ...INV, "-s", SPEC]);
    if (build.code !== 0) throw new Error(`build failed:\n${build.output}`);
    await streamingSync("pg2");
    psqlOn("pg1", "CREATE TABLE walfill(v text); CREATE TABLE marks(v text)");
  });

  it("the standby streams through its own replication slot", () => {
    expect(psqlOn("pg1", "SELECT slot_name, active, wal_status FROM pg_replication_slots")).toBe("pgha_pg2|t|reserved");
    expect(psqlOn("pg2", "SHOW primary_slot_name")).toBe("pgha_pg2");
    expect(psqlOn("pg1", "SHOW wal_sender_timeout")).toBe("5s");
  });

  it(`a standby stopped while the primary writes 3x wal_keep_size (${WAL_KEEP_MB} MB) catches up when started again`, async () => {
    onHost("pg1", "crm node standby pg2");
    await until("pg2's PostgreSQL stopped", () => where(clusterOn("pg1"), "pgsql", "Unpromoted").length === 0, 120_000, 2000);
    const start = psqlOn("pg1", "SELECT pg_current_wal_lsn()");
    writeWal(3 * WAL_KEEP_MB);
    psqlOn("pg1", "INSERT INTO marks VALUES ('written while pg2 was down')");
    writeWal(8);
    const behind = Number(psqlOn("pg1", `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '${start}')`));
    expect(behind).toBeGreaterThan(2 * WAL_KEEP_MB * MB);
    // The slot keeps it: more than twice wal_keep_size, beyond max_wal_size.
    expect(psqlOn("pg1", "SELECT active, wal_status FROM pg_replication_slots WHERE slot_name = 'pgha_pg2'")).toBe("f|extended");
    onHost("pg1", "crm node online pg2");
    await streamingSync("pg2");
    await until("the row on pg2", () => psqlOn("pg2", "SELECT v FROM marks") === "written while pg2 was down", 60_000, 1000);
    expect(psqlOn("pg1", "SELECT active, wal_status FROM pg_replication_slots WHERE slot_name = 'pgha_pg2'")).toBe("t|reserved");
  });

  it(`the archive keeps at most ${KEEP_SEGMENTS} segments after a WAL-heavy run`, async () => {
    writeWal(2 * KEEP_SEGMENTS * 16);
    const archived = () => psqlOn("pg1", "SELECT archived_count, failed_count FROM pg_stat_archiver").split("|").map(Number);
    await until(`more than ${2 * KEEP_SEGMENTS} segments archived`, () => archived()[0]! > 2 * KEEP_SEGMENTS, 60_000, 1000);
    expect(archived()[1]).toBe(0);
    expect(archivedSegments("pg1")).toBeGreaterThan(0);
    expect(archivedSegments("pg1")).toBeLessThanOrEqual(KEEP_SEGMENTS);
    expect(onHost("pg1", `ls ${ARCHIVE} | grep -c '[.]tmp$' || true`).trim()).toBe("0");
  });

  it("the sync standby's host powered off: a write on the primary completes within 15 s", async () => {
    await streamingSync("pg2");
    // A writer on pg1 commits one row after another and logs when each commit began and ended, so the
    // longest wait is measured whenever the failure is noticed.
    const log = "/tmp/commit-times";
    onHost(
      "pg1",
      `rm -f ${log}; cd / && setsid sh -c 'end=$(($(date +%s) + 45)); while [ $(date +%s) -lt $end ]; do s=$(date +%s.%N); ` +
        `runuser -u postgres -- psql -X -q -c "INSERT INTO marks VALUES ('"'"'during the power cut'"'"')" && echo "$s $(date +%s.%N)" >> ${log}; sleep 0.2; done' </dev/null >/dev/null 2>&1 &`,
    );
    await until("the writer committing", () => Number(onHost("pg1", `wc -l < ${log} 2>/dev/null || echo 0`)) > 5, 30_000, 500);
    const cut = Date.now() / 1000;
    labSh(["poweroff", "pg2"]);
    const commits = await until(
      "the writer's last commits",
      () => {
        const rows = onHost("pg1", `cat ${log}`).trim().split("\n").map((l) => l.split(" ").map(Number) as [number, number]);
        return rows.at(-1)![0] > cut + 25 && rows;
      },
      90_000,
      2000,
    );
    const waits = commits.filter(([, end]) => end > cut).map(([begin, end]) => end - Math.max(begin, cut));
    const longest = Math.max(...waits);
    console.log(`longest commit wait after pg2 lost power: ${longest.toFixed(1)} s (${waits.length} commits)`);
    expect(longest).toBeGreaterThan(2); // the commit did wait for the sync standby: it was in sync when the power went
    expect(longest).toBeLessThan(20);
  });

  it("pg2 boots, joins when Pacemaker is started by hand, and streams in sync again", async () => {
    labSh(["boot", "pg2"]);
    expect(onHost("pg2", "systemctl is-active pacemaker || true").trim()).toBe("inactive");
    onHost("pg2", "systemctl start pacemaker");
    await streamingSync("pg2");
    const rows = psqlOn("pg1", "SELECT count(*) FROM marks");
    await until("pg2 replayed every row", () => Number(psqlOn("pg2", "SELECT count(*) FROM marks")) >= Number(rows), 60_000, 1000);
    const s = clusterOn("pg1");
    expect(where(s, "pgsql", "Promoted")).toEqual(["pg1"]);
    expect(where(s, "pgsql", "Unpromoted")).toEqual(["pg2"]);
  });
});
