// Issue 13 item 4 on the lab: what an operator switches by hand (maintenance mode, a stopped resource, a
// node in standby) is runtime state: apply keeps it and still applies the spec, diff and status warn about
// it, and only --clear-runtime-switches removes it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labSh } from "./lab-helpers.js";
import { clusterOn, onHost, pgha, specEdited, until, where } from "./pgha-helpers.js";

const INV = ["-i", "inventories/sr-pgsql-2node/hosts.yml"];
const SPEC = "inventories/sr-pgsql-2node/cluster.yml";
const threshold = (n: number) => specEdited(SPEC, ["migration-threshold: 1", `migration-threshold: ${n}`]);
const lastLine = (s: string) => s.trim().split("\n").at(-1);
const crmConfig = () => onHost("pg1", "cibadmin -Q -o configuration");

const healthy = () =>
  until(
    "a healthy cluster",
    () => {
      const s = clusterOn("pg1");
      return where(s, "pgsql", "Promoted").length === 1 && s.nodes.some((n) => n.attributes["pgsql-status"] === "HS:sync") && where(s, "vip-master", "Started").length === 1 && where(s, "vip-slave", "Started").length === 1;
    },
    180_000,
  );

/** Every switch these tests set, removed by hand (each may already be gone). */
const removeSwitches = () =>
  onHost(
    "pg1",
    "crm_attribute -t crm_config -n maintenance-mode -D; crm_resource -r vip-slave --meta -d target-role; for n in pg1 pg2; do crm_attribute -N $n -n standby -l forever -D; done; true",
  );

describe("the operator's switches on sr-pgsql-2node", () => {
  beforeAll(async () => {
    labSh(["up", "--nodes", "2"]);
    const build = await pgha(["apply", ...INV, "-s", SPEC]);
    if (build.code !== 0) throw new Error(`build failed:\n${build.output}`);
    await healthy();
  });

  afterAll(async () => {
    removeSwitches();
  });

  it("maintenance mode set by hand survives apply, and a spec change applied during it is in the CIB afterwards", async () => {
    onHost("pg1", "crm_attribute -t crm_config -n maintenance-mode -v true");
    const d = await pgha(["diff", ...INV, "-s", SPEC]);
    expect(d.code, d.output).toBe(0);
    expect(d.stdout).toContain("warning: maintenance-mode=true: Pacemaker will not act until it is removed (crm_attribute --name maintenance-mode --delete)");
    expect(lastLine(d.stdout)).toBe("no differences");

    const spec = threshold(3);
    const a = await pgha(["apply", ...INV, "-s", spec]);
    expect(a.code, a.output).toBe(0);
    expect(a.stdout).toContain("Pacemaker acts on this change only when maintenance mode ends");
    expect(a.stdout).toContain("not waited for the primary and standbys: maintenance-mode is on");
    expect(a.stdout).toMatch(/^warning: maintenance-mode=true/m);
    const cfg = crmConfig();
    expect(cfg).toMatch(/name="maintenance-mode" value="true"/);
    expect(cfg).toMatch(/name="migration-threshold" value="3"/);

    // A no-op in maintenance mode is still a no-op, and status says why Pacemaker stands still.
    const again = await pgha(["apply", ...INV, "-s", spec]);
    expect(again.code, again.output).toBe(0);
    expect(lastLine(again.stdout)).toMatch(/^ok: nothing changed/);
    const st = await pgha(["status", ...INV, "-s", spec]);
    expect(st.stdout).toMatch(/^warning: maintenance-mode=true: Pacemaker will not act/m);

    onHost("pg1", "crm_attribute -t crm_config -n maintenance-mode -D");
    expect((await pgha(["apply", ...INV, "-s", SPEC])).code).toBe(0);
    await healthy();
    expect(crmConfig()).not.toMatch(/maintenance-mode/);
  });

  it("target-role=Stopped on vip-slave set by hand survives apply and is a warning in diff", async () => {
    onHost("pg1", "crm_resource -r vip-slave --meta -p target-role -v Stopped");
    await until("vip-slave to stop", () => where(clusterOn("pg1"), "vip-slave", "Started").length === 0, 60_000, 1000);
    const d = await pgha(["diff", ...INV, "-s", SPEC]);
    expect(d.code, d.output).toBe(0);
    expect(d.stdout).toContain("warning: vip-slave target-role=Stopped set by hand: Pacemaker keeps vip-slave stopped (crm_resource --resource vip-slave --meta --delete-parameter target-role)");
    expect(d.stdout).not.toContain("--- CIB");

    const a = await pgha(["apply", ...INV, "-s", threshold(2)]);
    expect(a.code, a.output).toBe(0);
    expect(crmConfig()).toMatch(/name="target-role" value="Stopped"/);
    expect(where(clusterOn("pg1"), "vip-slave", "Started")).toEqual([]);
    const st = await pgha(["status", ...INV, "-s", SPEC]);
    expect(st.stdout).toMatch(/^warning: vip-slave target-role=Stopped set by hand/m);

    // Only the explicit flag removes it; the spec change is undone by the same run.
    const cleared = await pgha(["apply", "--clear-runtime-switches", ...INV, "-s", SPEC]);
    expect(cleared.code, cleared.output).toBe(0);
    expect(crmConfig()).not.toMatch(/name="target-role"/);
    await healthy();
  });

  it("a node put in standby by hand: apply neither refuses nor hangs, and reports it", async () => {
    const primary = where(clusterOn("pg1"), "pgsql", "Promoted")[0]!;
    const standby = primary === "pg1" ? "pg2" : "pg1";
    onHost("pg1", `crm_attribute -N ${standby} -n standby -v on -l forever`);
    await until(`pgsql to stop on ${standby}`, () => !clusterOn("pg1").resources.some((r) => r.id === "pgsql" && r.nodes.includes(standby)), 120_000, 1000);

    const started = Date.now();
    const a = await pgha(["apply", ...INV, "-s", threshold(2)], { timeoutMs: 240_000 });
    expect(a.code, a.output).toBe(0);
    expect(Date.now() - started, "apply waited for the node in standby").toBeLessThan(120_000);
    expect(a.stdout).toContain(`not waited for ${standby}: in standby or maintenance`);
    expect(a.stdout).toMatch(new RegExp(`^warning: node ${standby} is in standby \\(set by hand\\)`, "m"));
    expect(crmConfig()).toMatch(/name="migration-threshold" value="2"/);
    const d = await pgha(["diff", ...INV, "-s", SPEC]);
    expect(d.stdout).toContain(`warning: node ${standby} is in standby (set by hand): it runs no resources (crm_attribute --node ${standby} --name standby --delete)`);
    expect(where(clusterOn("pg1"), "pgsql", "Promoted")).toEqual([primary]);

    onHost("pg1", `crm_attribute -N ${standby} -n standby -l forever -D`);
    expect((await pgha(["apply", ...INV, "-s", SPEC])).code).toBe(0);
    await healthy();
  }, 400_000);

  it("leaves the cluster healthy, with no switch left and no difference", async () => {
    const d = await pgha(["diff", ...INV, "-s", SPEC]);
    expect(d.code, d.output).toBe(0);
    expect(lastLine(d.stdout)).toBe("no differences");
    expect(d.stdout).not.toMatch(/^warning: /m);
  });
});
