// Issue 13 item 9 on the lab: corosync runs with crypto by default, every node holds the same authkey
// (root:root 0400) that pgha generated once, the key is in none of pgha's output, a lost key is copied
// back without a restart, nodes that disagree are refused, and turning crypto off and on again in a
// running cluster goes through the coordinated restart with the same primary.
import { beforeAll, describe, expect, it } from "vitest";
import { labSh } from "./lab-helpers.js";
import { clusterOn, onHost, pgha, specEdited, until, where, type PghaRun } from "./pgha-helpers.js";

const INV = ["-i", "inventories/sr-pgsql-2node/hosts.yml"];
const SPEC = "inventories/sr-pgsql-2node/cluster.yml";
const ARGS = [...INV, "-s", SPEC];
const NODES = ["pg1", "pg2"];
const KEY = "/etc/corosync/authkey";

const cipher = (h: string) => onHost(h, "corosync-cmapctl -g totem.crypto_cipher").trim();
const keyInfo = (h: string) => onHost(h, `stat -c '%U:%G %a %s' ${KEY}; sha256sum ${KEY}`).trim();
const corosyncPid = (h: string) => onHost(h, "pidof corosync").trim();
const healthy = () =>
  until(
    "a healthy cluster",
    () => {
      const s = clusterOn("pg1");
      return s.nodes.every((n) => n.online) && where(s, "pgsql", "Promoted").length === 1 && s.nodes.some((n) => n.attributes["pgsql-status"] === "HS:sync") && where(s, "vip-master", "Started").length === 1;
    },
    180_000,
  );

describe("corosync crypto and its authkey on sr-pgsql-2node", () => {
  const outputs: PghaRun[] = [];
  const run = async (args: string[]) => {
    const r = await pgha(args);
    outputs.push(r);
    return r;
  };
  let key = { base64: "", hex: "", sha256: "" };

  beforeAll(async () => {
    labSh(["up", "--nodes", "2"]);
    const build = await run(["apply", "-v", ...ARGS]);
    if (build.code !== 0) throw new Error(`build failed:\n${build.output}`);
    key = {
      base64: onHost("pg1", `base64 -w0 ${KEY}`).trim(),
      hex: onHost("pg1", `od -An -tx1 -v ${KEY} | tr -d ' \\n'`).trim(),
      sha256: onHost("pg1", `sha256sum ${KEY}`).split(" ")[0]!,
    };
  });

  it("builds a cluster whose corosync runs aes256 + sha256 on every node, with both nodes online", () => {
    for (const h of NODES) {
      expect(cipher(h)).toBe("totem.crypto_cipher (str) = aes256");
      expect(onHost(h, "corosync-cmapctl -g totem.crypto_hash").trim()).toBe("totem.crypto_hash (str) = sha256");
    }
    expect(clusterOn("pg1").nodes.filter((n) => n.online).map((n) => n.name).sort()).toEqual(NODES);
  });

  it("the authkey is the same 256 bytes on every node, root:root 0400", () => {
    expect(key.base64.length).toBeGreaterThan(300);
    for (const h of NODES) expect(keyInfo(h)).toBe(`root:root 400 256\n${key.sha256}  ${KEY}`);
  });

  it("a second apply (--json) and diff -v change nothing", async () => {
    const again = await run(["apply", "--json", ...ARGS]);
    expect(again.code, again.output).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, changed: 0 });
    const d = await run(["diff", "-v", ...ARGS]);
    expect(d.code, d.output).toBe(0);
    expect(d.stdout.trim().split("\n").at(-1)).toBe("no differences");
  });

  it("a node that lost its key gets it back, and corosync is not restarted", async () => {
    const pids = NODES.map(corosyncPid);
    onHost("pg2", `rm -f ${KEY}`);
    const a = await run(["apply", "-v", ...ARGS]);
    expect(a.code, a.output).toBe(0);
    expect(a.output).toContain(`${KEY} copied from pg1 to pg2`);
    expect(keyInfo("pg2")).toBe(`root:root 400 256\n${key.sha256}  ${KEY}`);
    expect(NODES.map(corosyncPid)).toEqual(pids);
  });

  it("nodes that disagree on the key are refused on a built cluster, and nothing is touched", async () => {
    onHost("pg2", `cp -p ${KEY} /root/authkey.saved && corosync-keygen -k ${KEY} > /dev/null`);
    const other = keyInfo("pg2");
    try {
      const a = await run(["apply", ...ARGS]);
      expect(a.code, a.output).toBe(1);
      expect(a.output).toMatch(/the nodes hold different \/etc\/corosync\/authkey files \(pg1; pg2\)/);
      expect(keyInfo("pg1")).toBe(`root:root 400 256\n${key.sha256}  ${KEY}`);
      expect(keyInfo("pg2")).toBe(other);
    } finally {
      onHost("pg2", `mv -f /root/authkey.saved ${KEY}`);
    }
  });

  it("turning crypto off and on again in the running cluster is a coordinated restart each way, same primary", async () => {
    const primary = where(clusterOn("pg1"), "pgsql", "Promoted");
    const off = await run(["apply", ...INV, "-s", specEdited(SPEC, ["  transport: knet\n", "  transport: knet\n  crypto: { cipher: none, hash: none }\n"])]);
    expect(off.code, off.output).toBe(0);
    expect(off.output).toMatch(/coordinated restart of the whole cluster: totem\.crypto_cipher, totem\.crypto_hash cannot change at run time/);
    expect(off.output).toMatch(/model-crypto-off/);
    for (const h of NODES) expect(cipher(h)).toBe("totem.crypto_cipher (str) = none");
    await healthy();
    const on = await run(["apply", "-v", ...ARGS]);
    expect(on.code, on.output).toBe(0);
    expect(on.output).toMatch(/coordinated restart of the whole cluster: totem\.crypto_cipher, totem\.crypto_hash cannot change at run time/);
    for (const h of NODES) {
      expect(cipher(h)).toBe("totem.crypto_cipher (str) = aes256");
      expect(keyInfo(h)).toBe(`root:root 400 256\n${key.sha256}  ${KEY}`);
    }
    await healthy();
    expect(where(clusterOn("pg1"), "pgsql", "Promoted")).toEqual(primary);
  });

  it("the key, in any encoding, and its hash are in none of pgha's output (-v, --json, diff)", () => {
    expect(outputs.length).toBeGreaterThanOrEqual(6);
    for (const o of outputs) {
      for (const secret of [key.base64, key.base64.slice(0, 24), key.hex.slice(0, 32), key.sha256]) expect(o.output).not.toContain(secret);
    }
  });
});
