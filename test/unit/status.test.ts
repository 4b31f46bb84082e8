// crm_mon XML captured from a lab cluster that pgha built (sr-pgsql-2node), parsed without a cluster.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clusterStatusTable } from "../../src/cluster-status.js";
import { leftoverMoveConstraints, parseCrmMon, permanentNodeAttributes, statusTable } from "../../src/status.js";
import { missingFor } from "../../src/tasks.js";
import { renderExample, ROOT } from "./helpers.js";

const healthy = readFileSync(join(ROOT, "test/fixtures/status/pgsql-2node-healthy.xml"), "utf8");

describe("crm_mon XML", () => {
  const s = parseCrmMon(healthy);

  it("reads quorum, DC, nodes and node attributes", () => {
    expect(s.quorum).toBe(true);
    expect(s.dc).toBe("pg1");
    expect(s.nodes.map((n) => [n.name, n.online, n.attributes["pgsql-status"]])).toEqual([
      ["pg1", true, "PRI"],
      ["pg2", true, "HS:sync"],
    ]);
    expect(s.nodes[0]!.attributes.default_ping_set).toBe("100");
  });

  it("reads roles inside the promotable clone and group membership", () => {
    const pgsql = s.resources.filter((r) => r.id === "pgsql");
    expect(pgsql.map((r) => [r.role, r.nodes, r.parent])).toEqual(
      expect.arrayContaining([
        ["Promoted", ["pg1"], "pgsql-clone"],
        ["Unpromoted", ["pg2"], "pgsql-clone"],
      ]),
    );
    expect(s.resources.find((r) => r.id === "vip-master")).toMatchObject({ parent: "master-group", role: "Started", nodes: ["pg1"] });
  });

  it("makes one table row per node", () => {
    expect(statusTable(s, "pgsql", ["vip-master", "vip-rep", "vip-slave"], "pgsql-status")).toEqual([
      ["pg1", "online", "primary", "PRI", "vip-master,vip-rep", "-"],
      ["pg2", "online", "standby", "HS:sync", "vip-slave", "-"],
    ]);
  });

  it("wait_for sees a healthy pgsql cluster as done, and names what is missing otherwise", () => {
    const { model } = renderExample("sr-pgsql-2node");
    expect(missingFor("replication", s, model, ["pg2"])).toEqual([]);
    expect(missingFor("replication", s, model, [])).toEqual(["streaming replication from pg2"]);
    const degraded = healthy.replace('value="HS:sync"', 'value="HS:alone"');
    expect(missingFor("replication", parseCrmMon(degraded), model, ["pg2"])).toEqual(["pgsql-status=HS:sync on a standby (now: HS:alone)"]);
    expect(missingFor("online", undefined, model, [])).toEqual(["Pacemaker is not answering"]);
    // A monitor that ran before the WAL receiver started: stale until the next one.
    const stale = healthy.replace('<attribute name="pgsql-status" value="HS:sync"/>', '<attribute name="pgsql-status" value="HS:sync"/><attribute name="pgsql-receiver-status" value="ERROR"/>');
    expect(missingFor("replication", parseCrmMon(stale), model, ["pg2"])).toEqual(["pgsql-receiver-status=normal on pg2 (now: ERROR)"]);
    expect(missingFor("replication", parseCrmMon(stale.replace('"ERROR"', '"normal"')), model, ["pg2"])).toEqual([]);
  });

  it("finds cli-ban and cli-prefer constraints left by crm_resource --move", () => {
    const cib = `<cib><configuration><constraints>
      <rsc_location id="cli-prefer-pgsql-clone" rsc="pgsql-clone" node="pg2" score="INFINITY"/>
      <rsc_location id="location-fence-pg1" rsc="fence-pg1" node="pg1" score="-INFINITY"/>
      <rsc_location id="cli-ban-master-group-on-pg1" rsc="master-group" node="pg1" score="-INFINITY"/>
    </constraints></configuration></cib>`;
    expect(leftoverMoveConstraints(cib)).toEqual(["cli-ban-master-group-on-pg1", "cli-prefer-pgsql-clone"]);
  });
});

describe("permanent node attributes", () => {
  it("reads pgsql-data-status per node from the CIB's nodes section", () => {
    const cib = readFileSync(join(ROOT, "test/fixtures/status/pgsql-2node-cib.xml"), "utf8");
    expect(permanentNodeAttributes(cib)).toEqual({ pg1: { "pgsql-data-status": "LATEST" }, pg2: { "pgsql-data-status": "STREAMING|SYNC" } });
    const nodesOnly = cib.slice(cib.indexOf("<nodes>"), cib.indexOf("</nodes>") + 8);
    expect(permanentNodeAttributes(nodesOnly)).toEqual(permanentNodeAttributes(cib));
  });
});

describe("the status table, read through a shell", () => {
  it("gets crm_mon's view and the configuration in one command, then pg_stat_replication from the primary", async () => {
    const bin = mkdtempSync(join(tmpdir(), "pgha-status-"));
    const fake = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    writeFileSync(join(bin, "crm_mon.xml"), healthy);
    fake("crm_mon", `cat ${join(bin, "crm_mon.xml")}`);
    fake("cibadmin", `echo '<configuration><constraints><rsc_location id="cli-ban-pgsql-clone-on-pg2" rsc="pgsql-clone" node="pg2" score="-INFINITY"/></constraints><resources><primitive id="vip-slave"><meta_attributes id="m"><nvpair id="m-t" name="target-role" value="Stopped"/></meta_attributes></primitive></resources></configuration>'`);
    fake("runuser", "echo 'pg2 streaming sync'");
    const commands: string[] = [];
    const { model } = renderExample("sr-pgsql-2node");
    const view = await clusterStatusTable(model, async (n) => ({
      node: n.name,
      close: () => undefined,
      exec: async (command: string) => {
        commands.push(`${n.name}: ${command.split(" ")[0]}`);
        return { code: 0, stdout: execFileSync("sh", ["-c", command], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } }).toString(), stderr: "" };
      },
    }));
    expect(commands).toEqual(["pg1: crm_mon", "pg1: runuser"]);
    expect(view.status.leftoverConstraints).toEqual(["cli-ban-pgsql-clone-on-pg2"]);
    expect(view.status.replication).toEqual({ pg2: "streaming/sync" });
    expect(view.text).toMatch(/^pg1 +online +primary +PRI/m);
    expect(view.text).toMatch(/warning: leftover move constraint cli-ban-pgsql-clone-on-pg2/);
    expect(view.status.switches).toEqual([{ on: "resource", target: "vip-slave", name: "target-role", value: "Stopped" }]);
    expect(view.text).toMatch(/^warning: vip-slave target-role=Stopped set by hand: /m);
  });
});
