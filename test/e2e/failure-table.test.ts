// The lab's real fence device (issue 20): fence_pgha_lab asks the lab's BMC daemon to power-cycle a host
// (lab.sh poweroff + boot), over the lab's state dir rather than the cluster links. The 2-node pgsql
// cluster is built with it in place of the example's fence_dummy; a fence then ends every process of the
// target at once, and the target comes back with only sshd, as a server with Pacemaker not enabled at boot.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { LAB_DIR, labSh } from "./lab-helpers.js";
import { clusterOn, onHost, pgha, psqlOn, settled, specEdited, until, where } from "./pgha-helpers.js";

const EXAMPLE = "sr-pgsql-2node";
/** The example's spec with the lab's fence agent instead of fence_dummy (pcmk_host_list kept). */
const labFencedSpec = () =>
  specEdited(
    `inventories/${EXAMPLE}/cluster.yml`,
    ...["pg1", "pg2"].map((h): [string, string] => [
      `{ agent: "stonith:fence_dummy", params: { type: file, status_file: /var/lib/pacemaker/fence-${h}.status, pcmk_host_list: ${h} } }`,
      `{ agent: "stonith:fence_pgha_lab", params: { plug: ${h}, pcmk_host_list: ${h} } }`,
    ]),
  );
const ARGS = ["-i", `inventories/${EXAMPLE}/hosts.yml`, "-s", labFencedSpec()];

const initPid = (h: string) => readFileSync(`${LAB_DIR}/hosts/${h}/init.pid`, "utf8").trim();
/** A host as it is after a power cycle: a new init, and nothing running but sshd (and our own ps). */
function expectFreshlyBooted(h: string, initBefore: string): void {
  expect(initPid(h)).not.toBe(initBefore);
  const procs = new Set(onHost(h, "ps -eo comm=").trim().split("\n"));
  expect(procs).toContain("sshd");
  expect([...procs].filter((p) => !["bash", "sleep", "sshd", "sh", "ps"].includes(p)), [...procs].join(" ")).toEqual([]);
}
async function recover(h: string): Promise<void> {
  const r = await pgha(["recover", h, ...ARGS]);
  expect(r.code, r.output).toBe(0);
}

describe("fence_pgha_lab: real fencing on the lab", () => {
  beforeAll(async () => {
    labSh(["up", "--nodes", "2"]);
    const build = await pgha(["apply", ...ARGS]);
    if (build.code !== 0) throw new Error(`build failed:\n${build.output}`);
    await settled("pg1", "pg2");
  });

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
    onHost("pg2", "for i in eth1 eth2; do iptables -A INPUT -i $i -j DROP && iptables -A OUTPUT -o $i -j DROP; done");
    onHost("pg1", "stonith_admin --reboot pg2 --timeout 90");
    expectFreshlyBooted("pg2", before);
    expect(onHost("pg2", "iptables -S")).not.toMatch(/DROP/); // the kernel's state went with the power
    expect(onHost("pg1", "stonith_admin --history pg2")).toMatch(/reboot of pg2 successful/);
    await until("pg2 offline for pg1", () => clusterOn("pg1").nodes.find((n) => n.name === "pg2")?.online === false, 60_000, 1000);
    await recover("pg2");
    await settled("pg1", "pg2");
  });

  it("corosync killed on the primary: pg2 fences pg1 for real and is promoted; pg1 is recovered and streams", async () => {
    const before = initPid("pg1");
    onHost("pg1", "kill -9 $(pidof corosync)");
    await until("pg2 promoted with vip-master", () => {
      const s = clusterOn("pg2");
      return where(s, "pgsql", "Promoted").join() === "pg2" && where(s, "vip-master", "Started").join() === "pg2";
    }, 180_000);
    expect(onHost("pg2", "stonith_admin --history pg1")).toMatch(/reboot of pg1 successful: delegate=pg2/);
    expectFreshlyBooted("pg1", before);
    await recover("pg1");
    await settled("pg2", "pg1");
    expect(psqlOn("pg1", "SELECT pg_is_in_recovery()")).toBe("t");
  });
});
