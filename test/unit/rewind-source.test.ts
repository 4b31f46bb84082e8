// Real PostgreSQL 15 (issue 21): a standby just promoted keeps its old timeline in its control file
// until the spread checkpoint after the promotion ends, and pg_rewind reads the source's timeline
// there. recover's STALE_CHECKPOINT_SQL sees that on the new primary, and a CHECKPOINT clears it.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { shq } from "../../src/shell.js";
import { STALE_CHECKPOINT_SQL } from "../../src/tasks/recover.js";
import { missingTools } from "./scratch-cib.js";

const BIN = "/usr/lib/postgresql/15/bin";
const skip = process.getuid?.() !== 0 || missingTools([`${BIN}/pg_rewind`, "runuser"]).length > 0;
const work = skip ? "" : mkdtempSync(join(tmpdir(), "pgha-rewind-source-"));

/** A shell script as the postgres user in the scratch directory; its stdout, or a throw with its output. */
function asPostgres(script: string): string {
  const r = spawnSync("runuser", ["-u", "postgres", "--", "sh", "-ec", `cd ${shq(work)}; ${script}`], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

const opts = (port: number) => `-c port=${port} -c listen_addresses='' -c unix_socket_directories=${work} -c checkpoint_timeout=1h -c checkpoint_completion_target=0.9 -c shared_buffers=32MB`;
const psql = (port: number, sql: string) => asPostgres(`${BIN}/psql -X -At -h ${shq(work)} -p ${port} -d postgres -c ${shq(sql)}`);

describe.skipIf(skip)("the primary's control file after a promotion (pg_rewind's source)", () => {
  afterAll(() => {
    for (const d of ["a", "b"]) spawnSync("runuser", ["-u", "postgres", "--", `${BIN}/pg_ctl`, "-D", join(work, d), "stop", "-m", "immediate"], { timeout: 60_000 });
    rmSync(work, { recursive: true, force: true });
  });

  it("names the old timeline until a CHECKPOINT: STALE_CHECKPOINT_SQL returns it, then nothing", () => {
    const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout);
    chownSync(work, uid, -1);
    chmodSync(work, 0o700);
    // a: a primary; b: its streaming standby, which replays enough to leave ~1300 buffers dirty, so the
    // spread checkpoint of its promotion (checkpoint_timeout 1h) takes minutes.
    asPostgres(`${BIN}/initdb -D a -U postgres -A trust --no-sync >/dev/null; ${BIN}/pg_ctl -D a -o ${shq(opts(54391))} -l a.log -w start >/dev/null`);
    asPostgres(`${BIN}/pg_basebackup -h ${shq(work)} -p 54391 -D b -X stream -c fast -R`);
    asPostgres(`${BIN}/pg_ctl -D b -o ${shq(opts(54392))} -l b.log -w start >/dev/null`);
    psql(54391, "CREATE TABLE t AS SELECT g, repeat('x', 500) AS v FROM generate_series(1, 20000) g");
    const lsn = psql(54391, "SELECT pg_current_wal_lsn()");
    for (let i = 0; psql(54392, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'`) !== "t"; i++) {
      if (i > 300) throw new Error("b never replayed a's table");
      spawnSync("sleep", ["0.1"]);
    }
    asPostgres(`${BIN}/pg_ctl -D b -w promote >/dev/null`);
    expect(psql(54392, "SELECT pg_is_in_recovery()")).toBe("f");
    expect(psql(54392, STALE_CHECKPOINT_SQL)).toBe("1");
    psql(54392, "CHECKPOINT");
    expect(psql(54392, STALE_CHECKPOINT_SQL)).toBe("");
    expect(psql(54392, "SELECT timeline_id FROM pg_control_checkpoint()")).toBe("2");
  }, 120_000);
});
