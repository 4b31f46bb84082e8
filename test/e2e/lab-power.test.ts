// lab.sh poweroff / boot: a host that loses power vanishes from the network without a word (no FIN, no RST),
// keeps what it wrote to disk, loses what it held in memory, and comes back with only sshd running.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Socket } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { connect, hostAddr, LAB_DIR, LAB_SH, labSh, local, sh, waitFor, type ShResult } from "./lab-helpers.js";

/** Whether a TCP connection to ADDR:22 (already open) hears anything, a close included, within ms. */
function openConnection(address: string): Promise<{ events: string[]; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const events: string[] = [];
    const socket = new Socket();
    socket.once("error", reject);
    socket.connect(22, address, () => {
      socket.removeListener("error", reject);
      // sshd's banner arrives first; after it, an idle connection hears nothing until one side closes.
      socket.once("data", () => {
        for (const e of ["data", "end", "close", "error"]) socket.on(e, () => events.push(e));
        resolve({ events, socket });
      });
    });
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const initPid = (h: string) => readFileSync(`${LAB_DIR}/hosts/${h}/init.pid`, "utf8").trim();
/** Whether PID is still a lab host's init (a killed one is gone, or a zombie with no command line). */
const isInit = (pid: string) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("host-init.sh");
  } catch {
    return false;
  }
};
/** `lab.sh ARGS` in the background. */
function labShAsync(args: string[]): Promise<ShResult> {
  return new Promise((resolve) => {
    const child = spawn("bash", [LAB_SH, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
/** pg2 is up: its new init runs, and sshd answers with its own key. */
async function expectBooted(initBefore: string): Promise<void> {
  expect(initPid("pg2")).not.toBe(initBefore);
  const c = await connect(hostAddr("pg2"));
  try {
    expect((await sh(c, "hostname")).trim()).toBe("pg2");
  } finally {
    c.dispose();
  }
}

describe("lab.sh poweroff and boot", () => {
  const token = randomBytes(6).toString("hex");

  beforeAll(async () => {
    labSh(["up", "--nodes", "2"]);
    const c = await connect(hostAddr("pg2"));
    try {
      await sh(c, `echo ${token} > /var/lib/pgha/disk-probe && echo ${token} > /run/memory-probe && sync`);
      await sh(c, "setsid sleep 600 </dev/null >/dev/null 2>&1 &");
    } finally {
      c.dispose();
    }
  });

  it("poweroff: every process ends at once and the peers hear nothing, not even a close", async () => {
    const { events, socket } = await openConnection(hostAddr("pg2"));
    try {
      labSh(["poweroff", "pg2"]);
      await sleep(2000);
      expect(events).toEqual([]); // a killed sshd's socket would have sent FIN or RST
    } finally {
      socket.destroy();
    }
    expect(labSh(["exec", "pg2", "true"], { allowFail: true }).stderr).toMatch(/host pg2 is not running/);
    await expect(connect(hostAddr("pg2"))).rejects.toThrow();
    // pg1 is untouched.
    const c = await connect(hostAddr("pg1"));
    try {
      expect((await sh(c, "hostname")).trim()).toBe("pg1");
    } finally {
      c.dispose();
    }
    expect(labSh(["poweroff", "pg2"], { allowFail: true }).code).not.toBe(0); // already off
  });

  it("boot: the same host (same key), its disk kept, its memory gone, only sshd running", async () => {
    labSh(["boot", "pg2"]);
    const c = await connect(hostAddr("pg2")); // the host key is checked against known_hosts
    try {
      expect((await sh(c, "cat /var/lib/pgha/disk-probe")).trim()).toBe(token);
      expect((await sh(c, "test -e /run/memory-probe || echo gone")).trim()).toBe("gone");
      expect((await sh(c, "stat -c '%n %a %U' /run/postgresql /run/lock")).trim()).toBe("/run/postgresql 2775 postgres\n/run/lock 1777 root");
      const procs = (await sh(c, "ps -eo comm=")).trim().split("\n");
      expect(procs).not.toContain("corosync");
      expect(procs.some((p) => p.startsWith("pacemaker"))).toBe(false);
      expect(procs.filter((p) => p === "sleep")).toHaveLength(1); // the init's own, not the one started before
      expect((await sh(c, "systemctl is-active corosync pacemaker || true")).trim()).toBe("inactive\ninactive");
      expect((await sh(c, `ping -c1 -W2 ${hostAddr("pg1", 2)} >/dev/null && echo ok`)).trim()).toBe("ok");
    } finally {
      c.dispose();
    }
    expect(labSh(["boot", "pg2"], { allowFail: true }).stderr).toMatch(/host pg2 is running/);
  });

  // Pacemaker fences a powered-off host within seconds: the fence's reboot can come while `poweroff` still
  // ends processes and waits for the host's veths to go. It used to boot into that (the poweroff then
  // deleted the booted host's new veths, or the boot failed on "File exists"); it now waits for the
  // poweroff, finds the host off and only boots it.
  it("a fence's reboot while a poweroff is still under way waits for it, then boots the host", async () => {
    const before = initPid("pg2");
    const off = labShAsync(["poweroff", "pg2"]);
    await waitFor("pg2's init killed", async () => !isInit(before), { timeoutMs: 10_000, intervalMs: 10 });
    // The fence agent as Pacemaker runs it (it is the machine's /usr/sbin too), at once.
    const fence = spawnSync("/usr/sbin/fence_pgha_lab", ["-o", "reboot", "-n", "pg2"], { encoding: "utf8", timeout: 120_000 });
    expect(fence.status, fence.stderr).toBe(0);
    expect(fence.stdout.trim()).toBe("Success: reboot pg2");
    const o = await off;
    expect(o.code, o.stderr).toBe(0);
    await expectBooted(before);
  });

  it("boot clears what an unfinished poweroff left: an empty netns file and a host-side veth", async () => {
    const before = initPid("pg2");
    labSh(["poweroff", "pg2"]);
    const leftovers = "touch /run/netns/pg2 && ip link add pg2-l1 type veth peer name pg2-left";
    expect(local(leftovers).code).toBe(0);
    labSh(["boot", "pg2"]);
    expect(local("ip link show pg2-left").code).not.toBe(0); // the stale veth pair went, the new one is the host's
    await expectBooted(before);
  });
});
