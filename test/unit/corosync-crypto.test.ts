// Corosync crypto on by default: what corosync.conf gets, the warnings when it is off, the restart that
// turns it on in a running cluster, the authkey facts (the real facts script) and which key wins.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { authkeyDrifts, planAuthkey } from "../../src/authkey.js";
import { classifyCorosyncChange } from "../../src/corosync-change.js";
import { InputError } from "../../src/diagnostics.js";
import { factsScript, parseFacts, type HostFacts } from "../../src/facts.js";
import { renderExample } from "./helpers.js";

const corosyncConf = (r: ReturnType<typeof renderExample>) => r.rendered.files.find((f) => f.node === "pg1" && f.path === "/etc/corosync/corosync.conf")!.content;
const cryptoOff = (s: string) => s.replace("  transport: knet\n", "  transport: knet\n  crypto: { cipher: none, hash: none }\n");
const codes = (r: ReturnType<typeof renderExample>) => r.model.warnings.map((w) => w.code);

describe("corosync crypto in the model", () => {
  it("is aes256 + sha256 by default, with an authkey and no warning", () => {
    const r = renderExample("sr-pgsql-2node");
    expect(corosyncConf(r)).toMatch(/crypto_cipher: aes256\n\s*crypto_hash: sha256\n/);
    expect(r.model.corosyncAuthkey).toBe(true);
    expect(codes(r)).not.toContain("model-crypto-off");
  });

  it("warns when the spec turns it off, and then needs no authkey", () => {
    const r = renderExample("sr-pgsql-2node", cryptoOff);
    expect(corosyncConf(r)).toMatch(/crypto_cipher: none\n\s*crypto_hash: none\n/);
    expect(r.model.corosyncAuthkey).toBe(false);
    const w = r.model.warnings.find((d) => d.code === "model-crypto-off");
    expect(w?.message).toMatch(/neither encrypted nor authenticated.*fence-device passwords/);
    expect(w?.path).toBe("/corosync/crypto");
  });

  it("warns that authentication without a cipher leaves the traffic readable", () => {
    const r = renderExample("sr-pgsql-2node", (s) => s.replace("  transport: knet\n", "  transport: knet\n  crypto: { cipher: none }\n"));
    expect(corosyncConf(r)).toMatch(/crypto_cipher: none\n\s*crypto_hash: sha256\n/);
    expect(r.model.corosyncAuthkey).toBe(true);
    expect(r.model.warnings.find((d) => d.code === "model-crypto-off")?.message).toMatch(/authenticated but not encrypted/);
  });

  it("refuses crypto on a transport that has none, and a cipher without a hash", () => {
    const diags = (edit: (s: string) => string) => {
      try {
        renderExample("sr-pgsql-2node", edit);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).diagnostics.map((d) => d.code);
      }
      throw new Error("expected an InputError");
    };
    expect(diags((s) => s.replace("  transport: knet\n", "  transport: udpu\n  crypto: { cipher: aes256 }\n"))).toContain("model-crypto-transport");
    expect(diags((s) => s.replace("  transport: knet\n", "  transport: knet\n  crypto: { hash: none }\n"))).toContain("model-crypto-hash");
  });

  it("turning it on in a running cluster is a coordinated restart", () => {
    const running = corosyncConf(renderExample("sr-pgsql-2node", cryptoOff));
    const desired = corosyncConf(renderExample("sr-pgsql-2node"));
    expect(classifyCorosyncChange(running, desired)).toEqual({ apply: "restart", changed: ["totem.crypto_cipher", "totem.crypto_hash"], needRestart: ["totem.crypto_cipher", "totem.crypto_hash"] });
  });
});

describe("knet link priority", () => {
  const noPriorities = (s: string) => s.replace(/, priority: \d+ \}/g, " }");

  it("the examples prefer the interconnect (link 1) over the service LAN", () => {
    const conf = corosyncConf(renderExample("sr-pgsql-2node"));
    expect(conf).toMatch(/linknumber: 0\n\s*knet_link_priority: 1\n/);
    expect(conf).toMatch(/linknumber: 1\n\s*knet_link_priority: 2\n/);
    expect(codes(renderExample("sr-pgsql-2node"))).not.toContain("model-link-priority");
  });

  it("warns when no link has a priority and link 0 is the service LAN, which knet then uses for everything", () => {
    const r = renderExample("sr-pgsql-2node", noPriorities);
    expect(corosyncConf(r)).not.toContain("knet_link_priority");
    expect(r.model.warnings.find((w) => w.code === "model-link-priority")?.message).toMatch(/link 0 \(eth1\), the service LAN that carries the master VIP/);
  });

  it("does not warn when link 0 carries no master VIP", () => {
    const r = renderExample("sr-pgsql-2node", (s) => noPriorities(s).replace("master: { ip: 10.117.1.100, cidr_netmask: 24, nic: eth1 }", "master: { ip: 10.117.2.110, cidr_netmask: 24, nic: eth2 }"));
    expect(codes(r)).not.toContain("model-link-priority");
  });
});

describe("authkey facts (the real facts script)", () => {
  const dir = mkdtempSync(join(tmpdir(), "pgha-authkey-"));
  const key = join(dir, "authkey");
  const gather = () => {
    const { model } = renderExample("sr-pgsql-2node");
    return parseFacts(execFileSync("sh", ["-s"], { input: factsScript(model, [], [], join(dir, "state"), key) }).toString(), key);
  };

  it("reads no authkey where there is none", () => {
    expect(gather().authkey).toBeUndefined();
  });

  it("reads its hash, mode and size, and keeps it out of the managed files", () => {
    const bytes = randomBytes(256);
    writeFileSync(key, bytes);
    chmodSync(key, 0o400);
    const facts = gather();
    expect(facts.authkey).toMatchObject({ sha256: createHash("sha256").update(bytes).digest("hex"), mode: "0400", size: 256 });
    expect(facts.files[key]).toBeUndefined();
  });
});

describe("which authkey wins", () => {
  const key = (sha256: string, mode = "0400", size = 256): HostFacts["authkey"] => ({ sha256, owner: "root", group: "root", mode, size });

  it("none anywhere: generated on the first node and copied to the others", () => {
    expect(planAuthkey([{ name: "pg1", key: undefined }, { name: "pg2", key: undefined }], false)).toEqual({ source: "pg1", generate: true, push: ["pg2"], replaced: [], fix: [] });
  });

  it("one key: copied where it is missing or unusable, its mode repaired where it is wrong", () => {
    const plan = planAuthkey([{ name: "pg1", key: undefined }, { name: "pg2", key: key("a", "0644") }, { name: "pg3", key: key("b", "0400", 0) }], false);
    expect(plan).toEqual({ source: "pg2", generate: false, push: ["pg1", "pg3"], replaced: [], fix: ["pg2"] });
  });

  it("the same key everywhere: nothing to do", () => {
    expect(planAuthkey([{ name: "pg1", key: key("a") }, { name: "pg2", key: key("a") }], false)).toEqual({ source: "pg1", generate: false, push: [], replaced: [], fix: [] });
  });

  it("different keys on a built cluster: refused, naming the nodes and never a hash", () => {
    const plan = planAuthkey([{ name: "pg1", key: key("hash-one") }, { name: "pg2", key: key("hash-two") }], false);
    expect("refuse" in plan && plan.refuse).toMatch(/different \/etc\/corosync\/authkey files \(pg1; pg2\)/);
    expect(JSON.stringify(plan)).not.toMatch(/hash-one|hash-two/);
  });

  it("different keys on a build: the key most nodes hold", () => {
    const plan = planAuthkey([{ name: "pg1", key: key("x") }, { name: "pg2", key: key("y") }, { name: "pg3", key: key("y") }], true);
    expect(plan).toEqual({ source: "pg2", generate: false, push: ["pg1"], replaced: ["pg1"], fix: [] });
  });
});

describe("what diff says about the authkey", () => {
  const { model } = renderExample("sr-pgsql-2node");
  const facts = (pg1: HostFacts["authkey"], pg2: HostFacts["authkey"]) => ({ pg1: { authkey: pg1 } as HostFacts, pg2: { authkey: pg2 } as HostFacts });
  const key = (sha256: string, mode = "0400"): HostFacts["authkey"] => ({ sha256, owner: "root", group: "root", mode, size: 256 });

  it("nothing when both nodes hold the same key, root:root 0400", () => {
    expect(authkeyDrifts(model, facts(key("a"), key("a")))).toEqual([]);
  });

  it("a missing key, a wrong mode and disagreeing nodes, each without content", () => {
    expect(authkeyDrifts(model, facts(key("a", "0644"), undefined))).toEqual([
      { node: "pg1", path: "/etc/corosync/authkey", action: "attributes", reasons: ["owner root:root mode 0644 -> root:root 0400"] },
      { node: "pg2", path: "/etc/corosync/authkey", action: "create", reasons: ["missing: copied from pg1"] },
    ]);
    const differ = authkeyDrifts(model, facts(key("hash-one"), key("hash-two")));
    expect(differ.map((d) => [d.node, d.action])).toEqual([["pg1", "update"], ["pg2", "update"]]);
    expect(JSON.stringify(differ)).not.toMatch(/hash-one|hash-two/);
  });

  it("nothing while crypto is off", () => {
    expect(authkeyDrifts(renderExample("sr-pgsql-2node", cryptoOff).model, facts(undefined, undefined))).toEqual([]);
  });
});
