// Host-key decisions are pure; the real SSH path is exercised against the lab in test/e2e.
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseKnownHosts, sshOptions, verifyHostKey } from "../../src/transport.js";

function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
}

const key = blob("ssh-ed25519", "key-one");
const other = blob("ssh-ed25519", "key-two");

describe("known_hosts verification", () => {
  const known = parseKnownHosts(`# comment\n10.117.1.11,pg1 ssh-ed25519 ${key.toString("base64")}\n[10.117.1.12]:2222 ssh-ed25519 ${key.toString("base64")}\n`);

  it("accepts the recorded key, by address or by [host]:port", () => {
    expect(verifyHostKey(known, "10.117.1.11", 22, key, "strict")).toEqual({ ok: true });
    expect(verifyHostKey(known, "pg1", 22, key, "strict")).toEqual({ ok: true });
    expect(verifyHostKey(known, "10.117.1.12", 2222, key, "strict")).toEqual({ ok: true });
  });

  it("refuses a changed key even with accept-new", () => {
    const v = verifyHostKey(known, "10.117.1.11", 22, other, "accept-new");
    expect(v.ok).toBe(false);
    expect(!v.ok && v.reason).toMatch(/CHANGED/);
  });

  it("refuses an unknown host when strict, and learns it with accept-new", () => {
    const strict = verifyHostKey(known, "10.117.1.13", 22, key, "strict");
    expect(strict.ok).toBe(false);
    expect(!strict.ok && strict.reason).toMatch(/not in known_hosts.*accept-new/);
    expect(verifyHostKey(known, "10.117.1.13", 22, key, "accept-new")).toEqual({ ok: true, learned: `10.117.1.13 ssh-ed25519 ${key.toString("base64")}\n` });
  });

  it("matches hashed entries (HashKnownHosts yes)", () => {
    const salt = randomBytes(20);
    const hash = createHmac("sha1", salt).update("10.117.1.14").digest("base64");
    const hashed = parseKnownHosts(`|1|${salt.toString("base64")}|${hash} ssh-ed25519 ${key.toString("base64")}\n`);
    expect(verifyHostKey(hashed, "10.117.1.14", 22, key, "strict")).toEqual({ ok: true });
    expect(verifyHostKey(hashed, "10.117.1.15", 22, key, "strict").ok).toBe(false);
  });

  it("reads UserKnownHostsFile and StrictHostKeyChecking from ansible_ssh_common_args", () => {
    expect(sshOptions('-o UserKnownHostsFile=/var/lib/pgha-lab/known_hosts -o "StrictHostKeyChecking=accept-new"')).toEqual({
      userknownhostsfile: "/var/lib/pgha-lab/known_hosts",
      stricthostkeychecking: "accept-new",
    });
    expect(sshOptions("-o StrictHostKeyChecking=accept-new -oUserKnownHostsFile='/x y'")).toEqual({ stricthostkeychecking: "accept-new", userknownhostsfile: "/x y" });
  });
});
