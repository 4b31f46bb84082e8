// crm_predict's pure parts: reading the two transitions the node prints, and what a settled cluster
// shows that the plan did not say.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describePlan, predictionOf, surprises } from "../../src/cib-predict.js";
import type { ClusterStatus } from "../../src/status.js";
import { predict } from "../../src/transition.js";
import { ROOT } from "./helpers.js";

const fixture = (name: string) => readFileSync(join(ROOT, "test", "fixtures", "simulate", `${name}.xml`), "utf8");
const MARK = "--- pgha: desired transition ---";

describe("predictionOf", () => {
  it("takes the live CIB's transition, then the desired one's, and the primary from the live status", () => {
    const p = predictionOf(`${fixture("migration-threshold")}\n${MARK}\n${fixture("rep-mode-async")}`, "pgsql");
    expect(p.disruptions).toEqual(["restart-primary"]);
    expect(describePlan(p, ["--allow-primary-restart"])).toMatch(/^Pacemaker would: pg1: restart pgsql \(Promoted\).*\. Not applied: this needs --allow-primary-restart$/);
  });

  it("refuses output without both transitions", () => {
    expect(() => predictionOf(fixture("rep-mode-async"), "pgsql")).toThrow(/incomplete/);
  });
});

describe("surprises", () => {
  const state = (primary: string, fails: Record<string, number> = {}): ClusterStatus => ({
    quorum: true,
    maintenanceMode: false,
    nodes: ["pg1", "pg2"].map((name) => ({ name, online: true, standby: false, maintenance: false, unclean: false, attributes: {}, failcounts: fails[name] ? [{ resource: "pgsql", count: fails[name]! }] : [] })),
    resources: ["pg1", "pg2"].map((n) => ({ id: "pgsql", agent: "ocf:heartbeat:pgsql", role: n === primary ? "Promoted" : "Unpromoted", nodes: [n], failed: false })),
  });
  const restart = predict([{ action: "restart", resource: "pgsql", node: "pg1", role: "Promoted" }], [], { postgresql: "pgsql", primary: "pg1" });
  const move = predict([{ action: "promote", resource: "pgsql", node: "pg2", role: "Unpromoted", nextRole: "Promoted" }], [], { postgresql: "pgsql", primary: "pg1" });

  it("a restart that ends with the same primary and no failures is as planned", () => {
    expect(surprises(state("pg1"), state("pg1"), "pgsql", restart)).toEqual([]);
  });

  it("a restart that ends in a failover is a surprise, named with the node that must be rebuilt", () => {
    expect(surprises(state("pg1"), state("pg2", { pg1: 1 }), "pgsql", restart)).toEqual([
      "the primary moved from pg1 to pg2, which the plan did not say; pg1 must be rebuilt as a standby of pg2 before it rejoins (pgha recover pg1)",
      "new fail counts: pgsql on pg1 (1)",
    ]);
  });

  it("a primary that stopped with nobody promoted says so", () => {
    const none = state("pg1");
    none.resources = none.resources.map((r) => ({ ...r, role: "Stopped" }));
    expect(surprises(state("pg1"), none, "pgsql", restart)).toEqual(["the primary on pg1 stopped and no node was promoted, which the plan did not say: the cluster has no primary now (pgha status shows why)"]);
  });

  it("a planned move is not a surprise; an old fail count is not a new one", () => {
    expect(surprises(state("pg1", { pg2: 1 }), state("pg2", { pg2: 1 }), "pgsql", move)).toEqual([]);
  });
});
