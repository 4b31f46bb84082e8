// What apply plans when a node is new to a running cluster (issue 17): which nodes join, that the
// build is never chosen for them, and that the pgsql agent's node_list, which pgha sets in place, is
// left out of what crm_simulate is asked (Pacemaker would otherwise restart every instance for it).
import { spawnSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { ApplyError, decideBootstrap } from "../../src/apply.js";
import { classifyCorosyncChange } from "../../src/corosync-change.js";
import { parseFacts } from "../../src/facts.js";
import { joiningNodes, keepLiveNodeListScript, nodeListResource, removedPrimaryRefusal } from "../../src/node-join.js";
import type { ClusterStatus } from "../../src/status.js";
import type { ClusterModel } from "../../src/model/types.js";
import { loadPlaybook } from "../../src/playbook.js";
import { loadTemplates, renderCluster } from "../../src/render.js";
import { parseSimulation } from "../../src/transition.js";
import { build, exampleText, renderExample, ROOT } from "./helpers.js";
import { missingTools, run, scratchCib } from "./scratch-cib.js";

/** sr-pgsql-2node with pg3 added to the inventory, the nodes and the fence devices (then `drop` applied to both texts). */
const threeNodes = (drop: (text: string) => string = (t) => t) =>
  build(
    drop(
      exampleText("sr-pgsql-2node")
        .replace("      pg2: { id: 2, links: [10.117.1.12, 10.117.2.12] }\n", "$&      pg3: { id: 3, links: [10.117.1.13, 10.117.2.13] }\n")
        .replace(/^ {6}pg2: \{ agent: "stonith:fence_dummy".*\n/m, "$&      pg3: { agent: \"stonith:fence_dummy\", params: { type: file, status_file: /var/lib/pacemaker/fence-pg3.status, pcmk_host_list: pg3 } }\n"),
    ),
    drop(exampleText("sr-pgsql-2node", "hosts.yml").replace("        pg2: { ansible_host: 10.117.1.12 }\n", "$&        pg3: { ansible_host: 10.117.1.13 }\n")),
  );

/** A host's facts: Pacemaker active or not, and how many primitives its cib.xml holds (none: no file). */
const host = (pacemaker: "active" | "inactive", primitives?: number) => parseFacts(`SERVICE\tpacemaker\t${pacemaker}\n${primitives === undefined ? "" : `CIB\t${primitives}\t12\n`}`);

describe("a node that joins a running cluster", () => {
  const model = threeNodes();
  const running = { pg1: host("active", 12), pg2: host("active", 12) };

  it("a new host (no CIB file) joins; apply reconfigures instead of refusing or building", () => {
    expect(model.nodes.map((n) => n.name)).toEqual(["pg1", "pg2", "pg3"]);
    const facts = { ...running, pg3: host("inactive") };
    expect(joiningNodes(model, facts)).toEqual(["pg3"]);
    expect(decideBootstrap(model, facts)).toBe(false);
    // Pacemaker started, its CIB empty: still new (an earlier run's start that did not get further).
    expect(joiningNodes(model, { ...running, pg3: host("inactive", 0) })).toEqual(["pg3"]);
  });

  it("a host that comes back empty (same name and address) joins like an added one", () => {
    const { model: two } = renderExample("sr-pgsql-2node");
    const facts = { pg1: host("active", 12), pg2: host("inactive") };
    expect(joiningNodes(two, facts)).toEqual(["pg2"]);
    expect(decideBootstrap(two, facts)).toBe(false);
  });

  it("a stopped node that holds the configuration is not new: apply refuses and names only it", () => {
    const facts = { ...running, pg3: host("inactive", 12) };
    expect(joiningNodes(model, facts)).toEqual([]);
    expect(() => decideBootstrap(model, facts)).toThrow(/Pacemaker is stopped on pg3; start it there first/);
    const mixed = { pg1: host("active", 12), pg2: host("inactive", 12), pg3: host("inactive") };
    expect(() => decideBootstrap(model, mixed)).toThrow(ApplyError);
    expect(() => decideBootstrap(model, mixed)).toThrow(/Pacemaker is stopped on pg2; start it there first/);
  });

  it("nothing joins a cluster that runs nowhere: fresh hosts are built, a stopped cluster is refused", () => {
    const fresh = { pg1: host("inactive"), pg2: host("inactive"), pg3: host("inactive") };
    expect(joiningNodes(model, fresh)).toEqual([]);
    expect(decideBootstrap(model, fresh)).toBe(true);
    const stopped = { pg1: host("inactive", 12), pg2: host("inactive", 12), pg3: host("inactive") };
    expect(joiningNodes(model, stopped)).toEqual([]);
    expect(() => decideBootstrap(model, stopped)).toThrow(/stopped on pg1, pg2, pg3/);
  });

  it("reconfigure.yml joins nodes after their files and the corosync reload, before it waits for every node and loads the CIB", () => {
    const names = loadPlaybook(join(ROOT, "playbooks", "reconfigure.yml")).tasks.map((t) => t.module + ":" + t.name);
    const at = (n: string) => names.findIndex((x) => x.startsWith(n));
    expect(at("node_join")).toBeGreaterThan(at("corosync_apply"));
    expect(at("node_join")).toBeGreaterThan(names.indexOf("files:postgresql configuration"));
    expect(at("node_join")).toBeLessThan(at("wait_for"));
    expect(at("node_join")).toBeLessThan(at("crm_load"));
  });

  it("the running nodes take the 3-node corosync.conf by reload: the new node and two_node's removal change at run time", () => {
    // votequorum_readconfig re-reads quorum.two_node at run time ("changing of two_node is" supported,
    // and wait_for_all follows it unless set explicitly); a node new as a whole is corosync.conf(5)'s reload.
    const conf = (m: ClusterModel) => renderCluster(m, loadTemplates()).files.find((f) => f.node === "pg1" && f.path === "/etc/corosync/corosync.conf")!.content;
    const r = classifyCorosyncChange(conf(renderExample("sr-pgsql-2node").model), conf(model));
    expect(r.apply).toBe("reload");
    expect(r.changed).toEqual(["nodelist.node[3].name", "nodelist.node[3].nodeid", "nodelist.node[3].ring0_addr", "nodelist.node[3].ring1_addr", "quorum.two_node"]);
  });

  it("only the pgsql agent's node_list is set in place (PAF has none)", () => {
    expect(nodeListResource(model)).toBe("pgsql");
    expect(nodeListResource(renderExample("paf-3node").model)).toBeUndefined();
  });
});

describe("a node the spec drops", () => {
  const node = (name: string) => ({ name, online: true, standby: false, maintenance: false, unclean: false, attributes: {}, failcounts: [] });
  const pgsql = (role: string, at: string) => ({ id: "pgsql", agent: "ocf:heartbeat:pgsql", role, nodes: [at], failed: false, managed: true, parent: "pgsql-clone" });
  const live: ClusterStatus = { quorum: true, dc: "pg1", maintenanceMode: false, nodes: ["pg1", "pg2", "pg3"].map(node), resources: [pgsql("Promoted", "pg1"), pgsql("Unpromoted", "pg2"), pgsql("Unpromoted", "pg3")] };

  it("is refused when it runs the primary, naming the switchover to a node the spec keeps", () => {
    const withoutPg1 = threeNodes((t) =>
      t.replace(/^ {6,8}pg1: \{.*\n/gm, "").replace("primary: pg1", "primary: pg2"),
    );
    expect(withoutPg1.nodes.map((n) => n.name)).toEqual(["pg2", "pg3"]);
    expect(removedPrimaryRefusal(withoutPg1, live)).toMatch(/^refusing: the spec removes pg1, which runs the primary; switch over .*pgha switchover --to pg2.*Nothing was changed$/);
  });

  it("is not refused when it is a standby, nor when the primary stays", () => {
    expect(removedPrimaryRefusal(renderExample("sr-pgsql-2node").model, live)).toBeUndefined();
    expect(removedPrimaryRefusal(threeNodes(), live)).toBeUndefined();
    expect(removedPrimaryRefusal(threeNodes(), undefined)).toBeUndefined();
  });
});

const tools = missingTools(["crm", "cibadmin", "crm_simulate", "crm_resource"]);

describe.skipIf(tools.length > 0)("crm_simulate of a node_list change", { timeout: 120_000 }, () => {
  /** The 2-node cluster settled on paper: crm_simulate until it plans nothing more. */
  const settled = () => {
    let file = scratchCib(renderExample("sr-pgsql-2node").rendered.crm, {
      pg1: { "master-pgsql": "1000", "pgsql-status": "PRI", default_ping_set: "200" },
      pg2: { "master-pgsql": "100", "pgsql-status": "HS:sync", default_ping_set: "200" },
    }).file;
    for (let i = 1; i <= 5; i++) {
      const next = join(dirname(file), `settled-${i}.xml`);
      const out = run("crm_simulate", ["-x", file, "-S", "-O", next]);
      file = next;
      if (!/Transition Summary:\n\s*\*/.test(out)) break;
    }
    return file;
  };
  const actions = (file: string) => parseSimulation(run("crm_simulate", ["-x", file, "-S", "--output-as=xml"])).map((a) => `${a.action} ${a.resource} ${a.node}`).sort();

  it("restarts both instances, the primary's too, unless the live node_list is kept for the simulation", () => {
    const live = settled();
    const desired = join(dirname(live), "desired.xml");
    copyFileSync(live, desired);
    run("crm_resource", ["-r", "pgsql", "-p", "node_list", "-v", "pg1 pg2 pg3"], { ...process.env, CIB_file: desired });
    expect(actions(desired)).toEqual(["restart pgsql pg1", "restart pgsql pg2"]);
    const simulated = join(dirname(live), "simulated.xml");
    copyFileSync(desired, simulated);
    const r = spawnSync("sh", ["-c", keepLiveNodeListScript("pgsql", live, simulated)], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(run("crm_resource", ["-r", "pgsql", "-g", "node_list"], { ...process.env, CIB_file: simulated }).trim()).toBe("pg1 pg2");
    expect(actions(simulated)).toEqual([]);
  });
});
