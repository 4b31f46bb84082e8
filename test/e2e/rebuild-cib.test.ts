// Issue 5's --rebuild-cib on the lab: the manual's stop / rm -f cib/* / start / load procedure, with the
// same primary afterwards and the latest-data designation (pgsql-data-status) kept.
import { beforeAll, describe, expect, it } from "vitest";
import { labSh } from "./lab-helpers.js";
import { clusterOn, exampleArgs, onHost, pgha, psqlOn, where } from "./pgha-helpers.js";

const ARGS = exampleArgs("sr-pgsql-2node");

describe("apply --rebuild-cib", () => {
  beforeAll(async () => {
    labSh(["up", "--nodes", "2"]);
    const build = await pgha(["apply", ...ARGS]);
    if (build.code !== 0) throw new Error(`build failed:\n${build.output}`);
    psqlOn("pg1", "CREATE TABLE kept(v text); INSERT INTO kept VALUES ('before-rebuild')");
  });

  it("stops, clears and reloads the CIB, and the same primary comes back with its data", async () => {
    const cibFiles = () => onHost("pg1", "ls -l --time-style=full-iso /var/lib/pacemaker/cib/cib.xml");
    const before = cibFiles();
    const r = await pgha(["apply", "--rebuild-cib", ...ARGS]);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/CIB rebuilt; primary pg1/);
    expect(cibFiles()).not.toBe(before);
    const s = clusterOn("pg1");
    expect(where(s, "pgsql", "Promoted")).toEqual(["pg1"]);
    expect(where(s, "vip-master", "Started")).toEqual(["pg1"]);
    expect(onHost("pg1", "cibadmin -Q -o nodes")).toMatch(/name="pgsql-data-status" value="LATEST"/);
    expect(psqlOn("pg2", "SELECT v FROM kept")).toBe("before-rebuild");
  });

  it("a normal apply afterwards changes nothing", async () => {
    const again = await pgha(["apply", ...ARGS]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
  });
});
