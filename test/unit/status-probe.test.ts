// apply reads the status table in the same command as the facts (issue 16: one round trip per host). The
// probe runs here through a real shell, with crm_mon, cibadmin and runuser answering as on a healthy
// 2-node cluster, and must give the report that reading the status afresh gives.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readStatus, settled, statusFromProbes, statusProbe } from "../../src/cluster-status.js";
import { parseCrmMon } from "../../src/status.js";
import { MODULE_IMPLS, waitFor, type Module, type RunCtx } from "../../src/tasks.js";
import { renderExample, ROOT } from "./helpers.js";

const healthy = readFileSync(join(ROOT, "test/fixtures/status/pgsql-2node-healthy.xml"), "utf8");

function fakeHosts(replication: string) {
  const work = mkdtempSync(join(tmpdir(), "pgha-probe-"));
  const bin = join(work, "bin");
  mkdirSync(bin);
  const fake = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  writeFileSync(join(work, "crm_mon.xml"), healthy);
  fake("crm_mon", `if [ -n "$PGHA_TEST_NO_PACEMAKER" ]; then echo 'crm_mon: Connection to cluster failed' >&2; exit 102; fi; cat ${join(work, "crm_mon.xml")}`);
  fake("cibadmin", `echo '<configuration><constraints><rsc_location id="cli-ban-pgsql-clone-on-pg2" rsc="pgsql-clone" node="pg2" score="-INFINITY"/></constraints></configuration>'`);
  fake("runuser", `echo "$PGHA_TEST_HOST" >> ${join(work, "psql-ran-on")}; printf '${replication}'`);
  const { model: example } = renderExample("sr-pgsql-2node");
  // Each host's data directory: pg1 runs the primary, pg2 a standby (standby.signal).
  const dataDir = (node: string) => join(work, node, "data");
  for (const n of ["pg1", "pg2"]) {
    mkdirSync(dataDir(n), { recursive: true });
    writeFileSync(join(dataDir(n), "postmaster.pid"), "1\n");
  }
  writeFileSync(join(dataDir("pg2"), "standby.signal"), "");
  const modelOn = (node: string) => ({ ...example, postgresql: { ...example.postgresql, dataDirectory: dataDir(node) } });
  const sh = (node: string, script: string, env: Record<string, string> = {}) => spawnSync("sh", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, PGHA_TEST_HOST: node, ...env } });
  const run = (node: string, script: string) => sh(node, script).stdout;
  const psqlRanOn = () => {
    try {
      return readFileSync(join(work, "psql-ran-on"), "utf8").split("\n").filter(Boolean);
    } catch {
      return [];
    }
  };
  return { model: example, modelOn, sh, run, psqlRanOn };
}

describe("the status read with the facts", () => {
  it("gives the report a fresh read gives, with psql only on the primary", async () => {
    const h = fakeHosts("pg2 streaming sync\\n");
    const outputs = Object.fromEntries(["pg1", "pg2"].map((n, i) => [n, h.run(n, statusProbe(h.modelOn(n), i === 0))]));
    expect(h.psqlRanOn()).toEqual(["pg1"]);
    const early = statusFromProbes(h.model, outputs);
    const fresh = await readStatus(h.model, async (n) => ({ node: n.name, close: () => undefined, exec: async (command: string) => ({ code: 0, stdout: h.run(n.name, command), stderr: "" }) }));
    expect(early).toEqual(fresh);
    expect(early!.replication).toEqual({ pg2: "streaming/sync" });
    expect(early!.leftoverConstraints).toEqual(["cli-ban-pgsql-clone-on-pg2"]);
    expect(settled(h.model, early!)).toBe(true);
  });

  it("pgha status reads the cluster and the primary's replication in one command when the first node runs the primary", async () => {
    const h = fakeHosts("pg2 streaming sync\\n");
    const asked: string[] = [];
    const report = await readStatus(h.modelOn("pg1"), async (n) => ({ node: n.name, close: () => undefined, exec: async (command: string) => (asked.push(n.name), { code: 0, stdout: h.run(n.name, command), stderr: "" }) }));
    expect(asked).toEqual(["pg1"]);
    expect(report.replication).toEqual({ pg2: "streaming/sync" });
  });

  it("is not taken as the state after the run while a standby is not streaming, nor when crm_mon failed", () => {
    const h = fakeHosts("pg2 catchup async\\n");
    const outputs = Object.fromEntries(["pg1", "pg2"].map((n, i) => [n, h.run(n, statusProbe(h.modelOn(n), i === 0))]));
    expect(settled(h.model, statusFromProbes(h.model, outputs)!)).toBe(false);
    // Pacemaker not running on the first node: crm_mon fails, so no early status at all.
    const stopped = h.sh("pg1", statusProbe(h.modelOn("pg1"), true), { PGHA_TEST_NO_PACEMAKER: "1" });
    expect(stopped.status).toBe(102); // crm_mon's own exit status: pgha status then asks the next node
    expect(statusFromProbes(h.model, { ...outputs, pg1: stopped.stdout })).toBeUndefined();
  });
});

describe("wait_for's first look", () => {
  // A host that records every command: wait_for must ask nothing when the facts' read shows the cluster settled.
  const run = async (streaming: string[], wait: Module = MODULE_IMPLS.wait_for) => {
    const { model, rendered } = renderExample("sr-pgsql-2node");
    const asked: string[] = [];
    const conn = { node: "pg1", close: () => undefined, exec: async (command: string) => (asked.push(command), { code: 0, stdout: command.startsWith("crm_mon") ? healthy : "pg2\n", stderr: "" }) };
    const hosts = model.nodes.map((n) => ({ node: n, conn: { ...conn, node: n.name }, facts: {} as never }));
    const ctx = { model, rendered, hosts, check: false, pollSeconds: 0, trace: () => undefined, early: () => ({ cluster: parseCrmMon(healthy), streaming }) } as RunCtx;
    const result = await wait(ctx, hosts[0]!, { condition: "replication", timeout: 5 });
    return { result, asked };
  };

  it("takes the status read with the facts when it shows the cluster settled", async () => {
    expect(await run(["pg2"])).toEqual({ result: { changed: false, msg: undefined }, asked: [] });
  });

  it("asks the cluster afresh when that read was not settled", async () => {
    const { asked } = await run([]);
    expect(asked.map((c) => c.split(" ")[0])).toEqual(["crm_mon", "runuser"]);
  });

  it("a module's own wait after its action (a restart, a recover) always asks afresh: the facts' read predates it", async () => {
    const { asked } = await run(["pg2"], waitFor);
    expect(asked.map((c) => c.split(" ")[0])).toEqual(["crm_mon", "runuser"]);
  });
});
