// The Linux-HA Japan failure table (issue 20) on the 2-node pgsql sync cluster, fenced for real by the
// lab's fence device: fence_pgha_lab asks the lab's BMC daemon to power-cycle a host (lab.sh poweroff +
// boot) over the lab's state dir, not the cluster links, so a fenced host loses every process at once and
// comes back with only sshd, as a server with Pacemaker not enabled at boot. Each case makes the fault
// the way the manual does (iptables inside the host, never ifdown), checks who Pacemaker fenced and
// where the primary and the VIPs went, then pgha recover and (where the primary moved) pgha switchover
// fail back, and the cluster ends healthy, clean in diff, with pg1 the primary. One cluster for all.
// Case 9 is apply's side of it: a spec change applied while the standby is down.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { LAB_DIR, labSh } from "./lab-helpers.js";
import { builtTwoNode, clusterOn, labFenced, onHost, pgha, psqlOn, settled, until, viaVip, where, writeReadsBack } from "./pgha-helpers.js";

const EXAMPLE = "sr-pgsql-2node";
const DATA = "/var/lib/postgresql/15/pgha";
/** Fenced for real, with demote/stop timeouts short enough that a hung PostgreSQL fails its stop within
 *  the test (case 5). */
const OPS: [string, string] = ["  agent_params:\n", "  ops: { demote: { timeout: 30s }, stop: { timeout: 30s } }\n  agent_params:\n"];
const SPEC = labFenced(EXAMPLE, OPS);
const ARGS = ["-i", `inventories/${EXAMPLE}/hosts.yml`, "-s", SPEC];
/** The same with one pg_hba rule more (case 9). */
const HBA_RULE = "    - { type: host, database: all, user: all, address: 192.0.2.0/24, method: reject, comment: \"case 9\" }\n";
const HBA_ARGS = ["-i", `inventories/${EXAMPLE}/hosts.yml`, "-s", labFenced(EXAMPLE, OPS, ["  replication:\n", `${HBA_RULE}  replication:\n`])];

const initPid = (h: string) => readFileSync(`${LAB_DIR}/hosts/${h}/init.pid`, "utf8").trim();
/** A host as it is after a power cycle: a new init, and nothing running but sshd (and our own ps). */
function expectFreshlyBooted(h: string, initBefore: string): void {
  expect(initPid(h)).not.toBe(initBefore);
  const procs = new Set(onHost(h, "ps -eo comm=").trim().split("\n"));
  expect(procs).toContain("sshd");
  expect([...procs].filter((p) => !["bash", "sleep", "sshd", "sh", "ps"].includes(p)), [...procs].join(" ")).toEqual([]);
}
/** SURVIVOR's fencer says it rebooted HOST itself (its history keeps the newest success per target). */
const fencedBy = (survivor: string, h: string) => expect(onHost(survivor, `stonith_admin --history ${h}`)).toMatch(new RegExp(`reboot of ${h} successful: delegate=${survivor}`));
const postmasterStart = (h: string) => psqlOn(h, "SELECT pg_postmaster_start_time()");
const confLoaded = (h: string) => psqlOn(h, "SELECT pg_conf_load_time()");
const HBA = "/etc/postgresql/15/pgha/pg_hba.conf";
/** Whether HOST's pg_hba.conf on disk has case 9's rule. */
const hasHbaRule = (h: string) => onHost(h, `grep -c 192.0.2.0/24 ${HBA} || true`).trim() === "1";
/** iptables rules that cut traffic on the host's interfaces both ways; `what` narrows it (e.g. "-p udp"). */
const cutRules = (ifaces: string[], what = "") => ifaces.flatMap((i) => [`INPUT -i ${i} ${what} -j DROP`, `OUTPUT -o ${i} ${what} -j DROP`]);
const cut = (h: string, rules: string[]) => onHost(h, rules.map((r) => `iptables -A ${r}`).join(" && "));
const heal = (h: string, rules: string[]) => onHost(h, rules.map((r) => `iptables -D ${r}`).join(" && "));

async function promotedOn(survivor: string): Promise<void> {
  await until(`${survivor} promoted with vip-master`, () => {
    const s = clusterOn(survivor);
    return where(s, "pgsql", "Promoted").join() === survivor && where(s, "vip-master", "Started").join() === survivor && where(s, "vip-rep", "Started").join() === survivor;
  }, 180_000);
}
async function recover(h: string): Promise<string> {
  const r = await pgha(["recover", h, ...ARGS]);
  expect(r.code, r.output).toBe(0);
  return r.stdout.trim().split("\n").at(-1)!;
}
/** The end of every case: FAILED is recovered, the primary fails back to pg1 if it moved, a row written
 *  through vip-master after the failover (VALUE) is on both nodes, and diff is clean without warnings. */
async function recoverAndFailBack(failed: string, survivor: string, value: string): Promise<void> {
  expect(await recover(failed)).toMatch(new RegExp(`^${failed} recovered: .*it streams from ${survivor} \\(HS:sync\\)$`));
  await settled(survivor, failed);
  if (survivor !== "pg1") {
    const back = await pgha(["switchover", "--to", "pg1", ...ARGS]);
    expect(back.code, back.output).toBe(0);
    await settled("pg1", "pg2");
  }
  expect(onHost("pg1", "cibadmin -Q -o constraints")).not.toMatch(/cli-(ban|prefer)-/);
  for (const h of ["pg1", "pg2"]) expect(psqlOn(h, `SELECT count(*) FROM e2e WHERE v = '${value}'`)).toBe("1");
  await writeReadsBack(`${value}-after`);
  const d = await pgha(["diff", ...ARGS]);
  expect(d.code, d.output).toBe(0);
  expect(d.output).not.toMatch(/warning/i);
}

describe("the failure table, fenced for real on the lab", () => {
  beforeAll(() => builtTwoNode(ARGS));

  it("the agent answers the fence-agents protocol, and the BMC fences only lab hosts", () => {
    expect(onHost("pg1", "fence_pgha_lab -o metadata")).toMatch(/<resource-agent name="fence_pgha_lab"[\s\S]*<action name="reboot" \/>/);
    expect(onHost("pg1", "printf 'action=status\\nplug=pg2\\n' | fence_pgha_lab").trim()).toBe("Status: ON");
    expect(onHost("pg1", "fence_pgha_lab -o list").trim().split("\n")).toEqual(["pg1", "pg2"]);
    expect(onHost("pg1", "fence_pgha_lab -o monitor; echo $?").trim()).toBe("0");
    // pg3 is a valid name but no host of this lab; the BMC refuses it.
    expect(onHost("pg1", "fence_pgha_lab -o off -n pg3 2>&1; echo rc=$?")).toMatch(/no lab host 'pg3'[\s\S]*rc=1/);
  });

  it("stonith_admin --reboot pg2 power-cycles pg2 while its cluster links are cut", async () => {
    const before = initPid("pg2");
    cut("pg2", cutRules(["eth1", "eth2"]));
    onHost("pg1", "stonith_admin --reboot pg2 --timeout 90");
    expectFreshlyBooted("pg2", before);
    expect(onHost("pg2", "iptables -S")).not.toMatch(/DROP/); // the kernel's state went with the power
    expect(onHost("pg1", "stonith_admin --history pg2")).toMatch(/reboot of pg2 successful/);
    await until("pg2 offline for pg1", () => clusterOn("pg1").nodes.find((n) => n.name === "pg2")?.online === false, 60_000, 1000);
    await recover("pg2");
    await settled("pg1", "pg2");
  });

  it("case 2, the service LAN cut on the primary: the ping attribute drops and the primary moves to pg2, nobody is fenced", async () => {
    const before = initPid("pg1");
    const rules = cutRules(["eth1"]);
    cut("pg1", rules);
    await promotedOn("pg2");
    expect(clusterOn("pg2").nodes.find((n) => n.name === "pg1")?.online).toBe(true); // corosync kept link 1
    viaVip("INSERT INTO e2e VALUES ('lan-cut')", "pg2");
    heal("pg1", rules); // the operator repairs the LAN, then recovers the node
    expect(initPid("pg1")).toBe(before); // never power-cycled
    await recoverAndFailBack("pg1", "pg2", "lan-cut");
  });

  /** Cases 3-5: a fault on the primary pg1 that pg2 answers by fencing it for real and taking over;
   *  pg1 comes back freshly booted (the fence's power cycle), is recovered, and the primary fails back. */
  async function primaryFenced(fault: () => void, value: string): Promise<void> {
    const before = initPid("pg1");
    fault();
    await promotedOn("pg2");
    viaVip(`INSERT INTO e2e VALUES ('${value}')`, "pg2");
    fencedBy("pg2", "pg1");
    await until("pg1 booted", () => initPid("pg1") !== before && onHost("pg1", "pidof sshd"), 60_000, 1000);
    expectFreshlyBooted("pg1", before);
    await recoverAndFailBack("pg1", "pg2", value);
  }

  it("case 3, the primary powered off: pg2 fences it (the fence boots it), is promoted; pg1 is recovered", () => primaryFenced(() => labSh(["poweroff", "pg1"]), "power-off"));

  it("case 4, corosync killed on the primary: pg2 fences pg1 for real and is promoted; pg1 is recovered and streams", () => primaryFenced(() => onHost("pg1", "kill -9 $(pidof corosync)"), "corosync-killed"));

  it("case 5, the pgsql agent's demote/stop fails on the primary (PostgreSQL hung): pg1 is fenced, not blocked", () =>
    primaryFenced(() => {
      // A hung postmaster: signals stay pending, so the agent's stop waits until its timeout (30 s here);
      // the failure it recovers from is injected as a monitor failure, as a hang would make one.
      onHost("pg1", `kill -STOP $(head -1 ${DATA}/postmaster.pid)`);
      onHost("pg1", "crm_resource --fail --resource pgsql --node pg1");
    }, "stop-failed"));

  // Both heartbeat links cut (UDP only: corosync's knet; the service LAN and replication stay up). With
  // two nodes both sides keep quorum and race to fence; priority-fencing-delay lets the primary's node
  // win, whichever side the cut is made on. Several times: the survivor must be the primary every time.
  for (const [round, side] of [[1, "pg2"], [2, "pg1"], [3, "pg2"]] as const) {
    it(`case 6, both heartbeat links cut (round ${round}, cut on ${side}): pg2 is fenced, pg1 stays the primary without a restart`, async () => {
      const before = initPid("pg2");
      const started = postmasterStart("pg1");
      cut(side, cutRules(["eth1", "eth2"], "-p udp"));
      await until("pg2 power-cycled", () => initPid("pg2") !== before && onHost("pg2", "pidof sshd"), 120_000, 1000);
      fencedBy("pg1", "pg2");
      if (side === "pg1") heal("pg1", cutRules(["eth1", "eth2"], "-p udp")); // pg2's rules went with its power
      expectFreshlyBooted("pg2", before);
      expect(where(clusterOn("pg1"), "pgsql", "Promoted")).toEqual(["pg1"]);
      expect(postmasterStart("pg1")).toBe(started);
      viaVip(`INSERT INTO e2e VALUES ('split-${round}')`);
      await recoverAndFailBack("pg2", "pg1", `split-${round}`);
    });
  }

  // A degraded cluster is still pgha's: apply goes on without a standby the cluster has as down, does
  // what is safe on the others, fails naming it and the command to run, and never waits for it.
  it("case 9, a pg_hba change while the standby is powered off: applied and reloaded on pg1 at once, the run names pg2 and pgha recover pg2", async () => {
    const before = initPid("pg2");
    labSh(["poweroff", "pg2"]);
    // pg1 fences the lost node, and the fence boots it; then it goes off for good, as a standby whose
    // hardware failed: the cluster has it offline and clean, and pgha cannot reach it.
    await until("pg2 fenced and booted", () => initPid("pg2") !== before && onHost("pg2", "pidof sshd"), 120_000, 1000);
    fencedBy("pg1", "pg2");
    labSh(["poweroff", "pg2"]);
    expect(psqlOn("pg1", "SHOW hba_file")).toBe(HBA);
    const loaded = confLoaded("pg1");
    const off = await pgha(["apply", ...HBA_ARGS]);
    expect(off.code, off.output).toBe(1);
    expect(off.stderr).toMatch(/pg2 is down \(pg2: cannot connect to [\d.]+:22: [^)]*\): applied where it is safe \(\d+ task\(s\) changed\)\. To recover: boot pg2, then run pgha recover pg2, and run this apply again for pg2's own files/);
    expect(off.output).not.toMatch(/timed out after \d+s waiting/); // nothing waited for pg2 (its SSH connect timeout is all)
    expect(hasHbaRule("pg1")).toBe(true);
    expect(psqlOn("pg1", "SELECT count(*) FROM pg_hba_file_rules WHERE address = '192.0.2.0' AND auth_method = 'reject'")).toBe("1");
    expect(confLoaded("pg1")).not.toBe(loaded); // reloaded, not only written
    expect(where(clusterOn("pg1"), "pgsql", "Promoted")).toEqual(["pg1"]);
    viaVip("INSERT INTO e2e VALUES ('hba-degraded')");

    // Booted, Pacemaker stopped: the files are written there too, and recover is what is left.
    labSh(["boot", "pg2"]);
    const stopped = await pgha(["apply", ...HBA_ARGS]);
    expect(stopped.code, stopped.output).toBe(1);
    expect(stopped.stderr).toMatch(/pg2 is down \(Pacemaker is stopped there, and the cluster has it offline\): applied where it is safe \(\d+ task\(s\) changed\)\. To recover: run pgha recover pg2$/m);
    expect(stopped.output).not.toMatch(/timed out after \d+s waiting/);
    expect(hasHbaRule("pg2")).toBe(true);

    expect(await recover("pg2")).toMatch(/^pg2 recovered: .*it streams from pg1 \(HS:sync\)$/);
    await settled("pg1", "pg2");
    const again = await pgha(["apply", ...HBA_ARGS]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
    expect(psqlOn("pg2", "SELECT count(*) FROM e2e WHERE v = 'hba-degraded'")).toBe("1");
    const d = await pgha(["diff", ...HBA_ARGS]);
    expect(d.code, d.output).toBe(0);
    expect(d.output).not.toMatch(/warning/i);
    // Back to the spec the other cases use.
    const back = await pgha(["apply", ...ARGS]);
    expect(back.code, back.output).toBe(0);
    expect(hasHbaRule("pg1") || hasHbaRule("pg2")).toBe(false);
  });
});
