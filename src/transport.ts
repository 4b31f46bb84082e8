// SSH transport: one connection per host, reused for the whole run. Host keys are verified against
// known_hosts (OpenSSH's file format, hashed entries included); `accept-new` records unknown hosts like
// OpenSSH's StrictHostKeyChecking=accept-new, and a changed key is always refused.
import { createHmac } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { NodeSSH } from "node-ssh";
import type { ClusterNode } from "./model/types.js";
import { shq } from "./shell.js";

export type HostKeyPolicy = "strict" | "accept-new";

export interface TransportOptions {
  connectTimeoutMs: number;
  hostKeyPolicy?: HostKeyPolicy;
  knownHostsFile?: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Connection {
  node: string;
  exec(command: string, opts?: { stdin?: string }): Promise<ExecResult>;
  close(): void;
}

export class TransportError extends Error {
  constructor(readonly node: string, message: string) {
    super(`${node}: ${message}`);
    this.name = "TransportError";
  }
}

/** `-o Key=Value` options from ansible_ssh_common_args that pgha honours. */
export function sshOptions(args: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  // -o Key=Value, -oKey=Value, -o "Key=Value", -o Key='quoted value'
  const re = /-o\s*(["']?)([A-Za-z]+)\s*=\s*("[^"]*"|'[^']*'|[^\s"']+)\1/g;
  for (const m of (args ?? "").matchAll(re)) out[m[2]!.toLowerCase()] = m[3]!.replace(/^["']|["']$/g, "");
  return out;
}

interface KnownHost {
  patterns: string[];
  hashed?: { salt: Buffer; hash: string };
  keyType: string;
  key: string;
}

export function parseKnownHosts(text: string): KnownHost[] {
  const out: KnownHost[] = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#") || t.startsWith("@")) continue;
    const [hosts, keyType, key] = t.split(/\s+/);
    if (!hosts || !keyType || !key) continue;
    if (hosts.startsWith("|1|")) {
      const [, , salt, hash] = hosts.split("|");
      out.push({ patterns: [], hashed: { salt: Buffer.from(salt ?? "", "base64"), hash: hash ?? "" }, keyType, key });
    } else out.push({ patterns: hosts.split(","), keyType, key });
  }
  return out;
}

const hostToken = (host: string, port: number) => (port === 22 ? host : `[${host}]:${port}`);

function matches(k: KnownHost, token: string): boolean {
  if (k.hashed) return createHmac("sha1", k.hashed.salt).update(token).digest("base64") === k.hashed.hash;
  return k.patterns.includes(token);
}

/** The SSH wire-format key blob starts with its type string. */
const keyTypeOf = (blob: Buffer): string => blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();

export type HostKeyVerdict = { ok: true; learned?: string } | { ok: false; reason: string };

/** Pure decision on a presented key; `learned` is the line to append for accept-new. */
export function verifyHostKey(known: KnownHost[], host: string, port: number, blob: Buffer, policy: HostKeyPolicy): HostKeyVerdict {
  const token = hostToken(host, port);
  const entries = known.filter((k) => matches(k, token));
  const presented = blob.toString("base64");
  const type = keyTypeOf(blob);
  if (entries.some((k) => k.key === presented)) return { ok: true };
  if (entries.some((k) => k.keyType === type)) {
    return { ok: false, reason: `host key for ${token} has CHANGED (${type}); refusing to connect. If the host was rebuilt, remove its old entry from known_hosts` };
  }
  if (policy === "accept-new") return { ok: true, learned: `${token} ${type} ${presented}\n` };
  return { ok: false, reason: `host ${token} is not in known_hosts; add its key (ssh-keyscan) or run with --host-key accept-new` };
}

export async function connect(node: ClusterNode, opts: TransportOptions): Promise<Connection> {
  const c = node.connection;
  const o = sshOptions(c.sshCommonArgs);
  const knownHostsFile = opts.knownHostsFile ?? o.userknownhostsfile ?? `${homedir()}/.ssh/known_hosts`;
  const policy: HostKeyPolicy = opts.hostKeyPolicy ?? (o.stricthostkeychecking === "accept-new" ? "accept-new" : "strict");
  const known = existsSync(knownHostsFile) ? parseKnownHosts(readFileSync(knownHostsFile, "utf8")) : [];
  let refused: string | undefined;
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: c.host,
      port: c.port,
      username: c.user ?? "root",
      privateKeyPath: c.privateKeyFile?.replace(/^~(?=\/)/, homedir()),
      readyTimeout: opts.connectTimeoutMs,
      hostVerifier: (key: Buffer) => {
        const v = verifyHostKey(known, c.host, c.port, key, policy);
        if (!v.ok) refused = v.reason;
        else if (v.learned) appendFileSync(knownHostsFile, v.learned);
        return v.ok;
      },
    });
  } catch (e) {
    ssh.dispose();
    throw new TransportError(node.name, `cannot connect to ${c.host}:${c.port}: ${refused ?? (e as Error).message}`);
  }
  const become = c.become && (c.user ?? "root") !== "root";
  return {
    node: node.name,
    async exec(command, execOpts = {}) {
      // sudo -n never prompts: a missing NOPASSWD rule fails fast instead of hanging the run.
      const cmd = become ? `sudo -n ${c.becomeUser ? `-u ${c.becomeUser} ` : ""}-- sh -c ${shq(command)}` : command;
      try {
        const r = await ssh.execCommand(cmd, { stdin: execOpts.stdin, noTrim: true });
        return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
      } catch (e) {
        throw new TransportError(node.name, `connection lost: ${(e as Error).message}`);
      }
    },
    close: () => ssh.dispose(),
  };
}
