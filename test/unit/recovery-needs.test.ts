// Which nodes status and diff send to `pgha recover`, and why.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recoveryNeeds, recoveryWarning } from "../../src/recovery-needs.js";
import { parseCrmMon, type ClusterStatus } from "../../src/status.js";
import { renderExample, ROOT } from "./helpers.js";

const { model } = renderExample("sr-pgsql-2node");
const healthy = parseCrmMon(readFileSync(join(ROOT, "test", "fixtures", "status", "pgsql-2node-healthy.xml"), "utf8"));

/** The healthy cluster after pg1's PostgreSQL failed and pg2 took over, as crm_mon shows it. */
function failedOver(): ClusterStatus {
  const s = structuredClone(healthy);
  s.resources = s.resources.filter((r) => r.id !== "pgsql");
  s.resources.push({ id: "pgsql", agent: "ocf:heartbeat:pgsql", role: "Promoted", nodes: ["pg2"], failed: false, parent: "pgsql-clone" });
  const pg1 = s.nodes.find((n) => n.name === "pg1")!;
  pg1.failcounts = [{ resource: "pgsql", count: 1 }];
  pg1.attributes["pgsql-status"] = "STOP";
  return s;
}

describe("recoveryNeeds", () => {
  it("a healthy cluster needs nothing", () => {
    expect(recoveryNeeds(model, healthy)).toEqual([]);
  });

  it("the failed old primary needs recover, with each reason, the lock from the facts included", () => {
    const needs = recoveryNeeds(model, failedOver(), ["pg1"]);
    expect(needs.map(recoveryWarning)).toEqual(["pg1 needs pgha recover pg1: fail count 1 for pgsql; pgsql is not running as a standby (pgsql-status STOP); /var/lib/postgresql/tmp/PGSQL.lock is left"]);
  });

  it("an offline node needs it too; a node in standby set by hand does not; without a primary, no node does", () => {
    const off = failedOver();
    off.nodes.find((n) => n.name === "pg1")!.online = false;
    expect(recoveryNeeds(model, off)[0]?.reasons[0]).toBe("not in the cluster (offline, or Pacemaker stopped)");
    const away = failedOver();
    away.nodes.find((n) => n.name === "pg1")!.standby = true;
    expect(recoveryNeeds(model, away)).toEqual([]);
    const none = failedOver();
    none.resources = none.resources.filter((r) => r.id !== "pgsql");
    expect(recoveryNeeds(model, none)).toEqual([]);
  });
});
