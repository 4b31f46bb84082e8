// The operator's switches read from a CIB that pgha built on the lab (sr-pgsql-2node), with switches set
// the way crm_attribute and crm_resource write them; and what wait_for makes of a node in standby.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runtimeSwitches, switchWarning } from "../../src/runtime-switches.js";
import { parseCrmMon } from "../../src/status.js";
import { heldBack, missingFor } from "../../src/tasks.js";
import { renderExample, ROOT } from "./helpers.js";
import { missingTools, run } from "./scratch-cib.js";

const cib = readFileSync(join(ROOT, "test/fixtures/status/pgsql-2node-cib.xml"), "utf8");
const healthy = readFileSync(join(ROOT, "test/fixtures/status/pgsql-2node-healthy.xml"), "utf8");

/** The fixture with nvpairs in a set of their own (meta_attributes, or a node's instance_attributes) right after `at`. */
const withPairs = (xml: string, at: string, tag: "meta_attributes" | "instance_attributes", set: string, pairs: [string, string][]) => {
  if (!xml.includes(at)) throw new Error(`fixture has no ${at}`);
  const nv = pairs.map(([n, v]) => `<nvpair id="${set}-${n}" name="${n}" value="${v}"/>`).join("");
  return xml.replace(at, `${at}<${tag} id="${set}">${nv}</${tag}>`);
};

describe("the operator's switches in the CIB", () => {
  it("finds none in a cluster as pgha built it", () => {
    expect(runtimeSwitches(cib)).toEqual([]);
  });

  it("finds each switch that holds something back, and none set to its default", () => {
    let x = cib.replace('<nvpair id="cib-bootstrap-options-have-watchdog"', '<nvpair id="cib-bootstrap-options-maintenance-mode" name="maintenance-mode" value="true"/>$&');
    x = x.replace('<nvpair name="resource-stickiness" value="1" id="vip-slave-meta_attributes-resource-stickiness"/>', '$&<nvpair id="vip-slave-meta_attributes-target-role" name="target-role" value="Stopped"/>');
    x = withPairs(x, '<clone id="pgsql-clone">', "meta_attributes", "pgsql-clone-meta", [["is-managed", "false"], ["target-role", "Started"]]);
    x = withPairs(x, '<group id="master-group">', "meta_attributes", "master-group-meta", [["maintenance", "true"], ["is-managed", "true"]]);
    x = withPairs(x, '<node id="2" uname="pg2">', "instance_attributes", "nodes-2-switches", [["standby", "on"]]);
    x = withPairs(x, '<node id="1" uname="pg1">', "instance_attributes", "nodes-1-switches", [["maintenance", "false"]]);
    const switches = runtimeSwitches(x);
    expect(switches).toEqual([
      { on: "cluster", target: "", name: "maintenance-mode", value: "true" },
      { on: "resource", target: "vip-slave", name: "target-role", value: "Stopped" },
      { on: "resource", target: "master-group", name: "maintenance", value: "true" },
      { on: "resource", target: "pgsql-clone", name: "is-managed", value: "false" },
      { on: "node", target: "pg2", name: "standby", value: "on" },
    ]);
    expect(switches.map(switchWarning)).toEqual([
      "maintenance-mode=true: Pacemaker will not act until it is removed (crm_attribute --name maintenance-mode --delete)",
      "vip-slave target-role=Stopped set by hand: Pacemaker keeps vip-slave stopped (crm_resource --resource vip-slave --meta --delete-parameter target-role)",
      "master-group maintenance=true set by hand: Pacemaker does not manage master-group (crm_resource --resource master-group --meta --delete-parameter maintenance)",
      "pgsql-clone is-managed=false set by hand: Pacemaker does not manage pgsql-clone (crm_resource --resource pgsql-clone --meta --delete-parameter is-managed)",
      "node pg2 is in standby (set by hand): it runs no resources (crm_attribute --node pg2 --name standby --delete)",
    ]);
    // Each advice runs as printed with Pacemaker's own tools (no crmsh or pcs) and removes its switch.
    if (missingTools(["crm_attribute", "crm_resource"]).length) return;
    const file = join(mkdtempSync(join(tmpdir(), "pgha-switches-")), "cib.xml");
    writeFileSync(file, x);
    for (const advice of switches.map(switchWarning)) {
      const [cmd, ...args] = /\((crm_\S+ [^)]*)\)$/.exec(advice)![1]!.split(" ");
      run(cmd!, args, { ...process.env, CIB_file: file });
    }
    expect(runtimeSwitches(readFileSync(file, "utf8"))).toEqual([]);
  });

  it("wait_for does not wait for what a switch holds back, as crm_mon shows it", () => {
    const { model } = renderExample("sr-pgsql-2node");
    const held = (edit: (xml: string) => string) => heldBack(parseCrmMon(edit(healthy)), model);
    expect(held((x) => x)).toBeUndefined();
    expect(held((x) => x.replace('maintenance-mode="false"', 'maintenance-mode="true"'))).toBe("maintenance-mode is on");
    // crm_mon gives a clone's target-role to each instance, and says when a group member is not managed.
    expect(held((x) => x.replaceAll('<resource id="pgsql" ', '<resource id="pgsql" target_role="Stopped" '))).toBe("pgsql is held at target-role=Stopped");
    expect(held((x) => x.replace(/(<resource id="vip-master" [^>]*)managed="true"/, '$1managed="false"'))).toBe("vip-master is not managed");
    // vip-slave stopped by hand keeps neither PostgreSQL nor the primary's VIPs from their roles.
    expect(held((x) => x.replace('<resource id="vip-slave" ', '<resource id="vip-slave" target_role="Stopped" '))).toBeUndefined();
  });

  it("wait_for expects no standby on a node in standby or maintenance, and still everything else", () => {
    const { model } = renderExample("sr-pgsql-2node");
    // pg2 stopped: Pacemaker stopped its instance, the agent says STOP, the primary streams to nobody.
    const stopped = healthy.replace(/<resource id="pgsql" resource_agent="ocf:heartbeat:pgsql" role="Unpromoted"[^]*?<\/resource>/, "").replace('value="HS:sync"', 'value="STOP"');
    expect(missingFor("replication", parseCrmMon(stopped), model, [])).toEqual(["standby role on pg2", "streaming replication from pg2", "pgsql-status=HS:sync on a standby (now: STOP)"]);
    for (const flag of ["standby", "maintenance"]) {
      const away = parseCrmMon(stopped.replace(new RegExp(`(<node name="pg2" id="2" [^>]*) ${flag}="false"`), `$1 ${flag}="true"`));
      expect(away.nodes.find((n) => n.name === "pg2")).toMatchObject({ [flag]: true });
      expect(missingFor("replication", away, model, [])).toEqual([]);
    }
    // The primary is still required: a node in standby excuses only itself.
    const noPrimary = parseCrmMon(stopped.replace('role="Promoted"', 'role="Unpromoted"').replace(/(<node name="pg2" id="2" [^>]*) standby="false"/, '$1 standby="true"'));
    expect(missingFor("replication", noPrimary, model, [])).toContain("one promoted pgsql (now: none)");
    // A standby Pacemaker gave up on is not waited for either: wait_for reports it for pgha recover.
    expect(missingFor("replication", parseCrmMon(stopped), model, [], ["pg2"])).toEqual([]);
  });
});
