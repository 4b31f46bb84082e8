// Issue 14, item 8: `--host-key accept-new` decides as OpenSSH does. Reference: the real ssh client
// against a real sshd on 127.0.0.1, with generated known_hosts files (exact, wildcard, negated, hashed,
// upper-case, @revoked and @cert-authority entries, keys of another type, spread over several user
// files and a global one): for each, pgha's verdict (accept, refuse, record the host) must be OpenSSH's.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { knownHostsFiles, parseKnownHosts, remoteCommand, sshOptions, verifyHostKey } from "../../src/transport.js";

const dir = mkdtempSync(join(tmpdir(), "pgha-hostkeys-"));
const keygen = (name: string, type: string) => {
  execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-f", join(dir, name)]);
  return readFileSync(join(dir, `${name}.pub`), "utf8").split(" ").slice(0, 2).join(" ");
};
const HOST = keygen("host", "ed25519");
const OTHER = keygen("other", "ed25519");
const ECDSA = keygen("ecdsa", "ecdsa");
const presented = Buffer.from(HOST.split(" ")[1]!, "base64");
const port = 20000 + (process.pid % 20000);
let sshd: ChildProcess | undefined;

beforeAll(async () => {
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, "sshd_config"), `Port ${port}\nListenAddress 127.0.0.1\nHostKey ${join(dir, "host")}\nPidFile ${join(dir, "sshd.pid")}\nUsePAM no\n`);
  sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" });
  for (let i = 0; i < 100 && spawnSync("ssh-keyscan", ["-p", String(port), "127.0.0.1"]).status !== 0; i++) await new Promise((r) => setTimeout(r, 50));
});
afterAll(() => sshd?.kill());

const hashed = (name: string) => {
  const salt = randomBytes(20);
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
};

/** Entries about `name` (a HostKeyAlias, or the [127.0.0.1]:port token), each OpenSSH reads in its own way. */
const pool = (name: string): string[] => [
  `${name} ${HOST}`,
  `${name} ${OTHER}`,
  `${name} ${ECDSA}`,
  `${name.toUpperCase()} ${HOST}`,
  `other.lab,${name} ${HOST}`,
  `* ${OTHER}`,
  `pg?.lab ${HOST}`,
  `pg*.lab ${OTHER}`,
  `[127.0.0.*]:* ${OTHER}`,
  `db*.lab ${OTHER}`,
  `pg*.lab,!${name} ${OTHER}`,
  `*,!${name} ${HOST}`,
  `${hashed(name)} ${HOST}`,
  `${hashed(name)} ${OTHER}`,
  `@revoked * ${HOST}`,
  `@revoked db1.lab ${HOST}`,
  `@revoked ${name} ${OTHER}`,
  `@cert-authority * ${OTHER}`,
  `@bogus ${name} ${OTHER}`,
  // Without HostKeyAlias, a new [host]:port is known when the bare host has the key.
  `127.0.0.1 ${HOST}`,
  `127.0.0.1 ${OTHER}`,
  `# ${name} ${OTHER}`,
];

/** A deterministic choice of entries, spread over two user files and a global one. */
function scenario(seed: number, entries: string[]): string[][] {
  let x = seed * 2654435761;
  const next = () => ((x = (x * 1103515245 + 12345) >>> 0) % 1000) / 1000;
  const files: string[][] = [[], [], []];
  for (const e of entries) if (next() < 0.18) files[Math.floor(next() * 3)]!.push(e);
  return files;
}

type Verdict = "accept" | "learn" | "refuse";

function openssh(files: string[], alias?: string): Verdict {
  const before = readFileSync(files[0]!, "utf8");
  const r = spawnSync("ssh", ["-F", "/dev/null", "-p", String(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new", "-o", `UserKnownHostsFile=${files[0]} ${files[1]}`, "-o", `GlobalKnownHostsFile=${files[2]}`, "-o", "PreferredAuthentications=none", "-o", "HashKnownHosts=no", "-o", "UpdateHostKeys=no", ...(alias ? ["-o", `HostKeyAlias=${alias}`] : []), "root@127.0.0.1", "true"], { encoding: "utf8", timeout: 10_000 });
  if (/Host key verification failed/.test(r.stderr)) return "refuse";
  expect(r.stderr).toMatch(/Permission denied/);
  return readFileSync(files[0]!, "utf8") !== before ? "learn" : "accept";
}

function pgha(files: string[], alias?: string): Verdict {
  const { user, global } = knownHostsFiles(sshOptions(`-o 'UserKnownHostsFile=${files[0]} ${files[1]}' -o GlobalKnownHostsFile=${files[2]}`));
  const known = [...user, ...global].flatMap((f) => (existsSync(f) ? parseKnownHosts(readFileSync(f, "utf8")) : []));
  const v = alias ? verifyHostKey(known, alias, 22, presented, "accept-new") : verifyHostKey(known, "127.0.0.1", port, presented, "accept-new");
  return !v.ok ? "refuse" : v.learned ? "learn" : "accept";
}

describe("--host-key accept-new matches OpenSSH", () => {
  it("gives OpenSSH's own verdict on 80 generated known_hosts sets", () => {
    const results: { case: string; openssh: Verdict; pgha: Verdict }[] = [];
    for (let seed = 1; seed <= 80; seed++) {
      const alias = seed % 2 ? "pg1.lab" : undefined;
      const files = scenario(seed, pool(alias ?? `[127.0.0.1]:${port}`)).map((lines, i) => {
        const f = join(dir, `kh-${seed}-${i}`);
        writeFileSync(f, lines.map((l) => `${l}\n`).join(""));
        return f;
      });
      const theirs = openssh(files, alias);
      // ssh may have added a line: pgha decides on the files as they were.
      const ours = pgha(files.map((f, i) => (i === 0 ? (writeFileSync(`${f}.orig`, scenario(seed, pool(alias ?? `[127.0.0.1]:${port}`))[0]!.map((l) => `${l}\n`).join("")), `${f}.orig`) : f)), alias);
      results.push({ case: `${seed}: ${files.map((f) => readFileSync(f, "utf8").trim().split("\n").filter(Boolean).length).join("+")} entries`, openssh: theirs, pgha: ours });
    }
    expect(results.filter((r) => r.openssh !== r.pgha)).toEqual([]);
    // The sets reach every verdict.
    expect(new Set(results.map((r) => r.openssh))).toEqual(new Set(["accept", "learn", "refuse"]));
  }, 120_000);
});

describe("known_hosts decisions, case by case", () => {
  const key = (s: string) => parseKnownHosts(s);
  const b64 = presented.toString("base64");
  const other = OTHER.split(" ")[1]!;

  it("a wildcard or a negation decides whether a line is about the host", () => {
    expect(verifyHostKey(key(`pg*.lab ssh-ed25519 ${b64}\n`), "pg1.lab", 22, presented, "strict")).toEqual({ ok: true });
    expect(verifyHostKey(key(`pg*.lab ssh-ed25519 ${other}\n`), "pg1.lab", 22, presented, "accept-new")).toMatchObject({ ok: false, reason: expect.stringMatching(/CHANGED/) });
    expect(verifyHostKey(key(`pg*.lab,!pg1.lab ssh-ed25519 ${other}\n`), "pg1.lab", 22, presented, "accept-new")).toMatchObject({ ok: true, learned: `pg1.lab ssh-ed25519 ${b64}\n` });
  });

  it("refuses a @revoked key even where the same key is recorded, and a key of another type where one is recorded", () => {
    expect(verifyHostKey(key(`pg1.lab ssh-ed25519 ${b64}\n@revoked * ssh-ed25519 ${b64}\n`), "pg1.lab", 22, presented, "accept-new")).toMatchObject({ ok: false, reason: expect.stringMatching(/@revoked/) });
    expect(verifyHostKey(key(`pg1.lab ${ECDSA}\n`), "pg1.lab", 22, presented, "accept-new")).toMatchObject({ ok: false, reason: expect.stringMatching(/CHANGED \(presented ssh-ed25519, known_hosts has ecdsa-sha2-nistp256\)/) });
  });

  it("knows a new [host]:port by the bare host's key, as ssh does, but never past a revoked or changed key", () => {
    expect(verifyHostKey(key(`pg1.lab ssh-ed25519 ${b64}\n`), "pg1.lab", 2222, presented, "strict")).toEqual({ ok: true });
    expect(verifyHostKey(key(`pg1.lab ssh-ed25519 ${other}\n`), "pg1.lab", 2222, presented, "accept-new")).toEqual({ ok: true, learned: `[pg1.lab]:2222 ssh-ed25519 ${b64}\n` });
    expect(verifyHostKey(key(`pg1.lab ssh-ed25519 ${b64}\n@revoked [pg1.lab]:2222 ssh-ed25519 ${b64}\n`), "pg1.lab", 2222, presented, "accept-new").ok).toBe(false);
  });

  it("reads every user and global file, with ~, %d and %u, several in one option, and none", () => {
    const o = sshOptions(`-o 'UserKnownHostsFile=~/a "%d/b c" /x/%u' -o GlobalKnownHostsFile=none -o StrictHostKeyChecking=accept-new`);
    expect(knownHostsFiles(o, undefined, "/home/op", "op")).toEqual({ user: ["/home/op/a", "/home/op/b c", "/x/op"], global: [] });
    expect(knownHostsFiles({}, undefined, "/home/op", "op")).toEqual({ user: ["/home/op/.ssh/known_hosts", "/home/op/.ssh/known_hosts2"], global: ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"] });
    expect(knownHostsFiles(o, "/given", "/home/op", "op").user).toEqual(["/given"]);
  });

  it("quotes ansible_become_user in the sudo command line", () => {
    expect(remoteCommand({ user: "admin", become: true, becomeUser: "root; touch /tmp/x" }, "id")).toBe(`sudo -k -n -u 'root; touch /tmp/x' -- sh -c 'id'`);
    expect(remoteCommand({ user: "root", become: true }, "id")).toBe("id");
  });
});
