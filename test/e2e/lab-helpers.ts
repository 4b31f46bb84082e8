// Helpers for e2e tests against the lab (test/lab/lab.sh): its fixed paths and
// addresses, SSH to its hosts the way pgha reaches real hosts (by address, lab key,
// host key checked against the lab's known_hosts), and polling.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NodeSSH } from "node-ssh";

export const LAB_DIR = "/var/lib/pgha-lab";
export const LAB_KEY = `${LAB_DIR}/id_ed25519`;
export const LAB_KNOWN_HOSTS = `${LAB_DIR}/known_hosts`;
export const LAB_INVENTORY = `${LAB_DIR}/inventory.yml`;
export const LAB_SH = join(dirname(fileURLToPath(import.meta.url)), "..", "lab", "lab.sh");

/** Address of a lab host on link 1 (eth1, 10.117.1.0/24) or link 2 (eth2, 10.117.2.0/24). */
export function hostAddr(name: string, link: 1 | 2 = 1): string {
  const m = /^pg([1-5])$/.exec(name);
  if (!m) throw new Error(`not a lab host name: ${name}`);
  return `10.117.${link}.${10 + Number(m[1])}`;
}

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run test/lab/lab.sh with ARGS; throws unless it exits 0 (or allowFail). */
export function labSh(
  args: string[],
  opts: { inherit?: boolean; allowFail?: boolean; asUser?: string } = {},
): ShResult {
  const cmd = opts.asUser ? "runuser" : "bash";
  const argv = opts.asUser ? ["-u", opts.asUser, "--", "bash", LAB_SH, ...args] : [LAB_SH, ...args];
  const r = spawnSync(cmd, argv, {
    encoding: "utf8",
    stdio: opts.inherit ? ["ignore", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
    timeout: 120_000,
  });
  const res = { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  if (res.code !== 0 && !opts.allowFail) {
    throw new Error(`lab.sh ${args.join(" ")} exited ${res.code}${r.error ? ` (${r.error.message})` : ""}\n${res.stderr}`);
  }
  return res;
}

/** Run a command on the root namespace (the machine the lab runs on). */
export function local(cmd: string): ShResult {
  const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** known_hosts as address -> host key blob (the base64 field, decoded). */
export function readKnownHosts(file = LAB_KNOWN_HOSTS): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [names, , b64] = line.trim().split(/\s+/);
    if (!names || !b64 || names.startsWith("#")) continue;
    for (const n of names.split(",")) keys.set(n, Buffer.from(b64, "base64"));
  }
  return keys;
}

/**
 * SSH to a lab host by address as root with the lab key. The server's host key must
 * be the one known_hosts lists for that address (`expectKeyOf` lets a test ask for
 * another host's key, to prove that a mismatch is refused).
 */
export async function connect(address: string, opts: { expectKeyOf?: string } = {}): Promise<NodeSSH> {
  const expected = readKnownHosts().get(opts.expectKeyOf ?? address);
  if (!expected) throw new Error(`no host key for ${opts.expectKeyOf ?? address} in ${LAB_KNOWN_HOSTS}`);
  const ssh = new NodeSSH();
  await ssh.connect({
    host: address,
    port: 22,
    username: "root",
    privateKeyPath: LAB_KEY,
    readyTimeout: 10_000,
    // Without hostHash, ssh2 hands the verifier the raw host key blob.
    hostVerifier: (key: Buffer) => key.equals(expected),
  });
  return ssh;
}

/** Run a shell command over SSH (no throw). */
export async function run(ssh: NodeSSH, cmd: string, stdin?: string): Promise<ShResult> {
  const r = await ssh.execCommand(cmd, stdin === undefined ? {} : { stdin });
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Run a shell command over SSH; throws unless it exits 0; returns stdout. */
export async function sh(ssh: NodeSSH, cmd: string, stdin?: string): Promise<string> {
  const r = await run(ssh, cmd, stdin);
  if (r.code !== 0) throw new Error(`\`${cmd}\` exited ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Poll CHECK until it returns a truthy value (returned), or fail after timeoutMs with the last state. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | false | undefined | null>,
  { timeoutMs = 90_000, intervalMs = 1_000 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
