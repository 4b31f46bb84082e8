// lab.sh poweroff / boot: a host that loses power vanishes from the network without a word (no FIN, no RST),
// keeps what it wrote to disk, loses what it held in memory, and comes back with only sshd running.
import { randomBytes } from "node:crypto";
import { Socket } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { connect, hostAddr, labSh, sh } from "./lab-helpers.js";

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
});
