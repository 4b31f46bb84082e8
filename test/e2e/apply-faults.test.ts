// Issue 4's fault cases on the lab: an unreachable host stops the run before anything changes, and a run
// whose SSH connection drops half-way is completed by the next run.
import { beforeAll, describe, expect, it } from "vitest";
import { labSh } from "./lab-helpers.js";
import { exampleArgs, inventoryWith, onHost, pgha } from "./pgha-helpers.js";

describe("faults", () => {
  beforeAll(() => {
    labSh(["up", "--nodes", "2"]);
  });

  it("an unreachable host gives a clear error naming it, and no host is touched", async () => {
    const state = () => onHost("pg1", "sha256sum /etc/corosync/corosync.conf; ls -A /etc/postgresql /var/lib/postgresql; systemctl is-active pacemaker || true");
    const before = state();
    // 10.117.1.99 is on the lab's bridge, and nobody answers there.
    const run = await pgha(["apply", ...exampleArgs("sr-pgsql-2node", inventoryWith("sr-pgsql-2node", "pg2", "10.117.1.99"))]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot reach every node, nothing was changed/);
    expect(run.stderr).toMatch(/pg2: cannot connect to 10\.117\.1\.99:22/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(state()).toBe(before);
    expect(before).toMatch(/inactive/);
  });

  it("SSH dropped in the middle of a build: the run fails naming the host, and a rerun completes", async () => {
    let dropped = false;
    const broken = await pgha(["apply", ...exampleArgs("sr-pgsql-2node")], {
      onLine: (l) => {
        if (!dropped && /start pacemaker/.test(l)) {
          dropped = true;
          // every sshd on pg2, the listener and the sessions: the connection drops, new ones are refused
          onHost("pg2", "kill $(pidof sshd)");
        }
      },
    });
    expect(dropped).toBe(true);
    expect(broken.code, broken.output).toBe(1);
    expect(broken.stderr).toMatch(/pg2/);
    expect(broken.stderr).not.toMatch(/\n\s+at /);

    onHost("pg2", "systemctl start sshd");
    const rerun = await pgha(["apply", ...exampleArgs("sr-pgsql-2node")]);
    expect(rerun.code, rerun.output).toBe(0);
    expect(rerun.stdout).toMatch(/^pg1\s+online\s+primary\s+PRI/m);
    expect(rerun.stdout).toMatch(/^pg2\s+online\s+standby\s+HS:sync/m);
  });
});
