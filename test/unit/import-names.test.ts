// A spec can keep the names a hand-built cluster already uses (issue 15): resource and constraint ids in
// the Linux-HA Japan style render into a cluster.crm that real crmsh loads with exactly those ids.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { parseSpec } from "../../src/spec.js";
import { build, exampleText, renderExample } from "./helpers.js";
import { loadTemplates, renderCluster } from "../../src/render.js";
import { missingTools, run, scratchCib } from "./scratch-cib.js";
import { LHAJ_IDS } from "./lhaj-ids.js";


/** The 2-node pgsql example with the names of a Linux-HA Japan sheet. */
function lhajSpec(): string {
  const spec = parse(exampleText("sr-pgsql-2node"));
  spec.pacemaker.syntax = "ms";
  spec.pacemaker.ids = LHAJ_IDS;
  for (const [node, i] of [["pg1", 1], ["pg2", 2]] as const) Object.assign(spec.pacemaker.stonith.devices[node], { id: `prmStonith${i}-1`, location_id: `rsc_location-grpStonith${i}-1` });
  return stringify(spec);
}

describe("pacemaker.ids and a fence device's id", () => {
  it("the schema takes crm ids and refuses what crmsh could not parse", () => {
    expect(parseSpec(lhajSpec(), "cluster.yml").spec.pacemaker?.stonith?.devices?.pg1?.id).toBe("prmStonith1-1");
    const bad = parse(lhajSpec());
    bad.pacemaker.ids.order_promote = "order promote";
    expect(() => parseSpec(stringify(bad), "cluster.yml")).toThrow(/order_promote/);
  });

  it("defaults leave the render as it was; set, they name every element", () => {
    const defaults = renderExample("sr-pgsql-2node").rendered.crm;
    expect(defaults).toContain("location location-pgsql-clone-ping pgsql-clone");
    const crm = renderCluster(build(lhajSpec(), exampleText("sr-pgsql-2node", "hosts.yml")), loadTemplates()).crm;
    for (const id of [...Object.values(LHAJ_IDS), "prmStonith1-1", "rsc_location-grpStonith2-1"]) expect(crm).toMatch(new RegExp(`^\\S+ ${id}[ :]`, "m"));
    expect(crm).toContain("rule $id=rsc_location-msPostgresql-1-rule -inf: not_defined default_ping_set");
    expect(crm).not.toMatch(/pgsql-clone|location-fence|ping-clone/);
    expect(parseSpec(lhajSpec(), "cluster.yml").spec.pacemaker?.ids?.clone).toBe("msPostgresql");
  });

  it.skipIf(missingTools(["crm", "cibadmin", "crm_verify"]).length > 0)("real crmsh loads them, with exactly those ids, and crm_verify accepts the CIB", () => {
    const crm = renderCluster(build(lhajSpec(), exampleText("sr-pgsql-2node", "hosts.yml")), loadTemplates()).crm;
    const { file, load } = scratchCib(crm, { pg1: {}, pg2: {} });
    expect(load).not.toMatch(/ERROR|WARNING/);
    const cib = readFileSync(file, "utf8");
    expect(cib).toContain('<master id="msPostgresql">');
    expect(cib).toContain('<clone id="clnPingCheck">');
    expect(cib).toContain('<primitive id="prmStonith1-1" class="stonith" type="fence_dummy">');
    expect(cib).toContain('<rsc_location id="rsc_location-grpStonith1-1" rsc="prmStonith1-1" score="-INFINITY" node="pg1"/>');
    expect(cib).toContain('<rsc_colocation id="rsc_colocation-master-group-msPostgresql-2" score="INFINITY" rsc="master-group" with-rsc="msPostgresql" with-rsc-role="Master"/>');
    expect(cib).toContain('<rsc_order id="rsc_order-msPostgresql-master-group-3"');
    expect(cib).not.toMatch(/id="(location|colocation|order)-/);
    run("crm_verify", ["-x", file]);
  });
});
