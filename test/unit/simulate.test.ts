// What Pacemaker does with the rendered configuration when things fail, asked of Pacemaker itself:
// crm_simulate runs the real scheduler on a scratch CIB (cluster.crm loaded by crmsh, nodes online,
// the agents' node attributes set as they are on a healthy cluster) and executes each transition on
// paper, with injected operation results. No cluster runs; CI installs the tools (install-deps.sh).
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { predictionOf, simulateScript } from "../../src/cib-predict.js";
import { parseCrmMon, type ClusterStatus } from "../../src/status.js";
import { parseSimulation, predict } from "../../src/transition.js";
import { renderExample } from "./helpers.js";
import { run, scratchCib, type Attrs } from "./scratch-cib.js";

const tools = ["crm", "cibadmin", "crm_simulate", "crm_mon"].filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
if (tools.length) console.warn(`simulate: skipping, missing ${tools.join(", ")} (bash test/lab/install-deps.sh)`);

interface Simulation {
  /** Every transition summary line, in order, across the transitions that ran. */
  summary: string[];
  /** The cluster once the scheduler has nothing left to do. */
  final: ClusterStatus;
  file: string;
}

/**
 * Runs transitions until the scheduler plans nothing more (at most five): the first with the injected
 * results (`-i` op@node=rc now, `-F` op@node=rc when it runs), the rest as plain recoveries.
 */
function simulate(cib: string, inject: string[] = []): Simulation {
  const summary: string[] = [];
  let file = cib;
  for (let i = 0; i < 5; i++) {
    const next = file.replace(/-\d+\.xml$/, `-${i + 1}.xml`);
    const out = run("crm_simulate", ["-x", file, "-S", "-O", next, ...(i === 0 ? inject : [])]);
    file = next;
    const lines = (/Transition Summary:\n([\s\S]*?)\n\n/.exec(out)?.[1] ?? "").split("\n").filter((l) => l.trim().startsWith("*"));
    if (!lines.length) break;
    summary.push(...lines.map((l) => l.trim().replace(/\s+/g, " ")));
  }
  return { summary, final: parseCrmMon(run("crm_mon", ["-1", "--output-as=xml"], { ...process.env, CIB_file: file })), file };
}

/** A copy of a simulation's CIB with one node attribute changed, as the agent or ping would change it. */
function withAttr(sim: Simulation, node: string, key: string, value: string): string {
  const xml = readFileSync(sim.file, "utf8");
  const id = /<node id="(\d+)" uname="([^"]+)"/g;
  const nodeId = [...xml.matchAll(id)].find((m) => m[2] === node)?.[1];
  const re = new RegExp(`(id="status-${nodeId}-${key}" name="${key}" value=")[^"]*"`);
  if (!nodeId || !re.test(xml)) throw new Error(`no attribute ${key} on ${node} in ${sim.file}`);
  const file = sim.file.replace(/-(\d+)\.xml$/, (_m, n: string) => `-${Number(n) + 10}.xml`);
  writeFileSync(file, xml.replace(re, `$1${value}"`));
  return file;
}

const rolesOf = (s: ClusterStatus, rsc: string, role: string) => s.resources.filter((r) => r.id === rsc && r.role === role).flatMap((r) => r.nodes).sort();

const twoTargets = (s: string) => s; // the examples list two ping targets on the service LAN
const oneTarget = (s: string) => s.replace("hosts: [10.117.1.1, 10.117.1.2]", "hosts: [10.117.1.1]");

// The attributes the agents and ocf:pacemaker:ping keep on a healthy cluster with pg1 as primary.
const HEALTHY: Record<string, Attrs> = {
  "sr-pgsql-2node": {
    pg1: { "master-pgsql": "1000", "pgsql-status": "PRI", default_ping_set: "200" },
    pg2: { "master-pgsql": "100", "pgsql-status": "HS:sync", default_ping_set: "200" },
  },
  "paf-3node": {
    pg1: { "master-pgsql": "1001", default_ping_set: "200" },
    pg2: { "master-pgsql": "1000", default_ping_set: "200" },
    pg3: { "master-pgsql": "990", default_ping_set: "200" },
  },
  "shared-disk-2node": { pg1: { default_ping_set: "200" }, pg2: { default_ping_set: "200" } },
};

/** The example's cluster, settled with pg1 as primary (or running the group). */
function healthy(example: string, edit: (s: string) => string = twoTargets, attrs: Attrs = HEALTHY[example]!): Simulation {
  return simulate(scratchCib(renderExample(example, edit).rendered.crm, attrs).file);
}

describe.skipIf(tools.length > 0)("crm_simulate on the rendered CIB", { timeout: 120_000 }, () => {
  describe.each(["sr-pgsql-2node", "paf-3node"])("%s", (example) => {
    const start = healthy(example);

    it("settles with pg1 promoted and the VIPs on it", () => {
      expect(rolesOf(start.final, "pgsql", "Promoted")).toEqual(["pg1"]);
      expect(rolesOf(start.final, "vip-master", "Started")).toEqual(["pg1"]);
    });

    it("a failed stop of the primary fences it and promotes a standby, instead of blocking", () => {
      const sim = simulate(start.file, ["-i", "pgsql_monitor_9000@pg1=7", "-F", "pgsql_stop_0@pg1=1"]);
      expect(sim.summary).toContain("* Fence (reboot) pg1 'pgsql:0 failed there'");
      expect(sim.final.nodes.find((n) => n.name === "pg1")?.online).toBe(false);
      expect(rolesOf(sim.final, "pgsql", "Promoted")).toEqual(["pg2"]);
      expect(rolesOf(sim.final, "vip-master", "Started")).toEqual(["pg2"]);
      expect(sim.summary.join("\n")).not.toMatch(/blocked/);
    });
  });

  it("shared disk: a failed stop of PostgreSQL fences pg1 and the group starts on pg2", () => {
    const start = healthy("shared-disk-2node");
    expect(rolesOf(start.final, "prmApPostgreSQLDB", "Started")).toEqual(["pg1"]);
    const sim = simulate(start.file, ["-i", "prmApPostgreSQLDB_monitor_10000@pg1=7", "-F", "prmApPostgreSQLDB_stop_0@pg1=1"]);
    expect(sim.summary.some((l) => l.startsWith("* Fence (reboot) pg1"))).toBe(true);
    expect(rolesOf(sim.final, "prmApPostgreSQLDB", "Started")).toEqual(["pg2"]);
    expect(rolesOf(sim.final, "prmIpPostgreSQLDB", "Started")).toEqual(["pg2"]);
  });

  describe("predicted consequences of a spec change (the live CIB against the desired one, as pgha builds it)", () => {
    const start = healthy("sr-pgsql-2node");
    /** The settled CIB with the edited spec's cluster.crm loaded over it by crmsh, as on a node. */
    const desired = (edit: (s: string) => string) => {
      const file = start.file.replace(/\.xml$/, `-desired-${Math.random().toString(36).slice(2)}.xml`);
      writeFileSync(file, readFileSync(start.file));
      const crm = file.replace(/\.xml$/, ".crm");
      writeFileSync(crm, renderExample("sr-pgsql-2node", edit).rendered.crm);
      run("crm", ["-D", "plain", "configure", "load", "update", crm], { ...process.env, CIB_file: file, HOME: tmpdir() });
      return file;
    };
    const transition = (file: string) => parseSimulation(run("crm_simulate", ["-x", file, "-S", "--output-as=xml"]));
    const prediction = (edit: (s: string) => string) => predict(transition(desired(edit)), transition(start.file), { postgresql: "pgsql", primary: "pg1" });

    it("rep_mode sync -> async restarts both instances, the primary's included", () => {
      const p = prediction((s) => s.replace("mode: sync", "mode: async").replace(/\n {4}restore_command: .*/, ""));
      expect(p.disruptions).toEqual(["restart-primary"]);
      expect(p.actions.map((a) => `${a.action} ${a.resource} ${a.node}`).sort()).toEqual(["restart pgsql pg1", "restart pgsql pg2"]);
    });

    it("a vip-master address change restarts the VIPs only", () => {
      const p = prediction((s) => s.replace("ip: 10.117.1.100", "ip: 10.117.1.110"));
      expect(p.disruptions).toEqual([]);
      expect(p.actions.map((a) => `${a.action} ${a.resource}`)).toEqual(["restart vip-master", "restart vip-rep"]);
    });

    it("a migration-threshold change does nothing", () => {
      expect(prediction((s) => s.replace("migration-threshold: 1", "migration-threshold: 3")).actions).toEqual([]);
    });
  });

  describe("a node that leaves (apply drains it first, then changes the CIB)", () => {
    // pg3's node_state first: the scheduler then numbers pg3's instance below the primary's, and drain and
    // clone-max 3 -> 2 simulated in one transition stop the primary and move pg3's instance there instead.
    const paf = HEALTHY["paf-3node"]!;
    const start = healthy("paf-3node", twoTargets, { pg3: paf.pg3!, pg2: paf.pg2!, pg1: paf.pg1! });
    /** simulateScript run as crm_predict runs it: the live CIB and a desired one with clone-max 2, the spec without pg3. */
    const leave = () => {
      const dir = mkdtempSync(join(tmpdir(), "pgha-leave-"));
      copyFileSync(start.file, join(dir, "cib-live.xml"));
      copyFileSync(start.file, join(dir, "cib-desired.xml"));
      run("crm_resource", ["-r", "pgsql-clone", "--meta", "-p", "clone-max", "-v", "2"], { ...process.env, CIB_file: join(dir, "cib-desired.xml") });
      return predictionOf(run("sh", ["-c", simulateScript(dir, undefined, ["pg1", "pg2"])]), "pgsql");
    };

    it("stops only pg3's own instance: no primary stops or moves", () => {
      const p = leave();
      expect(p.disruptions).toEqual([]);
      const pg = p.actions.filter((a) => a.resource === "pgsql");
      expect(pg.map((a) => `${a.action} ${a.node}${a.to ? ` -> ${a.to}` : ""}`)).toEqual(["stop pg3"]);
    });
  });

  describe.each(["sr-pgsql-2node", "paf-3node"])("%s, ping", (example) => {
    const start = healthy(example);
    const changes = (sim: Simulation) => sim.summary.filter((l) => /^\* (Stop|Demote|Move|Promote|Fence|Restart)/.test(l));

    it("losing one of two targets on the primary stops, demotes and moves nothing", () => {
      const sim = simulate(withAttr(start, "pg1", "default_ping_set", "100"));
      expect(changes(sim)).toEqual([]);
      expect(rolesOf(sim.final, "pgsql", "Promoted")).toEqual(["pg1"]);
    });

    it("the primary reaching no target hands the primary to a node that reaches one", () => {
      const sim = simulate(withAttr(start, "pg1", "default_ping_set", "0"));
      expect(sim.summary.some((l) => l.startsWith("* Promote") && l.includes("Promoted pg2"))).toBe(true);
      expect(rolesOf(sim.final, "pgsql", "Promoted")).toEqual(["pg2"]);
      expect(rolesOf(sim.final, "vip-master", "Started")).toEqual(["pg2"]);
    });

    it("with a single target that stops answering, PostgreSQL stops on every node (why validate warns)", () => {
      const attrs = structuredClone(HEALTHY[example]!);
      for (const a of Object.values(attrs)) a.default_ping_set = "0";
      const sim = healthy(example, oneTarget, attrs);
      expect(rolesOf(sim.final, "pgsql", "Promoted")).toEqual([]);
      expect(rolesOf(sim.final, "pgsql", "Unpromoted")).toEqual([]);
      const warned = renderExample(example, oneTarget).model.warnings.map((w) => w.code);
      expect(warned).toContain("model-ping-single-target");
    });
  });
});
