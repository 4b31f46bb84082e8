// transport.connect over ssh2 against a real sshd on 127.0.0.1 (issue 16 replaced node-ssh with ssh2 itself):
// exit status, stdout and stderr apart, stdin in full, multi-byte text whole, and what a lost connection,
// a refused port, an unknown host key and an unreadable private key say.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterNode } from "../../src/model/types.js";
import { connect } from "../../src/transport.js";

const dir = mkdtempSync(join(tmpdir(), "pgha-transport-"));
for (const k of ["host", "client"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, k)]);
const port = 20000 + ((process.pid + 7919) % 20000);
let sshd: ChildProcess | undefined;

const node = (over: Partial<ClusterNode["connection"]> = {}) =>
  ({ name: "pg1", id: 1, links: [], isPrimary: true, connection: { host: "127.0.0.1", port, user: "root", privateKeyFile: join(dir, "client"), sshCommonArgs: `-o UserKnownHostsFile=${join(dir, "known_hosts")}`, ...over } }) as unknown as ClusterNode;
const OPTS = { connectTimeoutMs: 10_000 };

beforeAll(async () => {
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client.pub")));
  writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${readFileSync(join(dir, "host.pub"), "utf8").split(" ").slice(0, 2).join(" ")}\n`);
  writeFileSync(join(dir, "sshd_config"), `Port ${port}\nListenAddress 127.0.0.1\nHostKey ${join(dir, "host")}\nPidFile ${join(dir, "sshd.pid")}\nUsePAM no\nPermitRootLogin prohibit-password\nAuthorizedKeysFile ${join(dir, "authorized_keys")}\nStrictModes no\n`);
  sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" });
  for (let i = 0; i < 100 && spawnSync("ssh-keyscan", ["-p", String(port), "127.0.0.1"]).status !== 0; i++) await new Promise((r) => setTimeout(r, 50));
});
afterAll(() => sshd?.kill());

describe("connect over ssh2", () => {
  it("runs commands: exit status, stdout and stderr apart, stdin in full, multi-byte text whole", async () => {
    const c = await connect(node(), OPTS);
    try {
      expect(await c.exec("cat; echo oops >&2; exit 3", { stdin: "line 1\nline 2\n" })).toEqual({ code: 3, stdout: "line 1\nline 2\n", stderr: "oops\n" });
      const text = "é€𝄞".repeat(50_000); // many packets: characters fall across their edges
      expect(await c.exec("cat", { stdin: text })).toEqual({ code: 0, stdout: text, stderr: "" });
      const [a, b] = await Promise.all([c.exec("echo a"), c.exec("echo b")]);
      expect([a.stdout, b.stdout]).toEqual(["a\n", "b\n"]);
    } finally {
      c.close();
    }
  });

  it("fails a running command, and any later one, when the connection is gone", async () => {
    const c = await connect(node(), OPTS);
    const running = c.exec("sleep 30");
    setTimeout(() => c.close(), 100);
    await expect(running).rejects.toThrow(/^pg1: connection lost: /);
    await expect(c.exec("true")).rejects.toThrow(/^pg1: connection lost: /);
  });

  it("says why it cannot connect: a refused port, an unknown host key, an unreadable private key", async () => {
    await expect(connect(node({ port: port + 1 }), OPTS)).rejects.toThrow(`pg1: cannot connect to 127.0.0.1:${port + 1}: connect ECONNREFUSED`);
    await expect(connect(node({ sshCommonArgs: `-o UserKnownHostsFile=${join(dir, "none")} -o GlobalKnownHostsFile=none` }), OPTS)).rejects.toThrow(`host [127.0.0.1]:${port} is not in known_hosts`);
    await expect(connect(node({ privateKeyFile: join(dir, "missing") }), OPTS)).rejects.toThrow(`cannot read the private key ${join(dir, "missing")}: ENOENT`);
  });
});
