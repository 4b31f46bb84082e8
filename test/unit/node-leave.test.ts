// What apply plans when the spec drops a node of the running cluster (issue 17): which nodes leave, what
// is done to each, when pgha refuses, that corosync takes the nodelist and two_node at run time, and that
// the playbook drains the node before the others' corosync reload and forgets it after.
import { describe, expect, it } from "vitest";
import { classifyCorosyncChange } from "../../src/corosync-change.js";
import { leavePlan, leavingNodes, unreachableRefusal } from "../../src/node-leave.js";
import { loadPlaybook } from "../../src/playbook.js";
import { loadTemplates, renderCluster } from "../../src/render.js";
import type { ClusterStatus } from "../../src/status.js";
import { build, exampleText, renderExample, ROOT } from "./helpers.js";

const PG3 = "        pg3: { ansible_host: 10.117.1.13 }\n";
/** paf-3node without pg3 in the spec; the inventory keeps it, outside the cluster's group. */
const twoNodes = () =>
  build(
    exampleText("paf-3node")
      .replace("      pg3: { id: 3, links: [10.117.1.13, 10.117.2.13] }\n", "")
      .replace(/^ {6}pg3: \{ agent: "stonith:fence_dummy".*\n/m, "")
      .replace('"ANY 1 (pg1, pg2, pg3)"', '"ANY 1 (pg1, pg2)"'),
    exampleText("paf-3node", "hosts.yml").replace(PG3, `    retired:\n      hosts:\n${PG3}`),
  );

const node = (name: string, online = true) => ({ name, online, standby: false, maintenance: false, unclean: false, attributes: {}, failcounts: [] });
const status = (...nodes: ReturnType<typeof node>[]): ClusterStatus => ({ quorum: true, dc: "pg1", maintenanceMode: false, nodes, resources: [] });

describe("a node that leaves a running cluster", () => {
  const model = twoNodes();

  it("is a node of the running cluster, online or not, that the spec does not have", () => {
    expect(model.nodes.map((n) => n.name)).toEqual(["pg1", "pg2"]);
    expect(leavingNodes(model, status(node("pg1"), node("pg2"), node("pg3")))).toEqual([{ name: "pg3", online: true }]);
    expect(leavingNodes(model, status(node("pg1"), node("pg2"), node("pg3", false)))).toEqual([{ name: "pg3", online: false }]);
    expect(leavingNodes(model, status(node("pg1"), node("pg2")))).toEqual([]);
    // No answer from Pacemaker: nobody is known to leave.
    expect(leavingNodes(model, undefined)).toEqual([]);
    // A node the spec has but the cluster does not yet is joining, not leaving.
    expect(leavingNodes(renderExample("paf-3node").model, status(node("pg1"), node("pg2")))).toEqual([]);
  });

  it("is drained, stopped and forgotten when reachable; an offline one out of reach is only forgotten", () => {
    const kept = ["pg1", "pg2"];
    expect(leavePlan({ name: "pg3", online: true }, kept)).toBe(
      "pg3: standby until nothing runs there, then Pacemaker and corosync stopped there and its CIB files cleared; removed from the corosync nodelist of pg1, pg2 and from the CIB (crm_node -R); its data directory stays",
    );
    expect(leavePlan({ name: "pg3", online: false }, kept)).toMatch(/^pg3: \(offline\) Pacemaker and corosync stopped there/);
    expect(leavePlan({ name: "pg3", online: false }, kept, "it is not in the inventory")).toMatch(
      /^pg3 \(offline, it is not in the inventory: not drained, nothing stopped there; .*\): removed from the corosync nodelist of pg1, pg2/,
    );
  });

  it("is refused while it is online and out of reach, since it could not be drained first", () => {
    expect(unreachableRefusal({ name: "pg3", online: true }, "connect ETIMEDOUT")).toMatch(/^refusing: pg3 leaves the cluster and is online, but pgha cannot reach it \(connect ETIMEDOUT\).*Nothing was changed$/);
    expect(unreachableRefusal({ name: "pg3", online: false }, "connect ETIMEDOUT")).toBeUndefined();
    expect(unreachableRefusal({ name: "pg3", online: true })).toBeUndefined();
  });

  it("corosync takes the smaller nodelist and two_node at run time: a reload, no restart", () => {
    const conf = (m: ReturnType<typeof twoNodes>) => renderCluster(m, loadTemplates()).files.find((f) => f.node === "pg1" && f.path === "/etc/corosync/corosync.conf")!.content;
    const change = classifyCorosyncChange(conf(renderExample("paf-3node").model), conf(model));
    expect(change.apply).toBe("reload");
    expect(change.changed).toContain("quorum.two_node");
    expect(change.changed).toContain("nodelist.node[3].nodeid");
    expect(change.needRestart).toEqual([]);
  });

  it("reconfigure.yml drains before anything else changes and before the corosync reload, and forgets after it", () => {
    const names = loadPlaybook(`${ROOT}/playbooks/reconfigure.yml`).tasks.map((t) => `${t.module}${t.args.phase ? `:${String(t.args.phase)}` : ""}`);
    const at = (m: string) => names.indexOf(m);
    expect(at("node_leave:drain")).toBeGreaterThan(at("crm_predict"));
    expect(at("node_leave:drain")).toBeLessThan(Math.min(at("directories"), at("files"), at("corosync_apply")));
    expect(at("node_leave:forget")).toBeGreaterThan(at("corosync_apply"));
    expect(at("node_leave:forget")).toBeLessThan(at("crm_load"));
  });
});
