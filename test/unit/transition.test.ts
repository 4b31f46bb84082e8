// Reading crm_simulate's transitions (recorded from Pacemaker 2.1.5 on the sr-pgsql-2node CIB, pg1 primary)
// into what a change does to the database, and which disruptions need the operator's flag.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { missingFlags, parseSimulation, predict, primaryOf } from "../../src/transition.js";
import { ROOT } from "./helpers.js";

const recorded = (name: string) => parseSimulation(readFileSync(join(ROOT, "test", "fixtures", "simulate", `${name}.xml`), "utf8"));
const ids = { postgresql: "pgsql", primary: "pg1" };

describe("parseSimulation", () => {
  it("reads restarts with their roles and reasons, without clone instance numbers", () => {
    expect(recorded("rep-mode-async")).toEqual([
      { action: "restart", resource: "pgsql", node: "pg1", role: "Promoted", reason: "resource definition change" },
      { action: "restart", resource: "pgsql", node: "pg2", role: "Unpromoted", reason: "resource definition change" },
    ]);
  });

  it("reads moves, stops, promotions and fencing", () => {
    expect(recorded("primary-monitor-failed")).toEqual([
      { action: "move", resource: "vip-master", node: "pg1", to: "pg2" },
      { action: "move", resource: "vip-rep", node: "pg1", to: "pg2" },
      { action: "stop", resource: "pgsql", node: "pg1", role: "Promoted", reason: "node availability" },
      { action: "promote", resource: "pgsql", node: "pg2", role: "Unpromoted", nextRole: "Promoted" },
    ]);
    expect(recorded("failed-stop-fence")[0]).toEqual({ action: "fence", node: "pg1", reason: "pgsql:0 failed there" });
  });

  it("an empty transition is no action, and output without a transition is an error", () => {
    expect(recorded("migration-threshold")).toEqual([]);
    expect(() => parseSimulation("<pacemaker-result><status code='1'/></pacemaker-result>")).toThrow(/no <actions>/);
  });
});

describe("primaryOf", () => {
  const xml = (name: string) => readFileSync(join(ROOT, "test", "fixtures", "simulate", `${name}.xml`), "utf8");
  it("finds the promoted instance's node in crm_simulate's status", () => {
    expect(primaryOf(xml("rep-mode-async"), "pgsql")).toBe("pg1");
    expect(primaryOf(xml("rep-mode-async"), "nosuch")).toBeUndefined();
  });
});

describe("predict", () => {
  it("rep_mode sync -> async restarts the primary's PostgreSQL: it needs --allow-primary-restart", () => {
    const p = predict(recorded("rep-mode-async"), [], ids);
    expect(p.disruptions).toEqual(["restart-primary"]);
    expect(p.lines[0]).toBe("pg1: restart pgsql (Promoted), due to resource definition change: the primary's PostgreSQL restarts: writes fail meanwhile, and the pgsql agent may promote a standby instead");
    expect(p.lines[1]).toMatch(/^pg2: restart pgsql \(Unpromoted\).*a standby restarts/);
    expect(missingFlags(p, [])).toEqual(["--allow-primary-restart"]);
    expect(missingFlags(p, ["restart-primary"])).toEqual([]);
    // Only PostgreSQL's own parameter restarts it: apply rolls the change instead (standbys first).
    expect(p.rolls).toBe(true);
  });

  it("a primary restart that another resource's change causes, or one that comes with a move, is not rolled", () => {
    const vipToo = [...recorded("rep-mode-async"), ...recorded("vip-master-address")];
    expect(predict(vipToo, [], ids).rolls).toBeUndefined();
    expect(predict([...recorded("rep-mode-async"), ...recorded("primary-monitor-failed")], [], ids).rolls).toBeUndefined();
    expect(predict(recorded("vip-master-address"), [], ids).rolls).toBeUndefined();
  });

  it("a vip-master address change restarts the VIPs on the primary's node and nothing of PostgreSQL", () => {
    const p = predict(recorded("vip-master-address"), [], ids);
    expect(p.lines).toEqual(["pg1: restart vip-master, due to resource definition change", "pg1: restart vip-rep, due to required vip-master start"]);
    expect(p.disruptions).toEqual([]);
  });

  it("a migration-threshold change does nothing", () => {
    expect(predict(recorded("migration-threshold"), [], ids)).toEqual({ actions: [], disruptions: [], lines: [] });
  });

  it("a failover and a fence are disruptions of their own", () => {
    expect(predict(recorded("primary-monitor-failed"), [], ids).disruptions).toEqual(["move-primary"]);
    expect(predict(recorded("failed-stop-fence"), [], ids).disruptions.sort()).toEqual(["fence", "move-primary"]);
  });

  it("what the live cluster would do anyway is not the change's doing", () => {
    const pending = recorded("primary-monitor-failed");
    expect(predict(pending, pending, ids)).toEqual({ actions: [], disruptions: [], lines: [] });
  });
});
