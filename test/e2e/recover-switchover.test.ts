// Issue 20 on the lab's 2-node pgsql cluster: pgha switchover moves the primary and back through
// Pacemaker and leaves no move constraint; pgha recover is a no-op on a healthy standby, refuses on the
// primary, and after the primary's postmaster is killed (Pacemaker fails over) brings the old primary
// back as a sync standby, keeping its old data directory; switchover then fails back.
import { spawn } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { builtTwoNode, clusterOn, ENV, exampleArgs, failOverByKill, onHost, pgha, psqlOn, settled, until, viaVip, where, writeReadsBack } from "./pgha-helpers.js";

const ARGS = exampleArgs("sr-pgsql-2node");
const DATA = "/var/lib/postgresql/15/pgha";
const LOCK = "/var/lib/postgresql/tmp/PGSQL.lock";
const constraints = () => onHost("pg1", "cibadmin -Q -o constraints");
const statusOf = (h: string) => clusterOn("pg1").nodes.find((n) => n.name === h)?.attributes["pgsql-status"];
/** Runs pgha and kills it (SIGKILL, as a dropped session) once its output matches `at`; returns the output. */
function pghaKilledAt(args: string[], at: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn("node", ["bin/pgha.js", ...args], { env: ENV, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const feed = (c: Buffer) => {
      out += c.toString();
      if (at.test(out)) child.kill("SIGKILL");
    };
    child.stdout.on("data", feed);
    child.stderr.on("data", feed);
    child.on("close", () => resolve(out));
  });
}
const failOver = () => failOverByKill("pg1", "pg2");

describe("recover and switchover on sr-pgsql-2node", () => {
  beforeAll(() => builtTwoNode(ARGS));

  it("switchover --check shows the plan, exits 2 and moves nothing", async () => {
    const c = await pgha(["switchover", "--check", ...ARGS]);
    expect(c.code, c.output).toBe(2);
    expect(c.stdout.trim().split("\n").at(-1)).toMatch(/^check: would switch over from pg1 to pg2/);
    expect(where(clusterOn("pg1"), "pgsql", "Promoted")).toEqual(["pg1"]);
  });

  it("switchover to pg2 and back: the VIPs follow, the old primary streams again, no cli-* constraint is left", async () => {
    const to2 = await pgha(["switchover", "--to", "pg2", ...ARGS]);
    expect(to2.code, to2.output).toBe(0);
    expect(to2.stdout.trim().split("\n").at(-1)).toBe("switched over: pg2 is the primary, pg1 streams from it as a standby");
    await settled("pg2", "pg1");
    expect(constraints()).not.toMatch(/cli-(ban|prefer)-/);
    await writeReadsBack("on-pg2");
    const back = await pgha(["switchover", ...ARGS]);
    expect(back.code, back.output).toBe(0);
    expect(back.stdout.trim().split("\n").at(-1)).toBe("switched over: pg1 is the primary, pg2 streams from it as a standby");
    await settled("pg1", "pg2");
    expect(constraints()).not.toMatch(/cli-(ban|prefer)-/);
    await writeReadsBack("back-on-pg1");
    const again = await pgha(["switchover", "--to", "pg1", ...ARGS]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout.trim().split("\n").at(-1)).toBe("pg1 is already the primary: nothing to do");
  });

  it("recover on the healthy standby is a no-op; on the running primary it refuses and changes nothing", async () => {
    const noop = await pgha(["recover", "pg2", ...ARGS]);
    expect(noop.code, noop.output).toBe(0);
    expect(noop.stdout.trim().split("\n").at(-1)).toBe("pg2 is a healthy standby of pg1 (HS:sync): nothing to do");
    const epoch = onHost("pg1", "cibadmin -Q | head -1").match(/ epoch="(\d+)"/)![1];
    const refused = await pgha(["recover", "pg1", ...ARGS]);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.stderr).toMatch(/refusing: pg1 is the running primary.*Nothing was changed/);
    expect(onHost("pg1", "cibadmin -Q | head -1").match(/ epoch="(\d+)"/)![1]).toBe(epoch);
  });

  it("a standby whose Pacemaker was stopped (as after a fence and a boot) follows as it is: recover starts Pacemaker there", async () => {
    onHost("pg2", "systemctl stop pacemaker");
    const r = await pgha(["recover", "pg2", ...ARGS]);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/found pg2: Pacemaker is not running there \(node offline\); primary pg1; would keep Pacemaker stopped on pg2, nothing to resynchronise, .*start Pacemaker there/);
    expect(r.stdout.trim().split("\n").at(-1)).toMatch(/^pg2 recovered: nothing to resynchronise \(its timeline and WAL are an ancestor of the primary's\); it streams from pg1 \(HS:sync\)$/);
    expect(onHost("pg2", "ls -d /var/lib/postgresql/15/pgha.pgha-* 2>/dev/null || true").trim()).toBe("");
    await writeReadsBack("pg2-back");
  });

  it("after kill -9 of the primary's postmaster: recover brings pg1 back to HS:sync, switchover fails back, diff is clean", async () => {
    await failOver();
    viaVip("INSERT INTO e2e VALUES ('after-failover')"); // read on pg1 once it is recovered
    expect(psqlOn("pg2", "SELECT count(*) FROM e2e WHERE v = 'after-failover'")).toBe("1");
    expect(onHost("pg1", `test -e ${LOCK} && echo locked`).trim()).toBe("locked");

    // The failed node cannot be switched to; recover --check says what it found and would do.
    const refused = await pgha(["switchover", "--to", "pg1", ...ARGS]);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.stderr).toMatch(/refusing the switchover: no caught-up standby.*pg1: .*nothing was changed/);
    const check = await pgha(["recover", "--check", "pg1", ...ARGS]);
    expect(check.code, check.output).toBe(2);
    expect(check.stdout).toMatch(/found pg1: .*fail count pgsql.*PGSQL\.lock is there; primary pg2; would put pg1 in standby, .*remove .*PGSQL\.lock/);
    expect(onHost("pg1", `test -e ${LOCK} && echo locked`).trim()).toBe("locked");

    const r = await pgha(["recover", "pg1", ...ARGS]);
    expect(r.code, r.output).toBe(0);
    const last = r.stdout.trim().split("\n").at(-1)!;
    // A crashed primary: crash recovery, then pg_rewind finds where it left the new primary's timeline.
    expect(last, r.output).toMatch(/^pg1 recovered: pg_rewind \(servers diverged at WAL location [0-9A-F]+\/[0-9A-F]+ on timeline \d+\); old data directory kept at \/var\/lib\/postgresql\/15\/pgha\.pgha-\d{14}; it streams from pg2 \(HS:sync\)$/);
    const kept = /kept at (\S+?)[;,]/.exec(last)![1]!;
    expect(onHost("pg1", `test -f ${kept}/PG_VERSION && echo kept`).trim()).toBe("kept");
    expect(onHost("pg1", `test -e ${LOCK} || echo unlocked`).trim()).toBe("unlocked");
    expect(statusOf("pg1")).toBe("HS:sync");
    const again = await pgha(["recover", "pg1", ...ARGS]);
    expect(again.stdout.trim().split("\n").at(-1)).toBe("pg1 is a healthy standby of pg2 (HS:sync): nothing to do");

    const back = await pgha(["switchover", "--to", "pg1", ...ARGS]);
    expect(back.code, back.output).toBe(0);
    await settled("pg1", "pg2");
    expect(constraints()).not.toMatch(/cli-(ban|prefer)-/);
    for (const h of ["pg1", "pg2"]) expect(psqlOn(h, "SELECT count(*) FROM e2e WHERE v = 'after-failover'")).toBe("1");
    await writeReadsBack("after-failback");
    const d = await pgha(["diff", ...ARGS]);
    expect(d.code, d.output).toBe(0);
    expect(d.output).not.toMatch(/warning/i);
  });

  it("a recover killed in the middle of pg_rewind (a dropped session) converges on a rerun, and what it kept stays on disk", async () => {
    await failOver();
    // The trace shows the command as quoted for the shell: pg_rewind -D, or the quoted path then -D.
    const first = await pghaKilledAt(["recover", "-v", "pg1", ...ARGS], /pg_rewind\W* -D/);
    const firstKept = /^pg1: +(\/var\/lib\/postgresql\/15\/pgha\.pgha-\d{14})$/m.exec(first)?.[1];
    expect(firstKept, first).toBeDefined();
    await until("no pg_rewind left on pg1", () => onHost("pg1", "pidof pg_rewind || true").trim() === "", 120_000, 1000);
    const r = await pgha(["recover", "pg1", ...ARGS]);
    expect(r.code, r.output).toBe(0);
    const last = r.stdout.trim().split("\n").at(-1)!;
    expect(last).toMatch(/^pg1 recovered: pg_basebackup \(an earlier pg_rewind did not finish\); old data directory kept at \/var\/lib\/postgresql\/15\/pgha\.pgha-\d{14}; it streams from pg2 \(HS:sync\)$/);
    const kept = /kept at (\S+?);/.exec(last)![1]!;
    for (const dir of [firstKept!, kept]) expect(onHost("pg1", `test -f ${dir}/PG_VERSION && echo kept`).trim()).toBe("kept");
    expect(onHost("pg1", "test -e /var/lib/pgha/recover.state || echo gone").trim()).toBe("gone");
    const back = await pgha(["switchover", "--to", "pg1", ...ARGS]);
    expect(back.code, back.output).toBe(0);
    await settled("pg1", "pg2");
  });
});
