// The decision that guards every build: stopping Pacemaker everywhere and clearing the CIB is only ever
// allowed while no node runs a configured cluster.
import { describe, expect, it } from "vitest";
import { ApplyError, decideBootstrap } from "../../src/apply.js";
import { formatDiff } from "../../src/diff.js";
import { predict } from "../../src/transition.js";
import { parseFacts } from "../../src/facts.js";
import { renderExample } from "./helpers.js";

const { model } = renderExample("sr-pgsql-2node");
const host = (pacemaker: "active" | "inactive", primitives?: number) =>
  parseFacts(`SERVICE\tpacemaker\t${pacemaker}\n${primitives === undefined ? "" : `CIB\t${primitives}\t12\n`}`);

describe("decideBootstrap", () => {
  it("builds fresh hosts, and hosts where Pacemaker runs without a configuration (a half-finished build)", () => {
    expect(decideBootstrap(model, { pg1: host("inactive"), pg2: host("inactive") })).toBe(true);
    expect(decideBootstrap(model, { pg1: host("active", 0), pg2: host("inactive") })).toBe(true);
  });

  it("never rebuilds a configured cluster that runs everywhere", () => {
    expect(decideBootstrap(model, { pg1: host("active", 9), pg2: host("active", 9) })).toBe(false);
  });

  it("refuses, naming the nodes, when a configured cluster runs on some nodes only (a node without a CIB joins: node-join.test.ts)", () => {
    expect(() => decideBootstrap(model, { pg1: host("active", 9), pg2: host("inactive", 9) })).toThrow(ApplyError);
    expect(() => decideBootstrap(model, { pg1: host("active", 9), pg2: host("inactive", 9) })).toThrow(
      /configured and running on pg1, and in the CIB files of pg2, but Pacemaker is stopped on pg2; start it there first .*will not stop a live cluster/,
    );
  });

  it("never clears the CIB of a configured cluster that is stopped everywhere (it keeps pgsql-data-status)", () => {
    expect(() => decideBootstrap(model, { pg1: host("inactive", 9), pg2: host("inactive", 9) })).toThrow(
      /configured in the CIB files of pg1, pg2, but Pacemaker is stopped on pg1, pg2; start it there first .*or clear a configured CIB/,
    );
    expect(decideBootstrap(model, { pg1: host("inactive", 0), pg2: host("inactive") })).toBe(true);
  });
});

describe("formatDiff", () => {
  it("prints file diffs, hides secret files, summarises the CIB, and ends with the count", () => {
    const lines = formatDiff(
      {
        files: [
          { node: "pg1", path: "/etc/corosync/corosync.conf", action: "update", reasons: ["content differs"], diff: "--- a\n+++ b\n" },
          { node: "pg2", path: "/var/lib/postgresql/.pgpass", action: "update", reasons: ["content differs"] },
        ],
        cib: { node: "pg1", summary: ["rsc_defaults migration-threshold: 1 -> 3"], patch: "<diff/>" },
        warnings: ["node pg2 is in standby"],
        differences: 3,
        nodes: { pg1: { role: "primary", actions: [{ kind: "corosync", what: "corosync reload (corosync-cfgtool -R)", why: "changed: totem.token" }], verdict: "pg1 (primary): corosync reload (corosync-cfgtool -R); no restart, no move" } },
      },
      false,
    );
    expect(lines).toEqual([
      "--- pg1: /etc/corosync/corosync.conf: update (content differs)",
      "--- a\n+++ b",
      "--- pg2: /var/lib/postgresql/.pgpass: update (content differs)",
      "    (content holds a secret: not shown)",
      "--- CIB (compared on pg1):",
      "    rsc_defaults migration-threshold: 1 -> 3",
      "--- plan per node:",
      "    pg1 (primary): corosync reload (corosync-cfgtool -R); no restart, no move",
      "      corosync: corosync reload (corosync-cfgtool -R) (changed: totem.token)",
      "warning: node pg2 is in standby",
      "3 difference(s)",
    ]);
    expect(formatDiff({ files: [], warnings: [], differences: 0, nodes: {} }, false)).toEqual(["no differences"]);
  });

  it("says what Pacemaker would do, and which apply flag that needs", () => {
    const restart = predict([{ action: "restart", resource: "pgsql", node: "pg1", role: "Promoted", reason: "resource definition change" }], [], { postgresql: "pgsql", primary: "pg1" });
    const cib = (prediction: typeof restart) => ({ files: [], cib: { node: "pg1", summary: ["primitive pgsql: rep_mode sync -> async"], patch: "", prediction }, warnings: [], differences: 1, nodes: {} });
    expect(formatDiff(cib(restart), false).slice(2)).toEqual([
      "--- Pacemaker would (crm_simulate on pg1):",
      "    pg1: restart pgsql (Promoted), due to resource definition change: the primary's PostgreSQL restarts: writes fail meanwhile, and the pgsql agent may promote a standby instead",
      "    apply needs --allow-primary-restart",
      "    apply --allow-primary-restart rolls it instead: the standbys stop, the CIB changes under maintenance mode, the standbys start with it, then a switchover and the old primary restarts as a standby",
      "1 difference(s)",
    ]);
    expect(formatDiff(cib(predict([], [], { postgresql: "pgsql" })), false).slice(2, 3)).toEqual(["--- Pacemaker would change nothing that runs (crm_simulate on pg1)"]);
  });
});
