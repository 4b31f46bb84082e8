// Issue 17 on the lab: pg3, a standby, leaves the running 3-node PAF cluster with `pgha apply`, online,
// and is then added back. A client writes through vip-master once a second each time; no write fails,
// the primary's postmaster is the same, diff is clean and a second apply changes nothing. pg3 stays in
// the inventory outside the cluster's group, which is how pgha reaches it to drain it.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { labSh } from "./lab-helpers.js";
import { clusterOn, createAppTable, exampleArgs, onHost, pgha, psqlOn, specEdited, until, where } from "./pgha-helpers.js";
import { whileWriting } from "./writer.js";

const THREE = exampleArgs("paf-3node");
const PG3 = "        pg3: { ansible_host: 10.117.1.13 }\n";
const TWO_SPEC = () =>
  specEdited(
    THREE[3]!,
    ["      pg3: { id: 3, links: [10.117.1.13, 10.117.2.13] }\n", ""],
    ["      pg3: { agent: \"stonith:fence_dummy\", params: { type: file, status_file: /var/lib/pacemaker/fence-pg3.status, pcmk_host_list: pg3 } }\n", ""],
    ['"ANY 1 (pg1, pg2, pg3)"', '"ANY 1 (pg1, pg2)"'],
  );
/** pg3 moved out of the cluster's group into one of its own: the inventory still says how to reach it. */
const TWO_INV = () => {
  const file = join(mkdtempSync(join(tmpdir(), "pgha-e2e-inv-")), "hosts.yml");
  const text = readFileSync(THREE[1]!, "utf8");
  if (!text.includes(PG3)) throw new Error("the paf-3node inventory changed");
  writeFileSync(file, text.replace(PG3, `    retired:\n      hosts:\n${PG3}`));
  return file;
};
const started = () => psqlOn("pg1", "SELECT pg_postmaster_start_time()");
const streaming = () => psqlOn("pg1", "SELECT application_name || ' ' || state FROM pg_stat_replication ORDER BY 1").split("\n");

describe("pgha apply removes pg3 from the running 3-node PAF cluster, then adds it back", () => {
  let two: string[];

  beforeAll(async () => {
    labSh(["up", "--nodes", "3"]);
    const build = await pgha(["apply", ...THREE]);
    if (build.code !== 0) throw new Error(`build failed:\n${build.output}`);
    await until("pg2 and pg3 streaming", () => streaming().join() === "pg2 streaming,pg3 streaming", 120_000);
    createAppTable("pg1");
    two = ["-i", TWO_INV(), "-s", TWO_SPEC()];
  }, 600_000);

  it("diff and apply --check show the removal first: pg3 drained and forgotten, a corosync reload with two_node", async () => {
    const d = await pgha(["diff", ...two]);
    expect(d.code, d.output).toBe(2);
    expect(d.stdout).toMatch(/--- leaves the cluster: pg3: standby until nothing runs there, then Pacemaker and corosync stopped there .*removed from the corosync nodelist of pg1, pg2 and from the CIB .*its data directory stays/);
    expect(d.stdout).toMatch(/^\+\s+two_node: 1$/m);
    expect(d.stdout).toMatch(/clone-max 3 -> 2/);
    // Predicted with pg3 drained first, as apply does it: its own instance stops, not pg2's.
    expect(d.stdout).toMatch(/^\s+pg3: stop pgsql\b/m);
    expect(d.stdout).not.toMatch(/pg[12]: (stop|restart|demote) pgsql/);
    const c = await pgha(["apply", "--check", ...two]);
    expect(c.code, c.output).toBe(2);
    expect(c.stdout).toMatch(/would leave: pg3: standby/);
    expect(c.stdout).toMatch(/would reload on pg1, pg2: .*nodelist\.node\[3\]\..*quorum\.two_node/);
    expect(c.stdout).toMatch(/would forget pg3/);
    expect(c.stdout).not.toMatch(/coordinated restart/);
    // Nothing changed.
    expect(clusterOn("pg1").nodes.filter((n) => n.online).map((n) => n.name)).toEqual(["pg1", "pg2", "pg3"]);
  });

  it("an online pg3 that pgha cannot reach (not in the inventory) is refused before anything changes", async () => {
    const epoch = () => /epoch="(\d+)"/.exec(onHost("pg1", "cibadmin -Q | head -1"))![1];
    const before = { epoch: epoch(), conf: onHost("pg1", "sha256sum /etc/corosync/corosync.conf") };
    const inv = join(mkdtempSync(join(tmpdir(), "pgha-e2e-inv-")), "hosts.yml");
    writeFileSync(inv, readFileSync(THREE[1]!, "utf8").replace(PG3, ""));
    const r = await pgha(["apply", "-i", inv, "-s", two[3]!]);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/refusing: pg3 leaves the cluster and is online, but pgha cannot reach it \(it is not in the inventory\).*Nothing was changed/);
    expect({ epoch: epoch(), conf: onHost("pg1", "sha256sum /etc/corosync/corosync.conf") }).toEqual(before);
    expect(clusterOn("pg1").nodes.filter((n) => n.online && !n.standby).map((n) => n.name)).toEqual(["pg1", "pg2", "pg3"]);
  });

  it("removes pg3 while a client writes through vip-master: no failed write, the same postmaster, two nodes with two_node", async () => {
    const before = started();
    const log = await whileWriting("pg2", async () => {
      const r = await pgha(["apply", ...two]);
      expect(r.code, r.output).toBe(0);
      expect(r.stdout).toMatch(/left: pg3: standby until nothing runs there/);
      expect(r.stdout).toMatch(/reload on pg1, pg2: .*quorum\.two_node/);
      expect(r.stdout).toMatch(/forgot pg3: removed from the CIB/);
    });
    expect(log.failed, log.errors).toEqual([]);
    expect(log.lines.length).toBeGreaterThan(10);
    expect(started()).toBe(before);
    const s = clusterOn("pg1");
    expect(s.nodes.map((n) => n.name).sort()).toEqual(["pg1", "pg2"]);
    expect(where(s, "pgsql", "Promoted")).toEqual(["pg1"]);
    expect(where(s, "pgsql", "Unpromoted")).toEqual(["pg2"]);
    expect(where(s, "vip-master", "Started")).toEqual(["pg1"]);
    expect(streaming()).toEqual(["pg2 streaming"]);
    const q = onHost("pg1", "corosync-quorumtool -s");
    expect(q).toMatch(/Quorate:\s+Yes/);
    expect(q).toMatch(/Flags:.*2Node/);
    expect(onHost("pg2", "corosync-cmapctl -b nodelist.node").match(/ring0_addr/g)).toHaveLength(2);
    // pg3: its daemons stopped, its CIB files gone, its data directory left where it was.
    expect(onHost("pg3", "systemctl is-active pacemaker corosync || true").trim().split("\n")).toEqual(["inactive", "inactive"]);
    expect(onHost("pg3", "ls -A /var/lib/pacemaker/cib").trim()).toBe("");
    expect(onHost("pg3", "cat /var/lib/postgresql/15/pgha/PG_VERSION").trim()).toBe("15");
  }, 600_000);

  it("with two nodes, diff exits 0 and a second apply changes nothing", async () => {
    const d = await pgha(["diff", ...two]);
    expect(d.code, d.output).toBe(0);
    const again = await pgha(["apply", ...two]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
  });

  it("adds pg3 back while a client writes: its old data directory kept aside, a fresh copy, three nodes streaming", async () => {
    const before = started();
    const log = await whileWriting("pg2", async () => {
      const r = await pgha(["apply", ...THREE]);
      expect(r.code, r.output).toBe(0);
      expect(r.stdout).toMatch(/joined pg3: pg_basebackup from pg1 \(its old data directory moved aside, kept\), start Pacemaker/);
    });
    expect(log.failed, log.errors).toEqual([]);
    expect(started()).toBe(before);
    const s = clusterOn("pg1");
    expect(where(s, "pgsql", "Promoted")).toEqual(["pg1"]);
    expect(where(s, "pgsql", "Unpromoted")).toEqual(["pg2", "pg3"]);
    expect(streaming()).toEqual(["pg2 streaming", "pg3 streaming"]);
    expect(onHost("pg1", "corosync-quorumtool -s")).not.toMatch(/Flags:.*2Node/);
    expect(onHost("pg3", "ls -d /var/lib/postgresql/15/pgha.pgha-*").trim()).toMatch(/^\/var\/lib\/postgresql\/15\/pgha\.pgha-\d{14}$/);
    const last = log.lines.at(-1)!.split(" ")[1];
    await until(`row w${last} on pg3`, () => psqlOn("pg3", `SELECT count(*) FROM e2e WHERE v = 'w${last}'`) === "1", 30_000, 1000);
    const d = await pgha(["diff", ...THREE]);
    expect(d.code, d.output).toBe(0);
    const again = await pgha(["apply", ...THREE]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
  }, 600_000);
});
