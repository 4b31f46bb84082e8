// The lab is real: hosts reachable over SSH by address, isolated from each other,
// able to form corosync/Pacemaker clusters with hand-written configuration, and
// gone without a trace after `lab down`. (The global setup brought up pg1..pg3.)
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { NodeSSH } from "node-ssh";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LAB_DIR,
  LAB_INVENTORY,
  LAB_KEY,
  LAB_KNOWN_HOSTS,
  connect,
  hostAddr,
  labSh,
  local,
  readKnownHosts,
  run,
  sh,
  waitFor,
} from "./lab-helpers.js";

const HOSTS = ["pg1", "pg2", "pg3"] as const;
type Host = (typeof HOSTS)[number];

let ssh: Record<Host, NodeSSH>;

async function connectAll(): Promise<void> {
  const conns = await Promise.all(HOSTS.map((h) => connect(hostAddr(h))));
  ssh = { pg1: conns[0]!, pg2: conns[1]!, pg3: conns[2]! };
}
function disconnectAll(): void {
  if (ssh) for (const h of HOSTS) ssh[h].dispose();
}

// Other test files reshape the lab (2 nodes, clusters built), so start from a fresh 3-node lab.
beforeAll(async () => {
  labSh(["up", "--nodes", "3"]);
  await connectAll();
});
afterAll(disconnectAll);

describe("hosts", () => {
  it("answer SSH on both of their addresses, with the lab key, as the node they are", async () => {
    for (const h of HOSTS) {
      for (const link of [1, 2] as const) {
        const c = await connect(hostAddr(h, link));
        try {
          expect((await sh(c, "hostname")).trim()).toBe(h);
          expect((await sh(c, "uname -n")).trim()).toBe(h);
          expect((await sh(c, "id -un")).trim()).toBe("root");
        } finally {
          c.dispose();
        }
      }
    }
  });

  it("are refused when the host key does not match known_hosts (verification is real)", async () => {
    // pg2's address, but expecting pg1's key: the connection must not be made.
    await expect(connect(hostAddr("pg2"), { expectKeyOf: hostAddr("pg1") })).rejects.toThrow();
    const keys = readKnownHosts();
    expect(new Set(HOSTS.map((h) => keys.get(hostAddr(h))!.toString("base64"))).size).toBe(3);
    // Both addresses of a host carry the same key.
    for (const h of HOSTS) expect(keys.get(hostAddr(h, 2))!.equals(keys.get(hostAddr(h))!)).toBe(true);
  });

  it("are listed in the inventory, in Ansible's YAML format", () => {
    expect(readFileSync(LAB_INVENTORY, "utf8")).toBe(
      [
        "all:",
        "  children:",
        "    pgsql:",
        "      hosts:",
        "        pg1: { ansible_host: 10.117.1.11 }",
        "        pg2: { ansible_host: 10.117.1.12 }",
        "        pg3: { ansible_host: 10.117.1.13 }",
        "  vars:",
        "    ansible_user: root",
        `    ansible_ssh_private_key_file: ${LAB_KEY}`,
        `    ansible_ssh_common_args: "-o UserKnownHostsFile=${LAB_KNOWN_HOSTS}"`,
        "",
      ].join("\n"),
    );
  });

  it("have eth1 and eth2 on the lab's two /24s, no default route, and reach each other and 10.117.1.1", async () => {
    for (const [i, h] of HOSTS.entries()) {
      const addrs = await sh(ssh[h], "ip -o -4 addr show | awk '{print $2, $4}'");
      expect(addrs.split("\n").sort()).toEqual(["eth1 " + hostAddr(h) + "/24", "eth2 " + hostAddr(h, 2) + "/24", "lo 127.0.0.1/8"]);
      expect((await sh(ssh[h], "ip -4 route show default")).trim()).toBe("");
      for (const gw of ["10.117.1.1", "10.117.1.2"]) await sh(ssh[h], `ping -c1 -W2 ${gw}`); // ocf:pacemaker:ping's targets
      const peer = HOSTS[(i + 1) % HOSTS.length]!;
      await sh(ssh[h], `ping -c1 -W2 ${hostAddr(peer, 2)}`);
      expect((await sh(ssh[h], `getent hosts ${peer}`)).trim().split(/\s+/)).toEqual([hostAddr(peer), peer]);
    }
  });

  it("each see only their own files", async () => {
    // A cluster file, and pgha's own state on the host (its stamps must never leak between hosts).
    for (const dir of ["/etc/corosync", "/var/lib/pgha"]) {
      const probe = `${dir}/lab-probe-${randomBytes(4).toString("hex")}`;
      await sh(ssh.pg1, `echo pg1 > ${probe}`);
      try {
        expect((await sh(ssh.pg1, `cat ${probe}`)).trim()).toBe("pg1");
        expect((await run(ssh.pg2, `test -e ${probe}`)).code).toBe(1);
        expect((await run(ssh.pg3, `test -e ${probe}`)).code).toBe(1);
        expect(existsSync(probe)).toBe(false); // nor does the machine itself
      } finally {
        await sh(ssh.pg1, `rm -f ${probe}`);
      }
    }
    for (const h of HOSTS) {
      // Fresh, private state: not the machine's Debian "main" PostgreSQL cluster.
      expect((await sh(ssh[h], "ls -A /var/lib/postgresql /etc/postgresql /var/lib/pacemaker/cib")).trim()).toBe(
        "/etc/postgresql:\n\n/var/lib/pacemaker/cib:\n\n/var/lib/postgresql:",
      );
      // libqb needs sticky world-writable /dev/shm and /tmp; Debian's owners and modes elsewhere.
      expect((await sh(ssh[h], "stat -c '%n %a %U:%G' /dev/shm /tmp /run/postgresql /var/lib/pacemaker/cib /var/lib/postgresql")).trim().split("\n")).toEqual([
        "/dev/shm 1777 root:root",
        "/tmp 1777 root:root",
        "/run/postgresql 2775 postgres:postgres",
        "/var/lib/pacemaker/cib 750 hacluster:haclient",
        "/var/lib/postgresql 755 postgres:postgres",
      ]);
    }
    // /dev/shm (libqb's ring buffers) is each host's own tmpfs.
    const shm = `/dev/shm/lab-probe-${randomBytes(4).toString("hex")}`;
    await sh(ssh.pg1, `touch ${shm}`);
    try {
      expect((await run(ssh.pg2, `test -e ${shm}`)).code).toBe(1);
      expect(existsSync(shm)).toBe(false);
    } finally {
      await sh(ssh.pg1, `rm -f ${shm}`);
    }
  });

  it("each see only their own processes", async () => {
    // A recognizable process on pg1 only (detached, so it outlives this SSH command).
    const marker = `sleep 7${randomBytes(2).readUInt16BE()}`;
    const pid = (await sh(ssh.pg1, `setsid ${marker} </dev/null >/dev/null 2>&1 & echo $!`)).trim();
    try {
      const psOf = async (h: Host) => (await sh(ssh[h], "ps -eo pid=,args=")).trim().split("\n").map((l) => l.trim());
      expect(await psOf("pg1")).toContain(`${pid} ${marker}`);
      for (const h of HOSTS) {
        const procs = await psOf(h);
        if (h !== "pg1") expect(procs.some((l) => l.endsWith(marker))).toBe(false);
        // PID 1 is the host's own init, and there is little else: sshd, this session.
        expect(procs[0]).toBe(`1 /bin/bash ${LAB_DIR}/bin/host-init.sh ${h}`);
        expect(procs.length).toBeLessThan(12);
        expect(procs.join("\n")).not.toMatch(/process_api|vitest|node /);
      }
    } finally {
      await run(ssh.pg1, `kill ${pid}`);
    }
  });

  it("have a systemctl stand-in first in root's PATH over SSH", async () => {
    for (const h of HOSTS) {
      expect((await sh(ssh[h], "command -v systemctl")).trim()).toBe("/usr/local/sbin/systemctl");
      expect((await sh(ssh[h], "echo $PATH")).trim().split(":")[0]).toBe("/usr/local/sbin");
    }
    const c = ssh.pg1;
    expect(await run(c, "systemctl is-active corosync pacemaker")).toMatchObject({ code: 3, stdout: "inactive\ninactive" });
    expect(await run(c, "systemctl is-active ssh")).toMatchObject({ code: 0, stdout: "active" });
    const unknown = await run(c, "systemctl start nosuch.service");
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain("Unit nosuch.service not found");
    await sh(c, "systemctl enable pacemaker");
    try {
      expect(await run(c, "systemctl is-enabled pacemaker")).toMatchObject({ code: 0, stdout: "enabled" });
      expect(await run(ssh.pg2, "systemctl is-enabled pacemaker")).toMatchObject({ code: 1, stdout: "disabled" });
    } finally {
      await sh(c, "systemctl disable pacemaker");
    }
  });

  it("share one ext4 loop device, mounted by one host at a time", async () => {
    for (const h of HOSTS) {
      await sh(ssh[h], "test -b /dev/pgha-shared && command -v modprobe");
      expect((await sh(ssh[h], "blkid -o value -s TYPE /dev/pgha-shared")).trim()).toBe("ext4");
    }
    const token = randomBytes(8).toString("hex");
    await sh(ssh.pg1, `mount /dev/pgha-shared /mnt && echo ${token} > /mnt/lab-probe && sync`);
    try {
      // The mount itself is pg1's alone.
      expect((await run(ssh.pg2, "findmnt -n /mnt")).code).toBe(1);
    } finally {
      await sh(ssh.pg1, "umount /mnt");
    }
    await sh(ssh.pg2, "mount /dev/pgha-shared /mnt");
    try {
      expect((await sh(ssh.pg2, "cat /mnt/lab-probe")).trim()).toBe(token);
      await sh(ssh.pg2, "rm /mnt/lab-probe");
    } finally {
      await sh(ssh.pg2, "umount /mnt");
    }
  });

  it("are reported by lab status", () => {
    const out = labSh(["status"]).stdout;
    for (const h of HOSTS) {
      expect(out).toMatch(new RegExp(`^${h} +init \\d+ +${hostAddr(h).replace(/\./g, "\\.")} +sshd up +corosync inactive +pacemaker inactive$`, "m"));
    }
  });
});

// ---------------------------------------------------------------- clusters

/** A hand-written corosync.conf: knet, two links (eth1, eth2), votequorum. */
function corosyncConf(nodes: readonly Host[], twoNode: boolean): string {
  const nodeBlocks = nodes
    .map(
      (h, i) => `  node {
    name: ${h}
    nodeid: ${i + 1}
    ring0_addr: ${hostAddr(h, 1)}
    ring1_addr: ${hostAddr(h, 2)}
  }`,
    )
    .join("\n");
  return `# hand-written by test/e2e/lab.test.ts
totem {
  version: 2
  cluster_name: lab${nodes.length}
  transport: knet
  crypto_cipher: aes256
  crypto_hash: sha256
  link_mode: passive
}

nodelist {
${nodeBlocks}
}

quorum {
  provider: corosync_votequorum
${twoNode ? "  two_node: 1\n" : ""}}

logging {
  to_logfile: yes
  logfile: /var/log/corosync/corosync.log
  to_syslog: no
  to_stderr: no
  timestamp: on
}
`;
}

/** Write corosync.conf and a shared authkey on NODES, with no earlier cluster state. */
async function configureCluster(nodes: readonly Host[], twoNode: boolean): Promise<void> {
  const conf = corosyncConf(nodes, twoNode);
  const authkey = randomBytes(256).toString("base64");
  await Promise.all(
    nodes.map(async (h) => {
      expect(await run(ssh[h], "systemctl is-active pacemaker corosync")).toMatchObject({ code: 3 });
      await sh(ssh[h], "rm -f /var/lib/pacemaker/cib/* /var/lib/corosync/*");
      await sh(ssh[h], "cat > /etc/corosync/corosync.conf", conf);
      await sh(ssh[h], "umask 077 && base64 -d > /etc/corosync/authkey", authkey);
    }),
  );
}

async function startCluster(nodes: readonly Host[]): Promise<void> {
  const results = await Promise.all(nodes.map((h) => run(ssh[h], "systemctl start pacemaker")));
  results.forEach((r, i) => expect(r, `systemctl start pacemaker on ${nodes[i]}: ${r.stderr}`).toMatchObject({ code: 0 }));
}

/** Stop NODES; afterwards neither corosync nor any Pacemaker daemon may be left. */
async function stopCluster(nodes: readonly Host[]): Promise<void> {
  const results = await Promise.all(nodes.map((h) => run(ssh[h], "systemctl stop pacemaker")));
  results.forEach((r, i) => expect(r, `systemctl stop pacemaker on ${nodes[i]}: ${r.stderr}`).toMatchObject({ code: 0 }));
  for (const h of nodes) {
    expect(await run(ssh[h], "systemctl is-active pacemaker corosync")).toMatchObject({ code: 3, stdout: "inactive\ninactive" });
    expect((await run(ssh[h], "pgrep -l 'corosync|pacemaker'")).stdout).toBe("");
  }
}

interface QuorumState {
  quorate: boolean;
  expectedVotes: number;
  totalVotes: number;
  flags: string;
  members: string[];
}
async function quorumState(h: Host): Promise<QuorumState> {
  const out = (await run(ssh[h], "corosync-quorumtool -s")).stdout;
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(out)?.[1]?.trim() ?? "";
  const members = [...out.matchAll(/^\s+\d+\s+\d+\s+(pg\d)/gm)].map((m) => m[1]!).sort();
  return {
    quorate: field("Quorate") === "Yes",
    expectedVotes: Number(field("Expected votes")),
    totalVotes: Number(field("Total votes")),
    flags: field("Flags"),
    members,
  };
}

/** Pacemaker's view from H: DC elected with quorum, and exactly ONLINE online. */
async function pacemakerFormed(h: Host, online: readonly Host[]): Promise<boolean> {
  const xml = (await run(ssh[h], "crm_mon -1 --output-as=xml")).stdout;
  if (!/<current_dc present="true"[^>]*with_quorum="true"/.test(xml)) return false;
  const up = [...xml.matchAll(/<node name="(pg\d)"[^>]*online="true"/g)].map((m) => m[1]!).sort();
  return up.join(",") === [...online].sort().join(",");
}

async function waitFormed(nodes: readonly Host[]): Promise<void> {
  // Pacemaker elects its DC after dc-deadtime (20 s) when all nodes start together.
  for (const h of nodes) await waitFor(`${h} to see ${nodes.join(",")} online with a DC and quorum`, () => pacemakerFormed(h, nodes));
}

describe("a 2-node cluster (pg1, pg2; two_node, two knet links)", () => {
  const nodes = ["pg1", "pg2"] as const;
  beforeAll(async () => {
    await configureCluster(nodes, true);
    await startCluster(nodes);
  });
  afterAll(() => stopCluster(nodes));

  it("forms with quorum over both links", async () => {
    await waitFormed(nodes);
    for (const h of nodes) {
      const q = await quorumState(h);
      expect(q).toMatchObject({ quorate: true, expectedVotes: 2, totalVotes: 2, members: ["pg1", "pg2"] });
      expect(q.flags).toContain("2Node");
      // Both heartbeat links (eth1 and eth2) up to the peer.
      const links = await sh(ssh[h], "corosync-cfgtool -s");
      const peer = h === "pg1" ? 2 : 1;
      expect(links).toMatch(/LINK ID 0 udp\s+addr\s+= 10\.117\.1\.\d+/);
      expect(links).toMatch(/LINK ID 1 udp\s+addr\s+= 10\.117\.2\.\d+/);
      expect([...links.matchAll(new RegExp(`nodeid:\\s+${peer}:\\s+connected`, "g"))]).toHaveLength(2);
    }
    // pg3 is not part of it.
    expect(await run(ssh.pg3, "systemctl is-active corosync")).toMatchObject({ code: 3 });
  });
});

describe("a 3-node cluster (pg1..pg3)", () => {
  beforeAll(async () => {
    await configureCluster(HOSTS, false);
    await startCluster(HOSTS);
  });
  afterAll(() => stopCluster(HOSTS));

  it("forms with quorum, and keeps it when one node leaves", async () => {
    await waitFormed(HOSTS);
    for (const h of HOSTS) {
      const q = await quorumState(h);
      expect(q).toMatchObject({ quorate: true, expectedVotes: 3, totalVotes: 3, members: ["pg1", "pg2", "pg3"] });
      expect(q.flags).not.toContain("2Node");
    }
    await sh(ssh.pg3, "systemctl stop pacemaker");
    const q = await waitFor("pg1 to see pg3 leave", async () => {
      const s = await quorumState("pg1");
      return s.totalVotes === 2 && s;
    });
    expect(q).toMatchObject({ quorate: true, expectedVotes: 3, members: ["pg1", "pg2"] });
    await sh(ssh.pg3, "systemctl start pacemaker");
    await waitFormed(HOSTS);
  });

  it("has the crm_attribute '-v -INFINITY' defect, and the lab's ocf-shellfuncs works around it", async () => {
    const c = ssh.pg1;
    const featureSet = /v(\d+\.\d+\.\d+)/.exec(await sh(c, "pacemakerd --features"))?.[1];
    expect(featureSet).toBeTruthy();
    const env = `OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=labprobe OCF_RESKEY_crm_feature_set=${featureSet}`;
    const score = (funcs: string, args: string) => run(c, `env ${env} /bin/sh -c '. ${funcs}; ocf_promotion_score ${args}'`);

    // The defect (Pacemaker 2.1.5 on Debian 12): "-INFINITY" is parsed as options.
    // If this starts to pass, the distribution fixed it: drop the lab's workaround.
    const raw = await run(c, `env ${env} crm_attribute -p -v -INFINITY`);
    expect(raw.code, raw.stderr).toBe(105);
    expect((await run(c, `env ${env} crm_attribute -p --update=-INFINITY`)).code).toBe(0);
    // The packaged ocf-shellfuncs (copied from the machine) fails the way the pgsql agent's start does...
    await sh(c, "cat > /tmp/ocf-shellfuncs.packaged", readFileSync("/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs", "utf8"));
    expect((await score("/tmp/ocf-shellfuncs.packaged", "-v -INFINITY")).code).toBe(105);

    // ...while the host's (bind-mounted, read-only, corrected) copy works, with the same meaning.
    const host = "/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs";
    expect((await run(c, `touch ${host}`)).code).not.toBe(0);
    expect(await score(host, "-v -INFINITY")).toMatchObject({ code: 0 });
    expect((await sh(c, `env ${env} crm_attribute -p -G -q`)).trim()).toBe("-INFINITY");
    expect(await score(host, "-v 100")).toMatchObject({ code: 0 });
    expect((await score(host, "-G -q")).stdout.trim()).toBe("100");
    expect(await score(host, "-D")).toMatchObject({ code: 0 });
    expect((await run(c, `env ${env} crm_attribute -p -G -q`)).code).not.toBe(0);
    // The machine's own file is untouched.
    expect(readFileSync(host, "utf8")).not.toContain("pgha");
  });
});

// ---------------------------------------------------------------- lifecycle (last)

describe("lab lifecycle", () => {
  it("refuses to start without root, and says why", () => {
    const r = labSh(["up", "--nodes", "2"], { asUser: "nobody", allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/must run as root/);
    expect(local("ip netns list").stdout).toMatch(/^pg1\b/m); // the running lab is untouched
  });

  it("`up` cleans up after a killed run", () => {
    disconnectAll();
    // Kill pg2 the hard way (its unshare and init, by pid): its directories, network
    // namespace and veths stay behind, as after a crash.
    const init = readFileSync(`${LAB_DIR}/hosts/pg2/init.pid`, "utf8").trim();
    const parent = readFileSync(`/proc/${init}/stat`, "utf8").split(" ")[3]!;
    expect(local(`kill -KILL ${parent} ${init}`).code).toBe(0);
    expect(labSh(["status"]).stdout).toMatch(/^pg2 +not running/m);

    labSh(["up", "--nodes", "3"]);
    expect(readFileSync(`${LAB_DIR}/hosts/pg2/init.pid`, "utf8").trim()).not.toBe(init);
    const status = labSh(["status"]).stdout;
    for (const h of HOSTS) expect(status).toMatch(new RegExp(`^${h} +init \\d+ .*sshd up`, "m"));
  });

  it("`down` leaves no namespace, bridge, process, mount or loop device behind", async () => {
    // A process is its pid plus its start time: pids are reused quickly (pid_max 32768).
    // A zombie has ended: it only waits for its parent to collect it. (The hosts'
    // unshare processes outlive `lab up` and so are the machine PID 1's to reap;
    // a PID 1 that does not reap orphans, as in some sandboxes, leaves them as zombies.)
    const startOf = (pid: string) => {
      try {
        const [state, , , , , , , , , , , , , , , , , , , start] = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
        return state === "Z" ? undefined : start;
      } catch {
        return undefined;
      }
    };
    const procs = HOSTS.flatMap((h) => local(`ip netns pids ${h}`).stdout.split(/\s+/).filter(Boolean)).map((pid) => ({
      pid,
      start: startOf(pid),
    }));
    expect(procs.length).toBeGreaterThanOrEqual(3 * 3); // unshare, init, sshd per host at least
    const loop = local("readlink /dev/pgha-shared").stdout.trim();
    expect(loop).toMatch(/^\/dev\/loop\d+$/);

    labSh(["down"]);

    expect(local("ip netns list").stdout).not.toMatch(/^pg\d\b/m);
    for (const h of HOSTS) expect(existsSync(`/run/netns/${h}`)).toBe(false);
    expect(local("ip -o link show").stdout).not.toMatch(/pghabr|pg\d-l\d/);
    expect(procs.filter((p) => p.start !== undefined && startOf(p.pid) === p.start)).toEqual([]);
    expect(local("ps -eo args=").stdout).not.toMatch(/host-init\.sh|pgha-lab/);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain("pgha-lab");
    expect(local(`losetup -j ${LAB_DIR}/shared.img`).stdout.trim()).toBe("");
    expect(existsSync("/dev/pgha-shared")).toBe(false);
    expect(existsSync(`${LAB_DIR}/hosts`)).toBe(false);
    expect(existsSync(LAB_KEY)).toBe(true); // kept for the next `up`

    // Leave a lab for any test file that runs after this one (the teardown takes it down).
    labSh(["up", "--nodes", "3"]);
    await connectAll();
  });
});
