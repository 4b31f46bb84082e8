// preflight on a node without the tool that builds the desired CIB (issue 21): it names what is missing
// and what to install per distribution family, before anything changes; crmsh or pcs alone is enough.
import { describe, expect, it } from "vitest";
import { CIB_TOOLS } from "../../src/cib-script.js";
import { parseFacts, requiredBinaries } from "../../src/facts.js";
import { MODULE_IMPLS } from "../../src/tasks.js";
import { renderExample } from "./helpers.js";

const { model, rendered } = renderExample("sr-pgsql-2node");

/** preflight's refusal on pg1 ("" when it passes) for a Debian 12 node ready for the cluster but for the CIB tools: only those in `has`. */
function refusal(...has: string[]): string {
  const bins = [...requiredBinaries(model), ...CIB_TOOLS].map((b) => `BIN\t${b}\t${has.includes(b) || !(CIB_TOOLS as readonly string[]).includes(b) ? "found" : ""}`);
  const facts = parseFacts([...bins, "HOSTNAME\tpg1", "NIC\teth1", "NIC\teth2", "ADDR\t10.117.1.11", "ADDR\t10.117.2.11", "VERSION\tpacemaker\tPacemaker 2.1.5", "VERSION\tcorosync\tCorosync Cluster Engine, version '3.1.7'", "VERSION\tpostgres\tpostgres (PostgreSQL) 15.20", ""].join("\n"));
  const host = { node: model.nodes[0]!, conn: { node: "pg1", exec: async () => ({ code: 0, stdout: "", stderr: "" }), close: () => undefined }, facts };
  const ctx = { model, rendered, hosts: [host], check: false, trace: () => undefined, pollSeconds: 0 };
  try {
    MODULE_IMPLS.preflight(ctx, host, {});
  } catch (e) {
    return (e as Error).message;
  }
  return "";
}

describe("preflight and the CIB tools", () => {
  it("a node with neither crmsh nor pcs is refused, naming both and the packages for Debian/Ubuntu and RHEL", () => {
    expect(refusal()).toBe("neither crmsh (crm) nor pcs is installed: the node needs one of them to build the CIB (Debian/Ubuntu: apt-get install crmsh or pcs; RHEL 8/9: dnf install pcs)");
  });

  it("crmsh alone or pcs alone is enough", () => {
    for (const tool of CIB_TOOLS) expect(refusal(tool)).toBe("");
  });
});
