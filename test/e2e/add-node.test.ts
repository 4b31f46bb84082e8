// Issue 17 on the lab: pg3 joins the running 2-node pgsql cluster with `pgha apply`, online. A client
// writes through vip-master once a second the whole time; no write fails, the primary's postmaster is
// the same, pg3 ends streaming, diff is clean and a second apply changes nothing. Then pg3 leaves again.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { slotName } from "../../src/model/postgresql.js";
import { labSh, local } from "./lab-helpers.js";
import { clusterOn, exampleArgs, onHost, pgha, psqlOn, settled, specEdited, until, where } from "./pgha-helpers.js";
import { whileWriting } from "./writer.js";

const TWO = exampleArgs("sr-pgsql-2node");
const SPEC3 = () =>
  specEdited(
    "inventories/sr-pgsql-2node/cluster.yml",
    ["      pg2: { id: 2, links: [10.117.1.12, 10.117.2.12] }\n", "      pg2: { id: 2, links: [10.117.1.12, 10.117.2.12] }\n      pg3: { id: 3, links: [10.117.1.13, 10.117.2.13] }\n"],
    [
      "pcmk_host_list: pg2 } }\n",
      "pcmk_host_list: pg2 } }\n      pg3: { agent: \"stonith:fence_dummy\", params: { type: file, status_file: /var/lib/pacemaker/fence-pg3.status, pcmk_host_list: pg3 } }\n",
    ],
  );
const INV3 = () => {
  const file = join(mkdtempSync(join(tmpdir(), "pgha-e2e-inv-")), "hosts.yml");
  writeFileSync(file, readFileSync("inventories/sr-pgsql-2node/hosts.yml", "utf8").replace("        pg2: { ansible_host: 10.117.1.12 }\n", "$&        pg3: { ansible_host: 10.117.1.13 }\n"));
  return file;
};

describe("pgha apply adds pg3 to the running 2-node pgsql cluster", () => {
  let spec: string;
  let inv: string;
  const three = () => ["-i", inv, "-s", spec];

  beforeAll(async () => {
    labSh(["up", "--nodes", "3"]);
    const build = await pgha(["apply", ...TWO]);
    if (build.code !== 0) throw new Error(`build failed:\n${build.output}`);
    await settled("pg1", "pg2");
    psqlOn("pg1", "CREATE ROLE app LOGIN PASSWORD 'app-pw'; CREATE TABLE e2e(v text); GRANT ALL ON e2e TO app;");
    spec = SPEC3();
    inv = INV3();
  });

  it("diff and apply --check say what the join does: a corosync reload, pg3's copy and start, node_list in place", async () => {
    const d = await pgha(["diff", ...three()]);
    expect(d.code, d.output).toBe(2);
    expect(d.stdout).toContain("primitive pgsql: node_list pg1 pg2 -> pg1 pg2 pg3");
    expect(d.stdout).not.toMatch(/restart pgsql|apply needs --allow/);
    const c = await pgha(["apply", "--check", ...three()]);
    expect(c.code, c.output).toBe(2);
    expect(c.stdout).toMatch(/would reload on pg1, pg2: .*nodelist\.node\[3\]\..*quorum\.two_node/);
    expect(c.stdout).toMatch(/would join pg3: pg_basebackup from pg1, start Pacemaker/);
    expect(c.stdout).not.toMatch(/coordinated restart/);
  });

  it("joins pg3 while a client writes through vip-master: no failed write, the same postmaster, pg3 streams", async () => {
    const started = psqlOn("pg1", "SELECT pg_postmaster_start_time()");
    const { lines: log, failed, errors } = await whileWriting("pg2", async () => {
      const r = await pgha(["apply", ...three()]);
      expect(r.code, r.output).toBe(0);
      expect(r.stdout).toMatch(/joined pg3: pg_basebackup from pg1, start Pacemaker/);
      expect(r.stdout).toMatch(/pgsql node_list pg1 pg2 -> pg1 pg2 pg3 \(in place, no restart\)/);
    });
    expect(failed, errors).toEqual([]);
    expect(log.length).toBeGreaterThan(10);
    expect(psqlOn("pg1", "SELECT pg_postmaster_start_time()")).toBe(started);
    const s = clusterOn("pg1");
    expect(where(s, "pgsql", "Promoted")).toEqual(["pg1"]);
    expect(where(s, "pgsql", "Unpromoted")).toEqual(["pg2", "pg3"]);
    expect(where(s, "vip-master", "Started")).toEqual(["pg1"]);
    // rep_mode=sync: the agent keeps one synchronous standby, the other streams asynchronously.
    const hs = ["pg2", "pg3"].map((n) => s.nodes.find((x) => x.name === n)?.attributes["pgsql-status"]);
    expect(hs).toContain("HS:sync");
    expect(["HS:sync", "HS:async"]).toContain(hs[1]);
    expect(psqlOn("pg1", "SELECT application_name || ' ' || state FROM pg_stat_replication ORDER BY 1").split("\n")).toEqual(["pg2 streaming", "pg3 streaming"]);
    const last = log.at(-1)!.split(" ")[1];
    await until(`row w${last} on pg3`, () => psqlOn("pg3", `SELECT count(*) FROM e2e WHERE v = 'w${last}'`) === "1", 30_000, 1000);
  });

  it("a spec that drops pg1, the primary, is refused before anything is touched", async () => {
    const hashes = () => ["pg1", "pg2", "pg3"].map((h) => onHost(h, "sha256sum /etc/corosync/corosync.conf /etc/postgresql/15/pgha/*")).join();
    const epoch = () => /epoch="(\d+)"/.exec(onHost("pg2", "cibadmin -Q | head -1"))![1];
    const before = { files: hashes(), epoch: epoch() };
    const drop = (file: string, ...lines: string[]) => {
      const out = join(mkdtempSync(join(tmpdir(), "pgha-e2e-drop-")), file.endsWith("hosts.yml") ? "hosts.yml" : "cluster.yml");
      writeFileSync(out, lines.reduce((t, l) => t.replace(l, ""), readFileSync(file, "utf8")).replace("primary: pg1", "primary: pg2"));
      return out;
    };
    const r = await pgha(["apply", "-i", drop(inv, "        pg1: { ansible_host: 10.117.1.11 }\n"), "-s", drop(spec, "      pg1: { id: 1, links: [10.117.1.11, 10.117.2.11] }\n", "      pg1: { agent: \"stonith:fence_dummy\", params: { type: file, status_file: /var/lib/pacemaker/fence-pg1.status, pcmk_host_list: pg1 } }\n")]);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/refusing: the spec removes pg1, which runs the primary; switch over .*Nothing was changed/);
    expect({ files: hashes(), epoch: epoch() }).toEqual(before);
    expect(where(clusterOn("pg2"), "pgsql", "Promoted")).toEqual(["pg1"]);
  });

  it("pg3's host wiped (a new machine, same name and address) comes back as a standby; the primary is not touched", async () => {
    const started = psqlOn("pg1", "SELECT pg_postmaster_start_time()");
    labSh(["poweroff", "pg3"]);
    await until("pg3 offline", () => clusterOn("pg1").nodes.some((n) => n.name === "pg3" && !n.online) && where(clusterOn("pg1"), "pgsql", "Promoted").join() === "pg1", 120_000);
    // Its disk as a new machine's: the cluster's and PostgreSQL's state gone, the stock corosync
    // directory back; the SSH host key stays (a new key would be refused until known_hosts is updated).
    const fs = "/var/lib/pgha-lab/hosts/pg3/fs";
    local(`set -e; for d in ${fs}/etc/postgresql ${fs}/var/lib/postgresql ${fs}/var/lib/pgha ${fs}/var/lib/pgsql; do find "$d" -mindepth 1 -delete; done; find ${fs}/var/lib/pacemaker ${fs}/var/lib/corosync -type f -delete; rm -rf ${fs}/etc/corosync && cp -a /etc/corosync ${fs}/etc/corosync`);
    labSh(["boot", "pg3"]);
    const r = await pgha(["apply", ...three()]);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/joined pg3: pg_basebackup from pg1, start Pacemaker/);
    expect(psqlOn("pg1", "SELECT pg_postmaster_start_time()")).toBe(started);
    const s = clusterOn("pg1");
    expect(where(s, "pgsql", "Promoted")).toEqual(["pg1"]);
    expect(where(s, "pgsql", "Unpromoted")).toEqual(["pg2", "pg3"]);
    expect(psqlOn("pg1", "SELECT application_name || ' ' || state FROM pg_stat_replication ORDER BY 1").split("\n")).toEqual(["pg2 streaming", "pg3 streaming"]);
    expect(psqlOn("pg3", "SELECT count(*) > 0 FROM e2e")).toBe("t");
  });

  it("afterwards diff exits 0 and a second apply changes nothing", async () => {
    const d = await pgha(["diff", ...three()]);
    expect(d.code, d.output).toBe(0);
    const again = await pgha(["apply", ...three()]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
  });

  it("pg3 leaves again (pgsql 3 -> 2) while a client writes: node_list in place, pg2 the sync standby, pg3's slot gone", async () => {
    const started = psqlOn("pg1", "SELECT pg_postmaster_start_time()");
    // pg3 stays in the inventory, outside the cluster's group: that is how pgha reaches it to drain it.
    const inv2 = join(mkdtempSync(join(tmpdir(), "pgha-e2e-inv-")), "hosts.yml");
    writeFileSync(inv2, readFileSync(TWO[1]!, "utf8").replace("  vars:\n", "    retired:\n      hosts:\n        pg3: { ansible_host: 10.117.1.13 }\n  vars:\n"));
    const { failed, errors } = await whileWriting("pg2", async () => {
      const r = await pgha(["apply", "-i", inv2, "-s", TWO[3]!]);
      expect(r.code, r.output).toBe(0);
      expect(r.stdout).toMatch(/left: pg3: standby until nothing runs there/);
      expect(r.stdout).toMatch(/forgot pg3: removed from the CIB, replication slots dropped on pg1/);
      expect(r.stdout).toMatch(/pgsql node_list pg1 pg2 pg3 -> pg1 pg2 \(in place, no restart\)/);
    });
    expect(failed, errors).toEqual([]);
    expect(psqlOn("pg1", "SELECT pg_postmaster_start_time()")).toBe(started);
    const s = clusterOn("pg1");
    expect(s.nodes.map((n) => n.name).sort()).toEqual(["pg1", "pg2"]);
    expect(where(s, "pgsql", "Promoted")).toEqual(["pg1"]);
    expect(s.nodes.find((n) => n.name === "pg2")?.attributes["pgsql-status"]).toBe("HS:sync");
    expect(psqlOn("pg1", `SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${slotName("pg3")}'`)).toBe("0");
    const d = await pgha(["diff", "-i", inv2, "-s", TWO[3]!]);
    expect(d.code, d.output).toBe(0);
  });
});
