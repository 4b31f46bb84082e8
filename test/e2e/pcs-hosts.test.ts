// Issue 21 on the lab: hosts with pcs and no crmsh, as RHEL 8/9 ship Pacemaker. pgha builds the 2-node
// pgsql example there (the desired CIB comes from cluster.pcs, run with pcs -f on a copy of the live
// CIB), a second apply changes nothing, and a change made by hand in the CIB is found by diff and
// undone by apply; after a failover, recover and switchover need no crm either. The same on crmsh hosts is what apply-pgsql.test.ts and diff-reconfigure.test.ts test.
import { beforeAll, describe, expect, it } from "vitest";
import { labSh } from "./lab-helpers.js";
import { createAppTable, exampleArgs, failOverByKill, onHost, pgha, psqlOn, settled, viaVip, writeReadsBack, type PghaRun } from "./pgha-helpers.js";

const ARGS = exampleArgs("sr-pgsql-2node");
const HOSTS = ["pg1", "pg2"];
const epoch = () => onHost("pg1", "cibadmin -Q | head -1").match(/ epoch="(\d+)"/)![1];
const threshold = () => onHost("pg1", "crm_attribute --type rsc_defaults --name migration-threshold --query --quiet").trim();

describe("sr-pgsql-2node on hosts with pcs and no crmsh", () => {
  let first: PghaRun;

  beforeAll(async () => {
    labSh(["up", "--nodes", "2"]);
    for (const h of HOSTS) labSh(["without-crmsh", h]);
    first = await pgha(["apply", ...ARGS]);
  }, 600_000);

  it("the hosts have pcs and Pacemaker's tools, and no crm", () => {
    for (const h of HOSTS) {
      expect(onHost(h, "command -v crm || echo none").trim()).toBe("none");
      expect(onHost(h, "for p in pcs cibadmin crm_diff crm_simulate; do command -v $p; done").trim().split("\n")).toHaveLength(4);
    }
  });

  it("apply builds the cluster, from cluster.pcs", async () => {
    expect(first.code, first.output).toBe(0);
    expect(first.stdout).toMatch(/^pg1\s+online\s+primary\s+PRI\s+.*vip-master/m);
    await settled("pg1", "pg2");
    // The CIB is the one cluster.crm describes, ids included.
    const cib = onHost("pg1", "cibadmin -Q -o configuration");
    expect(cib).toContain('<op name="monitor" interval="9s" timeout="60s" on-fail="restart" role="Promoted" id="pgsql-monitor-9s"/>');
    expect(cib).toMatch(/<rsc_order [^>]*id="order-pgsql-clone-promote-master-group"/);
    expect(cib).toMatch(/<meta_attributes id="rsc-options">/);
  });

  it("a second apply changes nothing, and the CIB's epoch stays", async () => {
    const before = epoch();
    const again = await pgha(["apply", ...ARGS]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
    expect(epoch()).toBe(before);
  });

  it("a change made by hand in the CIB: diff finds it, apply undoes it, and diff is clean again", async () => {
    onHost("pg1", "crm_attribute --type rsc_defaults --name migration-threshold --update 3");
    expect(threshold()).toBe("3");
    const drift = await pgha(["diff", ...ARGS]);
    expect(drift.code, drift.output).toBe(2);
    expect(drift.stdout).toMatch(/--- CIB \(compared on pg\d\):/);
    expect(drift.stdout).toMatch(/migration-threshold/);
    const repair = await pgha(["apply", ...ARGS]);
    expect(repair.code, repair.output).toBe(0);
    expect(threshold()).toBe("1");
    const clean = await pgha(["diff", ...ARGS]);
    expect(clean.code, clean.output).toBe(0);
    expect(clean.stdout).toMatch(/no differences/);
  });

  it("after kill -9 of the primary's postmaster: recover brings pg1 back as HS:sync and switchover fails back, with no crm", async () => {
    createAppTable("pg1");
    await failOverByKill("pg1", "pg2");
    viaVip("INSERT INTO e2e VALUES ('pcs-after-failover')");
    const r = await pgha(["recover", "pg1", ...ARGS]);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout.trim().split("\n").at(-1), r.output).toMatch(/^pg1 recovered: (pg_rewind|nothing to resynchronise) .*it streams from pg2 \(HS:sync\)$/);
    const back = await pgha(["switchover", "--to", "pg1", ...ARGS]);
    expect(back.code, back.output).toBe(0);
    await settled("pg1", "pg2");
    expect(onHost("pg1", "cibadmin -Q -o constraints")).not.toMatch(/cli-(ban|prefer)-/);
    expect(psqlOn("pg1", "SELECT count(*) FROM e2e WHERE v = 'pcs-after-failover'")).toBe("1");
    await writeReadsBack("pcs-after-failback");
    const d = await pgha(["diff", ...ARGS]);
    expect(d.code, d.output).toBe(0);
    expect(d.output).not.toMatch(/warning/i);
  }, 600_000);

  it("lab.sh with-crmsh gives a host its crm back", () => {
    labSh(["with-crmsh", "pg2"]);
    expect(onHost("pg2", "command -v crm || echo none").trim()).toBe("/usr/sbin/crm");
    expect(onHost("pg1", "command -v crm || echo none").trim()).toBe("none");
  });
});
