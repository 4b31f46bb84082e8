// Issue 5 on the lab: diff finds exactly the drift (spec changes, hand edits, move constraints), apply
// --check touches nothing, and apply brings the cluster back to the spec with the least disruption.
import { beforeAll, describe, expect, it } from "vitest";
import { labSh } from "./lab-helpers.js";
import { clusterOn, onHost, pgha, psqlOn, specEdited, until, where } from "./pgha-helpers.js";
import { actionKeys, logMarks, loggedTransitions } from "./scheduler-log.js";

const INV = ["-i", "inventories/sr-pgsql-2node/hosts.yml"];
const SPEC = "inventories/sr-pgsql-2node/cluster.yml";
const specWith = (...edits: [string, string][]) => specEdited(SPEC, ...edits);

const fileHashes = (h: string) => onHost(h, "sha256sum /etc/corosync/corosync.conf /etc/postgresql/15/pgha/* /var/lib/postgresql/.pgpass");
const epoch = () => onHost("pg1", "cibadmin -Q | head -1").match(/ epoch="(\d+)"/)![1];
const healthy = () =>
  until(
    "a healthy cluster",
    () => {
      const s = clusterOn("pg1");
      return where(s, "pgsql", "Promoted").length === 1 && s.nodes.some((n) => n.attributes["pgsql-status"] === "HS:sync") && where(s, "vip-master", "Started").length === 1;
    },
    180_000,
  );

describe("diff and reconfigure on sr-pgsql-2node", () => {
  beforeAll(async () => {
    labSh(["up", "--nodes", "2"]);
    const build = await pgha(["apply", ...INV, "-s", SPEC]);
    if (build.code !== 0) throw new Error(`build failed:\n${build.output}`);
  });

  it("after a build, diff exits 0 and says no differences", async () => {
    const d = await pgha(["diff", ...INV, "-s", SPEC]);
    expect(d.code, d.output).toBe(0);
    expect(d.stdout.trim().split("\n").at(-1)).toBe("no differences");
  });

  const changed = () => specWith(["migration-threshold: 1", "migration-threshold: 3"], ["master: { ip: 10.117.1.100", "master: { ip: 10.117.1.110"]);

  it("shows exactly a changed migration-threshold and master VIP, and exits 2", async () => {
    const d = await pgha(["diff", ...INV, "-s", changed()]);
    expect(d.code, d.output).toBe(2);
    const lines = d.stdout.trim().split("\n");
    expect(lines).toEqual([
      "--- CIB (compared on pg1):",
      "    primitive vip-master: ip 10.117.1.100 -> 10.117.1.110",
      "    rsc_defaults migration-threshold: 1 -> 3",
      "--- Pacemaker would (crm_simulate on pg1):",
      "    pg1: restart vip-master, due to resource definition change",
      "    pg1: restart vip-rep, due to required vip-master start",
      "--- plan per node:",
      "    pg1 (primary): restart vip-master; restart vip-rep; no PostgreSQL restart, no move",
      "      pacemaker: restart vip-master (Pacemaker's transition: resource definition change)",
      "      pacemaker: restart vip-rep (Pacemaker's transition: required vip-master start)",
      "    pg2 (standby): nothing changes; no restart",
      "2 difference(s)",
    ]);
    const threshold = await pgha(["diff", ...INV, "-s", specWith(["migration-threshold: 1", "migration-threshold: 3"])]);
    expect(threshold.stdout).toContain("--- Pacemaker would change nothing that runs (crm_simulate on pg1)");
    expect(threshold.stdout).toContain("    pg1 (primary): nothing changes; no restart, no move\n    pg2 (standby): nothing changes; no restart\n");
  });

  it("apply --check --diff shows the changes and touches nothing: same file hashes, same CIB epoch", async () => {
    const before = { pg1: fileHashes("pg1"), pg2: fileHashes("pg2"), epoch: epoch() };
    const c = await pgha(["apply", "--check", "--diff", ...INV, "-s", changed()]);
    expect(c.code, c.output).toBe(2);
    expect(c.stdout).toContain("primitive vip-master: ip 10.117.1.100 -> 10.117.1.110");
    expect(c.stdout).toMatch(/check: \d+ task\(s\) would change/);
    // crm_simulate's prediction: the VIPs restart on the primary's node, PostgreSQL does not.
    expect(c.stdout).toMatch(/Pacemaker would: pg1: restart vip-master, due to resource definition change; pg1: restart vip-rep/);
    expect(c.stdout).not.toMatch(/restart pgsql/);
    const json = await pgha(["apply", "--check", "--json", ...INV, "-s", changed()]);
    expect(JSON.parse(json.stdout).nodes.pg1).toMatchObject({ role: "primary", verdict: "pg1 (primary): restart vip-master; restart vip-rep; no PostgreSQL restart, no move" });
    expect({ pg1: fileHashes("pg1"), pg2: fileHashes("pg2"), epoch: epoch() }).toEqual(before);
  });

  /** What apply --check predicts that Pacemaker will do, as crm_predict's --json detail carries it. */
  const predicted = async (spec: string, ...flags: string[]) => {
    const c = await pgha(["apply", "--check", "--json", ...flags, ...INV, "-s", spec]);
    return (JSON.parse(c.stdout).tasks.find((t: { detail?: unknown }) => t.detail)?.detail.prediction.actions ?? []) as { action: string; resource?: string; node?: string }[];
  };

  it("apply applies them online, as predicted: Pacemaker's logged transition is the plan; the cluster is healthy and diff is clean again", async () => {
    const spec = changed();
    const plan = await predicted(spec);
    expect(actionKeys(plan)).toEqual(["restart vip-master pg1", "restart vip-rep pg1"]);
    const marks = logMarks(["pg1", "pg2"]);
    const a = await pgha(["apply", ...INV, "-s", spec]);
    expect(a.code, a.output).toBe(0);
    await healthy();
    // The first transition with actions after the change is the one the change caused.
    expect(actionKeys(loggedTransitions(marks).find((t) => t.length) ?? [])).toEqual(actionKeys(plan));
    expect(onHost("pg1", "ip -4 -o addr show eth1")).toContain("10.117.1.110/24");
    expect(onHost("pg1", "cibadmin -Q -o rsc_defaults")).toMatch(/name="migration-threshold" value="3"/);
    const d = await pgha(["diff", ...INV, "-s", spec]);
    expect(d.code, d.output).toBe(0);
    // back to the example, for the tests that follow
    expect((await pgha(["apply", ...INV, "-s", SPEC])).code).toBe(0);
    await healthy();
  });

  it("a new pg_hba rule is pushed and PostgreSQL reloaded, not restarted", async () => {
    const started = { pg1: psqlOn("pg1", "SELECT pg_postmaster_start_time()"), pg2: psqlOn("pg2", "SELECT pg_postmaster_start_time()") };
    const spec = specWith(["    - { type: host, database: all, user: all, address: 10.117.1.0/24", "    - { type: host, database: reports, user: all, address: 10.117.2.0/24, method: scram-sha-256 }\n    - { type: host, database: all, user: all, address: 10.117.1.0/24"]);
    const d = await pgha(["diff", ...INV, "-s", spec]);
    expect(d.stdout).toContain("    pg1 (primary): PostgreSQL reload; no restart, no move\n      postgresql: PostgreSQL reload (pg_hba.conf change)\n    pg2 (standby): PostgreSQL reload; no restart");
    const a = await pgha(["apply", ...INV, "-s", spec]);
    expect(a.code, a.output).toBe(0);
    expect(a.stdout).toMatch(/reload postgresql/);
    for (const h of ["pg1", "pg2"] as const) {
      expect(psqlOn(h, "SELECT pg_postmaster_start_time()")).toBe(started[h]);
      await until(`the rule loaded on ${h}`, () => psqlOn(h, "SELECT count(*) FROM pg_hba_file_rules WHERE 'reports' = ANY(database)") === "1", 30_000, 1000);
    }
    expect((await pgha(["apply", ...INV, "-s", SPEC])).code).toBe(0);
  });

  it("a hand edit of corosync.conf on one node shows on that node only, and apply repairs it", async () => {
    onHost("pg2", "sed -i 's/token: 3000/token: 4000/' /etc/corosync/corosync.conf");
    const d = await pgha(["diff", ...INV, "-s", SPEC]);
    expect(d.code, d.output).toBe(2);
    expect(d.stdout).toContain("--- pg2: /etc/corosync/corosync.conf: update (content differs)");
    expect(d.stdout).toContain("-    token: 4000\n+    token: 3000");
    expect(d.stdout).not.toMatch(/--- pg1:/);
    const a = await pgha(["apply", ...INV, "-s", SPEC]);
    expect(a.code, a.output).toBe(0);
    expect(onHost("pg2", "grep token: /etc/corosync/corosync.conf")).toContain("token: 3000");
    expect((await pgha(["diff", ...INV, "-s", SPEC])).code).toBe(0);
  });

  const cmap = (h: string, key: string) => onHost(h, `corosync-cmapctl -g ${key}`).trim().split(" = ")[1];
  const pacemakerdPid = (h: string) => onHost(h, "pidof pacemakerd").trim();

  it("a totem timing change is applied with corosync-cfgtool -R: Pacemaker keeps running", async () => {
    const pids = { pg1: pacemakerdPid("pg1"), pg2: pacemakerdPid("pg2") };
    const spec = specWith(["token: 3000", "token: 4500"]);
    const check = await pgha(["apply", "--check", ...INV, "-s", spec]);
    expect(check.code, check.output).toBe(2);
    expect(check.stdout).toMatch(/would reload on pg1, pg2: totem\.token/);
    expect(check.stdout).toMatch(/\n    pg2 \(\w+\): corosync reload \(corosync-cfgtool -R\); no restart/);
    const a = await pgha(["apply", ...INV, "-s", spec]);
    expect(a.code, a.output).toBe(0);
    expect(a.stdout).toMatch(/reload on pg1, pg2: totem\.token/);
    for (const h of ["pg1", "pg2"] as const) {
      expect(cmap(h, "runtime.config.totem.token")).toBe("4500");
      expect(pacemakerdPid(h)).toBe(pids[h]);
    }
    const again = await pgha(["apply", ...INV, "-s", spec]);
    expect(again.stdout.trim().split("\n").at(-1)).toMatch(/^ok: nothing changed/);
  });

  it("a corosync.conf pushed by a run that stopped before applying it is applied by the next run", async () => {
    // What an interrupted run leaves: the new file on disk, corosync still running the old one.
    for (const h of ["pg1", "pg2"]) onHost(h, "sed -i 's/token: 4500/token: 3000/' /etc/corosync/corosync.conf");
    expect(cmap("pg1", "runtime.config.totem.token")).toBe("4500");
    const a = await pgha(["apply", ...INV, "-s", SPEC]);
    expect(a.code, a.output).toBe(0);
    expect(a.stdout).toMatch(/reload on pg1, pg2: totem\.token/);
    expect(cmap("pg1", "runtime.config.totem.token")).toBe("3000");
    expect(cmap("pg2", "runtime.config.totem.token")).toBe("3000");
  });

  it("a manual crm_resource --move is reported as a leftover constraint, not deleted", async () => {
    onHost("pg1", "crm_resource --ban -r vip-slave -N pg1");
    const d = await pgha(["diff", ...INV, "-s", SPEC]);
    expect(d.stdout).toMatch(/warning: constraint cli-ban-vip-slave-on-pg1 was left by crm_resource --move\/--ban/);
    expect(d.code, d.output).toBe(0);
    const a = await pgha(["apply", ...INV, "-s", SPEC]);
    expect(a.code, a.output).toBe(0);
    expect(onHost("pg1", "cibadmin -Q -o constraints")).toContain('id="cli-ban-vip-slave-on-pg1"');
    const cleared = await pgha(["apply", "--clear-move-constraints", ...INV, "-s", SPEC]);
    expect(cleared.code, cleared.output).toBe(0);
    expect(onHost("pg1", "cibadmin -Q -o constraints")).not.toContain("cli-ban-");
  });

  it("the spec is authoritative: a resource added by hand is shown, then removed by apply", async () => {
    onHost("pg1", "crm configure primitive handmade ocf:heartbeat:Dummy");
    const d = await pgha(["diff", ...INV, "-s", SPEC]);
    expect(d.code, d.output).toBe(2);
    expect(d.stdout).toContain("    primitive handmade removed");
    expect((await pgha(["apply", ...INV, "-s", SPEC])).code).toBe(0);
    expect(onHost("pg1", "cibadmin -Q -o resources")).not.toContain("handmade");
    await healthy();
  });

  it("a parameter that needs a restart is reported as pending, never applied by a silent restart", async () => {
    const started = psqlOn("pg1", "SELECT pg_postmaster_start_time()");
    const d = await pgha(["diff", ...INV, "-s", specWith(["shared_buffers: 128MB", "shared_buffers: 160MB"])]);
    expect(d.stdout).toContain("    pg1 (primary): PostgreSQL reload; restart pending for shared_buffers (apply --rolling-restart applies it); no restart, no move\n");
    const a = await pgha(["apply", ...INV, "-s", specWith(["shared_buffers: 128MB", "shared_buffers: 160MB"])]);
    expect(a.code, a.output).toBe(0);
    expect(a.stdout).toMatch(/restart pending for: shared_buffers/);
    expect(psqlOn("pg1", "SELECT pg_postmaster_start_time()")).toBe(started);
    expect(psqlOn("pg1", "SHOW shared_buffers")).toBe("128MB");
  });

  it("--rolling-restart applies it: the standby first, then a switchover and the old primary", async () => {
    const spec = specWith(["shared_buffers: 128MB", "shared_buffers: 160MB"]);
    const before = where(clusterOn("pg1"), "pgsql", "Promoted")[0]!;
    const standby = before === "pg1" ? "pg2" : "pg1";
    const check = await pgha(["apply", "--check", "--rolling-restart", ...INV, "-s", spec]);
    expect(check.code, check.output).toBe(2);
    expect(check.stdout).toContain(`would restart ${standby}, switchover, then ${before} for shared_buffers`);
    const a = await pgha(["apply", "--rolling-restart", ...INV, "-s", spec], { timeoutMs: 600_000 });
    expect(a.code, a.output).toBe(0);
    expect(a.stdout).toContain(`restarted ${standby}, switchover, then ${before} for shared_buffers; primary now ${standby}`);
    await healthy();
    const s = clusterOn("pg1");
    expect(where(s, "pgsql", "Promoted")).toEqual([standby]);
    expect(s.nodes.filter((n) => n.standby).map((n) => n.name), "no node left in standby").toEqual([]);
    for (const h of ["pg1", "pg2"]) {
      expect(psqlOn(h, "SHOW shared_buffers")).toBe("160MB");
      expect(psqlOn(h, "SELECT count(*) FROM pg_settings WHERE pending_restart")).toBe("0");
      expect(onHost(h, "ls /var/lib/postgresql/tmp/PGSQL.lock 2>/dev/null || true").trim(), h).toBe(h === standby ? "/var/lib/postgresql/tmp/PGSQL.lock" : "");
    }
    // A write through the master VIP reaches the old primary, now a standby.
    psqlOn(standby, "CREATE TABLE IF NOT EXISTS rolled (x int); INSERT INTO rolled VALUES (1)");
    await until("the old primary to replay the write", () => psqlOn(before, "SELECT count(*) FROM rolled") === "1", 60_000, 1000);
    const again = await pgha(["apply", "--rolling-restart", ...INV, "-s", spec]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout.trim().split("\n").at(-1)).toMatch(/^ok: nothing changed/);
  }, 600_000);

  it("a change corosync cannot make at run time restarts the whole cluster, keeping the primary", async () => {
    const primary = where(clusterOn("pg1"), "pgsql", "Promoted")[0];
    const spec = specWith(["name: pgcluster", "name: pgcluster-b"]);
    const check = await pgha(["apply", "--check", ...INV, "-s", spec]);
    expect(check.code, check.output).toBe(2);
    expect(check.stdout).toMatch(/would do a coordinated restart of the whole cluster: totem\.cluster_name cannot change at run time/);
    expect(check.stdout).toMatch(new RegExp(`\n    ${primary} \\(primary\\): coordinated restart of the whole cluster: Pacemaker stops \\(standbys first, the primary last\\), corosync restarts, the same primary is promoted again;.*; no move\n`));
    const a = await pgha(["apply", ...INV, "-s", spec], { timeoutMs: 600_000 });
    expect(a.code, a.output).toBe(0);
    expect(a.stdout).toMatch(/coordinated restart of the whole cluster/);
    expect(cmap("pg1", "totem.cluster_name")).toBe("pgcluster-b");
    expect(cmap("pg2", "totem.cluster_name")).toBe("pgcluster-b");
    await healthy();
    expect(where(clusterOn("pg1"), "pgsql", "Promoted")).toEqual([primary]);
    const d = await pgha(["diff", ...INV, "-s", spec]);
    expect(d.code, d.output).toBe(0);
  }, 600_000);

  // Issue 18: rep_mode is a pgsql parameter whose change Pacemaker applies by restarting every instance.
  const repAsync = () => specWith(["name: pgcluster", "name: pgcluster-b"], ["mode: sync", "mode: async"]);

  it("a change that would restart the primary is refused without --allow-primary-restart, touching nothing", async () => {
    const primary = where(clusterOn("pg1"), "pgsql", "Promoted")[0]!;
    const before = { pg1: fileHashes("pg1"), pg2: fileHashes("pg2"), epoch: epoch() };
    const d = await pgha(["diff", ...INV, "-s", repAsync()]);
    expect(d.stdout).toMatch(new RegExp(`    ${primary}: restart pgsql \\(Promoted\\), due to resource definition change: the primary's PostgreSQL restarts`));
    expect(d.stdout).toMatch(/restart pgsql \(Unpromoted\).*a standby restarts/);
    expect(d.stdout).toContain("    apply needs --allow-primary-restart");
    const standby = primary === "pg1" ? "pg2" : "pg1";
    expect(d.stdout).toContain(`    ${primary} (primary): PostgreSQL restarts: demoted and stopped, started and promoted again (writes fail meanwhile); no move; apply needs --allow-primary-restart\n`);
    expect(d.stdout).toContain(`    ${standby} (standby): PostgreSQL restarts\n`);
    const check = await pgha(["apply", "--check", "--json", ...INV, "-s", repAsync()]);
    expect(check.code, check.output).toBe(2);
    const predicted = JSON.parse(check.stdout).tasks.find((t: { detail?: unknown }) => t.detail).detail.prediction;
    expect(predicted.disruptions).toEqual(["restart-primary"]);
    expect(predicted.missingFlags).toEqual(["--allow-primary-restart"]);
    const a = await pgha(["apply", ...INV, "-s", repAsync()]);
    expect(a.code, a.output).toBe(1);
    expect(a.output).toContain(`${primary}: restart pgsql (Promoted), due to resource definition change: the primary's PostgreSQL restarts`);
    expect(a.output).toContain("Not applied: this needs --allow-primary-restart");
    expect({ pg1: fileHashes("pg1"), pg2: fileHashes("pg2"), epoch: epoch() }).toEqual(before);
  });

  // Issue 20: a degraded cluster is still pgha's to work with, and never a 300 s wait for what cannot come.
  it("apply with a failed standby applies what it can and names pgha recover within seconds; status and diff name it; recover repairs it", async () => {
    const spec = specWith(["name: pgcluster", "name: pgcluster-b"]);
    const primary = where(clusterOn("pg1"), "pgsql", "Promoted")[0]!;
    onHost(primary, "kill -9 $(head -1 /var/lib/postgresql/15/pgha/postmaster.pid)");
    await until("a failover", () => where(clusterOn("pg1"), "pgsql", "Promoted").filter((n) => n !== primary).length === 1 && clusterOn("pg1").nodes.some((n) => n.failcounts.length), 120_000);
    const started = Date.now();
    const a = await pgha(["apply", ...INV, "-s", spec]);
    const seconds = (Date.now() - started) / 1000;
    console.log(`apply on a degraded cluster: exit ${a.code} after ${seconds.toFixed(1)} s`);
    expect(a.code, a.output).toBe(1);
    expect(a.output).toContain(`${primary} needs pgha recover ${primary}: fail count`);
    expect(seconds).toBeLessThan(120);
    for (const cmd of ["status", "diff"]) {
      const r = await pgha([cmd, ...INV, "-s", spec]);
      expect(r.stdout).toContain(`warning: ${primary} needs pgha recover ${primary}: fail count`);
      expect(r.stdout).not.toMatch(/crm_resource --cleanup -r pgsql/);
    }
    const rec = await pgha(["recover", ...INV, "-s", spec, primary], { timeoutMs: 600_000 });
    expect(rec.code, rec.output).toBe(0);
    await healthy();
    const d = await pgha(["diff", ...INV, "-s", spec]);
    expect(d.output).not.toMatch(/warning/);
  }, 600_000);

  it("with the flag it is rolled, never a restart of the primary in place: standbys first, then a switchover; apply ends with the cluster streaming", async () => {
    const primary = where(clusterOn("pg1"), "pgsql", "Promoted")[0]!;
    const standby = primary === "pg1" ? "pg2" : "pg1";
    const d = await pgha(["diff", ...INV, "-s", repAsync()]);
    expect(d.stdout).toContain("    apply --allow-primary-restart rolls it instead: the standbys stop, the CIB changes under maintenance mode");
    const marks = logMarks(["pg1", "pg2"]);
    const a = await pgha(["apply", "--allow-primary-restart", ...INV, "-s", repAsync()], { timeoutMs: 600_000 });
    expect(a.code, a.output).toBe(0);
    expect(a.output).toContain(`rolled: ${standby} stopped, the CIB changed under maintenance mode, ${standby} started with it, then a switchover to ${standby} and ${primary} restarted as its standby`);
    expect(onHost("pg1", "cibadmin -Q -o resources")).toMatch(/name="rep_mode" value="async"/);
    const after = clusterOn("pg1");
    expect(where(after, "pgsql", "Promoted")).toEqual([standby]);
    expect(after.nodes.find((n) => n.name === primary)?.attributes["pgsql-status"]).toBe("HS:async");
    expect(after.nodes.flatMap((n) => n.failcounts)).toEqual([]);
    // Pacemaker never restarted PostgreSQL in place: each instance stopped and started as pgha rolled it.
    expect(loggedTransitions(marks).flat().filter((x) => x.resource === "pgsql" && x.action === "restart")).toEqual([]);
    expect(onHost("pg1", "crm_attribute -t crm_config -n maintenance-mode -G -q 2>/dev/null || echo unset").trim()).toBe("unset");
    const clean = await pgha(["diff", ...INV, "-s", repAsync()]);
    expect(clean.code, clean.output).toBe(0);
  }, 600_000);

  // A change whose transition looks harmless, and which Pacemaker turns into a failover: a resource that
  // must run with the primary and cannot start on its node (Dummy's fail_start_on). crm_simulate cannot
  // know that a start will fail; apply must not call the result a success.
  it("a change that Pacemaker turns into a failover is never reported as success: exit 1 names what happened and pgha recover", async () => {
    const primary = where(clusterOn("pg1"), "pgsql", "Promoted")[0]!;
    const spec = specWith(["pacemaker:\n", `pacemaker:\n  extra_crm: "primitive app-check ocf:pacemaker:Dummy params fail_start_on=${primary} op monitor interval=10s\\ncolocation app-check-with-primary inf: app-check pgsql-clone:Promoted\\n"\n`], ["name: pgcluster", "name: pgcluster-b"], ["mode: sync", "mode: async"]);
    const d = await pgha(["diff", ...INV, "-s", spec]);
    expect(d.stdout).toContain(`${primary}: start app-check`);
    expect(d.stdout).not.toContain("apply needs");
    const a = await pgha(["apply", ...INV, "-s", spec], { timeoutMs: 600_000 });
    console.log(`a change turned into a failover: exit ${a.code}, primary ${primary} -> ${where(clusterOn("pg1"), "pgsql", "Promoted").join() || "none"}`);
    expect(a.code, a.output).toBe(1);
    expect(a.output).toMatch(new RegExp(`after the CIB change: (the primary moved from ${primary} to \\S+, which the plan did not say; .*pgha recover ${primary}|the primary on ${primary} stopped and no node was promoted|new fail counts: app-check on ${primary})`));
    expect(a.output).not.toMatch(/^ok: /m);
  }, 600_000);
});
