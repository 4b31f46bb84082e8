// SSH transport: one connection per host, reused for the whole run. Host keys are verified as OpenSSH
// verifies them: every user and global known_hosts file, hashed entries, wildcard and negated patterns,
// @revoked keys; `accept-new` records unknown hosts like StrictHostKeyChecking=accept-new, and a host
// whose recorded keys do not include the presented one is always refused.
import { createHmac } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { dirname } from "node:path";
import { Client, type ClientChannel } from "ssh2";
import { usesSudo } from "./inventory.js";
import type { ClusterNode } from "./model/types.js";
import { maskSecrets } from "./secrets.js";
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

/** Words as a POSIX shell (and Ansible's shlex.split) splits them: quotes and backslashes. */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) out.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      word = (word ?? "") + s.slice(i + 1, end < 0 ? s.length : end);
      i = end < 0 ? s.length : end;
    } else if (c === '"') {
      word ??= "";
      for (i++; i < s.length && s[i] !== '"'; i++) word += s[i] === "\\" && i + 1 < s.length && /["\\$`]/.test(s[i + 1]!) ? s[++i] : s[i];
    } else if (c === "\\" && i + 1 < s.length) word = (word ?? "") + s[++i];
    else word = (word ?? "") + c;
  }
  if (word !== undefined) out.push(word);
  return out;
}

/** `-o Key=Value` (or `-o "Key Value"`) options from ansible_ssh_common_args, keys lowercased; the first one wins, as in ssh. */
export function sshOptions(args: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const words = shellWords(args ?? "");
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const opt = w === "-o" ? words[++i] : w.startsWith("-o") ? w.slice(2) : undefined;
    const m = opt === undefined ? null : /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*)$/s.exec(opt);
    if (m) out[m[1]!.toLowerCase()] ??= m[2]!.trim();
  }
  return out;
}

/**
 * The known_hosts files OpenSSH reads, as its UserKnownHostsFile and GlobalKnownHostsFile options say
 * (several files in one value, `~`, %d, %u, `none`); `user[0]` is where accept-new records a host.
 */
export function knownHostsFiles(o: Record<string, string>, userOverride?: string, home = homedir(), user = userInfo().username): { user: string[]; global: string[] } {
  const expand = (f: string) => f.replace(/^~(?=\/|$)/, home).replace(/%([%du])/g, (_, t: string) => (t === "%" ? "%" : t === "d" ? home : user));
  const list = (v: string) => shellWords(v).filter((f) => f.toLowerCase() !== "none").map(expand);
  return {
    user: userOverride !== undefined ? [userOverride] : list(o.userknownhostsfile ?? "~/.ssh/known_hosts ~/.ssh/known_hosts2"),
    global: list(o.globalknownhostsfile ?? "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2"),
  };
}

export interface KnownHost {
  /** @revoked: the key is refused for every host the line matches. @cert-authority lines sign certificates, which pgha does not use: not kept. */
  revoked: boolean;
  patterns: string[];
  hashed?: { salt: Buffer; hash: string };
  keyType: string;
  key: Buffer;
}

export function parseKnownHosts(text: string): KnownHost[] {
  const out: KnownHost[] = [];
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (!words[0] || words[0].startsWith("#")) continue;
    const marker = words[0].startsWith("@") ? words.shift() : undefined;
    // OpenSSH skips a line with an unknown marker; CA keys never match a plain host key.
    if (marker !== undefined && marker !== "@revoked") continue;
    const [hosts, keyType, key] = words;
    if (!hosts || !keyType || !key) continue;
    const entry = { revoked: marker === "@revoked", keyType, key: Buffer.from(key, "base64") };
    if (hosts.startsWith("|1|")) {
      const [, , salt, hash] = hosts.split("|");
      out.push({ ...entry, patterns: [], hashed: { salt: Buffer.from(salt ?? "", "base64"), hash: hash ?? "" } });
    } else out.push({ ...entry, patterns: hosts.split(",") });
  }
  return out;
}

const hostToken = (host: string, port: number) => (port === 22 ? host : `[${host}]:${port}`);

/** OpenSSH's match_pattern: `*` any run of characters, `?` exactly one, case-insensitive. */
const glob = (s: string, pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === "*" ? ".*" : c === "?" ? "." : `\\${c}`))}$`, "s").test(s);

/** OpenSSH's match_hostname: any negated pattern that matches rules the line out, else any pattern that matches. */
function matches(k: KnownHost, token: string): boolean {
  if (k.hashed) return createHmac("sha1", k.hashed.salt).update(token).digest("base64") === k.hashed.hash;
  let positive = false;
  for (const p of k.patterns) {
    const negated = p.startsWith("!");
    if (!glob(token, (negated ? p.slice(1) : p).toLowerCase())) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}

/** The SSH wire-format key blob starts with its type string. */
const keyTypeOf = (blob: Buffer): string => blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();

export type HostKeyVerdict = { ok: true; learned?: string } | { ok: false; reason: string };

type HostStatus = { status: "ok" | "new" | "revoked" } | { status: "changed"; had: string };

/** OpenSSH's check_key_in_hostkeys for one host token. */
function hostStatus(known: KnownHost[], token: string, blob: Buffer): HostStatus {
  const entries = known.filter((k) => matches(k, token));
  if (entries.some((k) => k.revoked && k.key.equals(blob))) return { status: "revoked" };
  const recorded = entries.filter((k) => !k.revoked);
  if (recorded.some((k) => k.key.equals(blob))) return { status: "ok" };
  return recorded.length ? { status: "changed", had: [...new Set(recorded.map((k) => k.keyType))].join(", ") } : { status: "new" };
}

/**
 * Pure decision on a presented key, as OpenSSH decides: a revoked key is refused whatever else is
 * recorded; a host with recorded keys, of any type, none of them this one, has changed; a host with no
 * key at all on a port other than 22 is known when its bare name has this key (ssh's "found matching
 * key w/out port"); else it is new. `learned` is the line to append for accept-new.
 */
export function verifyHostKey(known: KnownHost[], host: string, port: number, blob: Buffer, policy: HostKeyPolicy): HostKeyVerdict {
  const token = hostToken(host.toLowerCase(), port);
  const type = keyTypeOf(blob);
  const s = hostStatus(known, token, blob);
  if (s.status === "revoked") return { ok: false, reason: `the ${type} host key of ${token} is marked @revoked in known_hosts; refusing to connect` };
  if (s.status === "ok") return { ok: true };
  if (s.status === "changed") {
    return { ok: false, reason: `host key for ${token} has CHANGED (presented ${type}, known_hosts has ${s.had}); refusing to connect. If the host was rebuilt, remove its old entry from known_hosts` };
  }
  if (port !== 22 && hostStatus(known, host.toLowerCase(), blob).status === "ok") return { ok: true };
  if (policy === "accept-new") return { ok: true, learned: `${token} ${type} ${blob.toString("base64")}\n` };
  return { ok: false, reason: `host ${token} is not in known_hosts; add its key (ssh-keyscan) or run with --host-key accept-new` };
}

/**
 * How sudo takes a command on a host, found once at connect (sudoMode): without a password (a NOPASSWD rule), or
 * reading it first from stdin.
 */
export type SudoAuth = "nopasswd" | "password";

/**
 * The command line sent to the host: wrapped in sudo when the inventory says become. -k ignores cached credentials,
 * so whether sudo reads a password never depends on when it last did; -n never prompts (a rule that wants a
 * password fails fast instead of hanging the run); -S -p '' reads the password as the first line of stdin, byte by
 * byte (sudo's tgetpass), which leaves the rest of stdin to the command.
 */
export function remoteCommand(c: Pick<ClusterNode["connection"], "user" | "become" | "becomeUser">, command: string, auth: SudoAuth = "nopasswd"): string {
  if (!usesSudo(c)) return command;
  return `sudo -k ${auth === "password" ? "-S -p ''" : "-n"} ${c.becomeUser ? `-u ${shq(c.becomeUser)} ` : ""}-- sh -c ${shq(command)}`;
}

/** The command's stdin as sent: after the password's line when sudo reads one. */
export const remoteStdin = (auth: SudoAuth, password: string | undefined, stdin?: string): string | undefined => (auth === "password" ? `${password}\n${stdin ?? ""}` : stdin);

/**
 * Which way sudo takes commands on a host, tried with the form every command has (`sh -c`, the same -u), so the
 * same sudoers rule decides: with -n first; else with the password alone on stdin, so a wrong one ends at EOF
 * (after PAM's delay) instead of sudo reading a command's input as more tries. `run` executes a command line on
 * the host. Messages say what sudo said, with the password masked.
 */
export async function sudoMode(node: string, c: Pick<ClusterNode["connection"], "user" | "become" | "becomeUser">, password: string | undefined, run: (command: string, stdin?: string) => Promise<ExecResult>): Promise<SudoAuth> {
  if (!usesSudo(c)) return "nopasswd";
  const said = (r: ExecResult) => maskSecrets(r.stderr, password ? [password] : []).trim().split(/\s*\n\s*/).join("; ") || `exit status ${r.code}`;
  const as = `sudo as ${c.user}`;
  const free = await run(remoteCommand(c, ":"));
  if (free.code === 0) return "nopasswd";
  if (free.code === 127) throw new TransportError(node, `become: ${as}: sudo is not installed or not on the PATH (${said(free)})`);
  if (password === undefined) {
    throw new TransportError(node, `become: ${as} needs a password (${said(free)}); give one with ansible_become_password: "{{ lookup('env', 'NAME') }}" or "{{ lookup('file', 'PATH') }}", or a NOPASSWD rule in sudoers`);
  }
  const withPassword = await run(remoteCommand(c, ":", "password"), remoteStdin("password", password));
  if (withPassword.code === 0) return "password";
  throw new TransportError(node, `become: ${as} refused with the become password (${said(withPassword)})`);
}

export async function connect(node: ClusterNode, opts: TransportOptions): Promise<Connection> {
  const c = node.connection;
  const o = sshOptions(c.sshCommonArgs);
  const files = knownHostsFiles(o, opts.knownHostsFile);
  const policy: HostKeyPolicy = opts.hostKeyPolicy ?? (o.stricthostkeychecking === "accept-new" ? "accept-new" : "strict");
  const known = [...files.user, ...files.global].flatMap((f) => (existsSync(f) ? parseKnownHosts(readFileSync(f, "utf8")) : []));
  let refused: string | undefined;
  // ssh2 itself, not a wrapper around it: the key is read and the TCP connection opened in this very call, so
  // the handshake runs while the caller goes on with its own work (issue 16).
  const ssh = new Client();
  let lost: Error | undefined;
  const closed = new Set<(e: Error) => void>();
  const fail = (e: Error) => {
    lost ??= e;
    for (const f of closed) f(lost);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      ssh.once("ready", resolve);
      ssh.on("error", (e: Error) => (lost ? undefined : reject(e)));
      ssh.once("close", () => reject(new Error("connection closed during the handshake")));
      let privateKey: Buffer | undefined;
      const keyPath = c.privateKeyFile?.replace(/^~(?=\/)/, homedir());
      try {
        privateKey = keyPath === undefined ? undefined : readFileSync(keyPath);
      } catch (e) {
        return reject(new Error(`cannot read the private key ${keyPath}: ${(e as Error).message}`));
      }
      ssh.connect({
        host: c.host,
        port: c.port,
        username: c.user ?? "root",
        privateKey,
        readyTimeout: opts.connectTimeoutMs,
        // A host that is powered off or cut off sends no FIN: without keepalives a running command would wait forever.
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          const v = verifyHostKey(known, c.host, c.port, key, policy);
          if (!v.ok) refused = v.reason;
          else if (v.learned && files.user[0]) {
            mkdirSync(dirname(files.user[0]), { recursive: true, mode: 0o700 });
            appendFileSync(files.user[0], v.learned);
          }
          return v.ok;
        },
      });
    });
  } catch (e) {
    ssh.end();
    throw new TransportError(node.name, `cannot connect to ${c.host}:${c.port}: ${refused ?? (e as Error).message}`);
  }
  // From here an error or the end of the connection fails whatever command is still running.
  ssh.on("error", fail);
  ssh.on("close", () => fail(new Error("the connection closed")));
  const run = (command: string, stdin?: string): Promise<ExecResult> =>
    new Promise<ExecResult>((resolve, reject) => {
      const lose = (e: Error) => reject(new TransportError(node.name, `connection lost: ${e.message}`));
      if (lost) return lose(lost);
      closed.add(lose);
      const done = (f: () => void) => {
        closed.delete(lose);
        f();
      };
      const started = (err: Error | undefined, channel: ClientChannel) => {
        if (err) return done(() => lose(err));
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let code = -1;
        channel.on("data", (b: Buffer) => stdout.push(b));
        channel.stderr.on("data", (b: Buffer) => stderr.push(b));
        channel.on("exit", (status: number | null) => (code = status ?? -1));
        // Decoded once, whole: a character split across two packets stays one character.
        channel.on("close", () => done(() => resolve({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() })));
        channel.end(stdin);
      };
      try {
        ssh.exec(command, started);
      } catch (e) {
        done(() => lose(e as Error)); // ssh2 throws when the connection is already gone
      }
    });
  let auth: SudoAuth;
  try {
    auth = await sudoMode(node.name, c, node.becomePassword, run);
  } catch (e) {
    ssh.end();
    throw e;
  }
  return {
    node: node.name,
    exec: (command, execOpts = {}) => run(remoteCommand(c, command, auth), remoteStdin(auth, node.becomePassword, execOpts.stdin)),
    close: () => ssh.end(),
  };
}
