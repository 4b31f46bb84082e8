// become through Debian's real sudo, on this machine: two throwaway users, one whose sudoers rule wants a password
// and one with NOPASSWD, exist only in a private mount namespace (their own /etc/passwd, /etc/shadow,
// /etc/sudoers.d and /run bind-mounted there), so the machine's accounts and sudoers are never touched. Each
// command line is the one transport sends over SSH, run as that user. Needs root, sudo, unshare and setpriv
// (CI installs sudo with test/lab/install-deps.sh); without them these tests skip, saying why.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remoteCommand, remoteStdin, sudoMode, type ExecResult, type SudoAuth } from "../../src/transport.js";

const PASSWORD = "sudo-Pw 'x\"$(id)";
const USERS = { asks: { name: "pghaasks", uid: 64101 }, free: { name: "pghafree", uid: 64102 }, none: { name: "pghanone", uid: 64103 } };
const missing = ["sudo", "unshare", "setpriv", "openssl"].filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
const why = process.getuid?.() !== 0 ? "needs root (private mounts, setpriv)" : missing.length ? `needs ${missing.join(", ")}` : undefined;

let dir: string;

/** Runs a command line as `uid` with the test's accounts and sudoers, its stdin given whole, as SSH gives it. */
function asUser(uid: number, command: string, stdin?: string): Promise<ExecResult> {
  const setup = ["passwd", "shadow", "sudoers.d"].map((f) => `mount --bind ${dir}/${f} /etc/${f} && `).join("") + "mount -t tmpfs -o mode=755 tmpfs /run && cd / && ";
  const child = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", `${setup}exec setpriv --reuid="$1" --regid=100 --clear-groups -- sh -c "$2"`, "sh", String(uid), command]);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin ?? "");
  return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

/** What Connection.exec does once connected: the probe's answer, then each command framed by it. */
async function connected(user: { name: string; uid: number }, password?: string, becomeUser?: string) {
  const c = { user: user.name, become: true, becomeUser };
  const run = (command: string, stdin?: string) => asUser(user.uid, command, stdin);
  const auth: SudoAuth = await sudoMode("h1", c, password, run);
  return { auth, exec: (command: string, stdin?: string) => run(remoteCommand(c, command, auth), remoteStdin(auth, password, stdin)) };
}

describe.skipIf(why !== undefined)(`become with the real sudo${why ? ` (skipped: ${why})` : ""}`, () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "pgha-sudo-"));
    const hash = spawnSync("openssl", ["passwd", "-6", "-stdin"], { input: `${PASSWORD}\n`, encoding: "utf8" }).stdout.trim();
    const today = Math.floor(Date.now() / 86_400_000);
    const users = Object.values(USERS);
    copyFileSync("/etc/passwd", join(dir, "passwd"));
    writeFileSync(join(dir, "passwd"), users.map((u) => `${u.name}:x:${u.uid}:100::/nonexistent:/bin/sh\n`).join(""), { flag: "a" });
    copyFileSync("/etc/shadow", join(dir, "shadow"));
    writeFileSync(join(dir, "shadow"), users.map((u) => `${u.name}:${hash}:${today}:0:99999:7:::\n`).join(""), { flag: "a" });
    chmodSync(join(dir, "shadow"), 0o640);
    mkdirSync(join(dir, "sudoers.d"), { mode: 0o755 });
    writeFileSync(join(dir, "sudoers.d", "pgha-test"), `${USERS.asks.name} ALL=(ALL:ALL) ALL\n${USERS.free.name} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    expect(spawnSync("visudo", ["-c", "-f", join(dir, "sudoers.d", "pgha-test")]).status).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a NOPASSWD rule: sudo -n, the command's stdin reaches it whole", async () => {
    const h = await connected(USERS.free, PASSWORD);
    expect(h.auth).toBe("nopasswd");
    expect(await h.exec("id -u; cat", "line 1\nline 2\n")).toEqual({ code: 0, stdout: "0\nline 1\nline 2\n", stderr: "" });
  });

  it("a rule that wants the password: sudo reads its line, the script after it runs as root, byte for byte", async () => {
    const h = await connected(USERS.asks, PASSWORD);
    expect(h.auth).toBe("password");
    // a script on stdin, as gather (`sh -s`) and the psql tasks send theirs; a here-doc inside it keeps its lines
    const script = "id -u\ncat <<'END'\nfirst\n\n  indented $HOME\nEND\nprintf 'no final newline'";
    const r = await h.exec("sh -s", script);
    expect(r).toEqual({ code: 0, stdout: "0\nfirst\n\n  indented $HOME\nno final newline", stderr: "" });
    // text that is not ASCII, with a carriage return (sudo ends the password's line at \r too: only the first one)
    const text = "mot de passe: é ü 日本\r\nend";
    expect((await h.exec("cat", text)).stdout).toBe(text);
    // no stdin at all: the password line alone, and the command sees EOF
    expect(await h.exec("id -un; cat")).toEqual({ code: 0, stdout: "root\n", stderr: "" });
  });

  it("ansible_become_user: the command runs as that user, after the login user's password", async () => {
    const h = await connected(USERS.asks, PASSWORD, "nobody");
    expect((await h.exec("id -un")).stdout).toBe("nobody\n");
  });

  it("without a password, a rule that wants one fails at connect and says how to give it", async () => {
    await expect(connected(USERS.asks)).rejects.toThrow(/^h1: become: sudo as pghaasks needs a password \(sudo: a password is required\); give one with ansible_become_password/);
  });

  it("a wrong password fails at connect, at once, without showing it", async () => {
    const wrong = "Wrong-pw-7f3a";
    const t0 = Date.now();
    const e = (await connected(USERS.asks, wrong).catch((x: Error) => x)) as Error;
    expect(e.message).toMatch(/^h1: become: sudo as pghaasks refused with the become password \(Sorry, try again\.; sudo: no password was provided; sudo: 1 incorrect password attempt\)$/);
    expect(e.message).not.toContain(wrong);
    expect(Date.now() - t0).toBeLessThan(10_000); // PAM's delay after a failure, not sudo's three tries
  });

  it("a user sudoers does not know: the refusal says so", async () => {
    await expect(connected(USERS.none, PASSWORD)).rejects.toThrow(/refused with the become password \(.*pghanone is not in the sudoers file/);
  });

  it("the password is on no command line: only stdin carries it", async () => {
    const h = await connected(USERS.asks, PASSWORD);
    const seen = await h.exec("cat /proc/$PPID/cmdline | tr '\\0' ' '; echo; ps -eo args");
    expect(seen.code).toBe(0);
    expect(seen.stdout).toContain("sudo -k -S -p");
    expect(seen.stdout).not.toContain("sudo-Pw");
  });
});
