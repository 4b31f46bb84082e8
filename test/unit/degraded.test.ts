// Apply with a node down (issue 20): which unreachable nodes apply may go on without, what it tells the
// operator at the end, and that nothing waits for a node that is down or takes it for a new one.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decideBootstrap } from "../../src/apply.js";
import { degradedMessage, downNodes } from "../../src/degraded.js";
import { parseFacts } from "../../src/facts.js";
import { GatherError } from "../../src/gather.js";
import { joiningNodes } from "../../src/node-join.js";
import { parseCrmMon, type ClusterStatus } from "../../src/status.js";
import { missingFor } from "../../src/tasks.js";
import { renderExample, ROOT, thrownBy } from "./helpers.js";

const { model } = renderExample("sr-pgsql-2node");
const healthy = parseCrmMon(readFileSync(join(ROOT, "test", "fixtures", "status", "pgsql-2node-healthy.xml"), "utf8"));
const pg2Unreachable = [{ node: "pg2", error: "pg2: cannot connect to 10.117.1.12:22: connect EHOSTUNREACH" }];

/** pg2 lost power and was fenced: offline and clean, its instance gone, pg1 still the primary. */
function pg2Down(): ClusterStatus {
  const s = structuredClone(healthy);
  const pg2 = s.nodes.find((n) => n.name === "pg2")!;
  pg2.online = false;
  pg2.attributes = {};
  s.resources = s.resources.filter((r) => !r.nodes.includes("pg2"));
  return s;
}
const refusal = (f: () => unknown) => thrownBy(GatherError, f).message;

describe("downNodes: which unreachable nodes apply goes on without", () => {
  it("nothing unreachable: nothing down, whatever the view", () => {
    expect(downNodes([], [], undefined)).toEqual([]);
    expect(downNodes([], [], healthy)).toEqual([]);
  });

  it("a member that the running cluster has offline and fenced, with quorum on the others: off, or back with Pacemaker stopped", () => {
    const off = [{ node: "pg2", why: pg2Unreachable[0]!.error, reachable: false }];
    expect(downNodes(pg2Unreachable, [], pg2Down())).toEqual(off);
    expect(downNodes(pg2Unreachable, [], pg2Down(), ["pg1"])).toEqual(off);
    expect(downNodes([], ["pg2"], pg2Down())).toEqual([{ node: "pg2", why: "Pacemaker is stopped there, and the cluster has it offline", reachable: true }]);
  });

  it("a stopped node that is not such a member is left to the build decision (which refuses it, or joins it when it has no CIB)", () => {
    expect(downNodes([], ["pg2"], undefined)).toEqual([]);
    expect(downNodes([], ["pg2"], { ...pg2Down(), quorum: false })).toEqual([]);
    expect(downNodes([], ["pg3"], pg2Down())).toEqual([]);
  });

  it("refuses, naming the host and keeping 'nothing was changed', when pgha cannot tell a down node from a wrong inventory", () => {
    // No running cluster answers (a fresh cluster, or a typo'd address on the only other node).
    expect(refusal(() => downNodes(pg2Unreachable, [], undefined))).toMatch(/^cannot reach every node, nothing was changed:\n  pg2: cannot connect to 10\.117\.1\.12:22.*\n.*cannot tell a node that is down from a wrong inventory/);
    // The cluster runs pg2 fine: the inventory or SSH is wrong, not the node.
    expect(refusal(() => downNodes(pg2Unreachable, [], healthy))).toMatch(/the cluster has pg2 online: pgha cannot reach what the cluster can/);
    // Not a member at all: a new node (or a misspelt name) is never skipped.
    expect(refusal(() => downNodes([{ node: "pg3", error: "pg3: cannot connect" }], [], pg2Down()))).toMatch(/no member named pg3: check the inventory/);
  });

  it("refuses while the node is lost but not fenced, without quorum, and when --limit names the node that is down", () => {
    const unclean = pg2Down();
    unclean.nodes.find((n) => n.name === "pg2")!.unclean = true;
    expect(refusal(() => downNodes(pg2Unreachable, [], unclean))).toMatch(/pg2 is lost but not yet fenced/);
    expect(refusal(() => downNodes(pg2Unreachable, [], { ...pg2Down(), quorum: false }))).toMatch(/no quorum/);
    expect(refusal(() => downNodes(pg2Unreachable, [], pg2Down(), ["pg2"]))).toMatch(/--limit names pg2, which is down/);
  });
});

describe("degradedMessage", () => {
  const off = { node: "pg2", why: pg2Unreachable[0]!.error, reachable: false };
  it("says what was done, what was not, and the commands that bring the node back", () => {
    expect(degradedMessage([off], 3, [{ task: "apply the corosync configuration", msg: "coordinated restart of the whole cluster: totem.crypto_cipher cannot change at run time, and pg2 is down" }], false)).toBe(
      "pg2 is down (pg2: cannot connect to 10.117.1.12:22: connect EHOSTUNREACH): applied where it is safe (3 task(s) changed); " +
        "not done while a node is down: apply the corosync configuration (coordinated restart of the whole cluster: totem.crypto_cipher cannot change at run time, and pg2 is down). " +
        "To recover: boot pg2, then run pgha recover pg2, and run this apply again for pg2's own files",
    );
    expect(degradedMessage([off], 1, [], true)).toMatch(/^pg2 is down \(.*\): 1 task\(s\) would change where it is safe\. To recover: boot pg2, then run pgha recover pg2, and run this apply again/);
  });

  it("a node that is back with Pacemaker stopped needs only recover (its files were written this run)", () => {
    expect(degradedMessage([{ node: "pg2", why: "Pacemaker is stopped there, and the cluster has it offline", reachable: true }], 2, [], false)).toBe(
      "pg2 is down (Pacemaker is stopped there, and the cluster has it offline): applied where it is safe (2 task(s) changed). To recover: run pgha recover pg2",
    );
  });
});

describe("a node that is down is neither new nor waited for", () => {
  const active = parseFacts("SERVICE\tpacemaker\tactive\nCIB\t9\t12\n");
  it("without facts it does not join, and the build decision leaves it out", () => {
    expect(joiningNodes(model, { pg1: active })).toEqual([]);
    expect(decideBootstrap(model, { pg1: active }, ["pg2"])).toBe(false);
  });

  it("wait_for's conditions hold on the others without it", () => {
    const s = pg2Down();
    expect(missingFor("online", s, model, [])).toEqual(["nodes online: pg2"]);
    expect(missingFor("online", s, model, [], ["pg2"])).toEqual([]);
    expect(missingFor("replication", s, model, [], ["pg2"])).toEqual([]);
  });
});
