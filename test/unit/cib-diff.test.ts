// The semantic CIB summary, on the CIB of a lab cluster pgha built (sr-pgsql-2node).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { flattenCib, isMoveConstraint, summarize } from "../../src/cib-diff.js";
import { ROOT } from "./helpers.js";

const live = readFileSync(join(ROOT, "test/fixtures/status/pgsql-2node-cib.xml"), "utf8");

describe("CIB summary", () => {
  it("sees no difference between a CIB and itself, ignoring what Pacemaker maintains", () => {
    const bumped = live.replace(/epoch="\d+"/, 'epoch="99"').replace(/value="2\.1\.5-[^"]*"/, 'value="2.1.9-xyz"').replace(/num_updates="\d+"/, 'num_updates="7"');
    expect(summarize(flattenCib(live), flattenCib(bumped))).toEqual([]);
  });

  it("names changed params, meta attributes, defaults and ops per element", () => {
    const desired = live
      .replace('name="rep_mode" value="sync"', 'name="rep_mode" value="async"')
      .replace('name="migration-threshold" value="1"', 'name="migration-threshold" value="3"')
      .replace('name="ip" value="10.117.1.100"', 'name="ip" value="10.117.1.110"')
      .replace('interval="9s" timeout="60s"', 'interval="9s" timeout="90s"');
    expect(summarize(flattenCib(live), flattenCib(desired))).toEqual([
      "primitive pgsql: op monitor 9s Promoted on-fail=restart timeout=60s -> on-fail=restart timeout=90s, rep_mode sync -> async",
      "primitive vip-master: ip 10.117.1.100 -> 10.117.1.110",
      "rsc_defaults migration-threshold: 1 -> 3",
    ]);
  });

  it("reports added and removed elements, and keeps move constraints out of config drift", () => {
    const withBan = live.replace("<constraints>", '<constraints><rsc_location id="cli-ban-master-group-on-pg1" rsc="master-group" node="pg1" score="-INFINITY" role="Started"/>');
    const withoutSlave = live.replace(/<primitive id="vip-slave"[\s\S]*?<\/primitive>/, "");
    expect(summarize(flattenCib(withBan, { skip: isMoveConstraint }), flattenCib(withoutSlave))).toEqual(["primitive vip-slave removed"]);
    expect(summarize(flattenCib(live), flattenCib(withBan))).toEqual(["location cli-ban-master-group-on-pg1 added"]);
  });

  it("flattens rules into readable expressions", () => {
    const f = flattenCib(live);
    expect(f.get("location location-pgsql-clone-ping")?.get("rule 1")).toBe("-INFINITY: default_ping_set not_defined or default_ping_set lt 100");
    expect(f.get("group master-group")?.get("members")).toBe("vip-master vip-rep");
    expect(f.get("clone pgsql-clone")?.get("meta promotable")).toBe("true");
  });
});
