// Issue 17, `become` for real: pgha logs in to the lab's hosts as pgadmin, a user without privileges, and runs
// everything through Debian's sudo. pg1's sudoers rule asks for the password (given from an environment variable),
// pg2's is NOPASSWD (its inventory still names the password file: sudo never asks, so it is not sent). The whole
// build -> no-op -> diff cycle, and the password in no output, -v included.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { hostAddr, LAB_DIR, LAB_KEY, LAB_KNOWN_HOSTS, labSh } from "./lab-helpers.js";
import { ENV, onHost, pgha, type PghaRun } from "./pgha-helpers.js";

const PASSWORD_FILE = `${LAB_DIR}/become-password`;

function becomeInventory(): string {
  const dir = mkdtempSync(join(tmpdir(), "pgha-e2e-become-"));
  const lookup = (kind: string, what: string) => `"{{ lookup('${kind}', '${what}') }}"`;
  writeFileSync(
    join(dir, "hosts.yml"),
    `all:
  children:
    pgsql:
      hosts:
        pg1: { ansible_host: ${hostAddr("pg1")}, ansible_become_password: ${lookup("env", "PGHA_E2E_SUDO_PW")} }
        pg2: { ansible_host: ${hostAddr("pg2")}, ansible_become_password: ${lookup("file", PASSWORD_FILE)} }
  vars:
    ansible_user: pgadmin
    ansible_become: true
    ansible_ssh_private_key_file: ${LAB_KEY}
    ansible_ssh_common_args: "-o UserKnownHostsFile=${LAB_KNOWN_HOSTS}"
`,
  );
  return join(dir, "hosts.yml");
}

describe("become: build, no-op and diff as pgadmin through sudo", () => {
  let args: string[];
  let password: string;
  let env: NodeJS.ProcessEnv;
  const runs: PghaRun[] = [];
  const run = async (a: string[], e = env) => {
    const r = await pgha(a, { env: e });
    runs.push(r);
    return r;
  };

  beforeAll(() => {
    labSh(["up", "--nodes", "2"]);
    password = readFileSync(PASSWORD_FILE, "utf8").trim();
    env = { ...ENV, PGHA_E2E_SUDO_PW: password };
    args = ["-i", becomeInventory(), "-s", "inventories/sr-pgsql-2node/cluster.yml"];
  });

  it("the lab's pgadmin: sudo asks for the password on pg1, not on pg2", () => {
    const sudoN = (h: string) => onHost(h, "runuser -u pgadmin -- sudo -k -n true 2>&1; echo rc=$?").trim();
    expect(sudoN("pg1")).toMatch(/a password is required\nrc=1$/);
    expect(sudoN("pg2")).toBe("rc=0");
  });

  it("a wrong password stops the run at connect, naming the host and not the password", async () => {
    const wrong = "Wrong-e2e-pw-51c";
    const t0 = Date.now();
    const r = await run(["diff", ...args], { ...env, PGHA_E2E_SUDO_PW: wrong });
    expect(r.code, r.output).not.toBe(0);
    expect(r.output).toMatch(/pg1: become: sudo as pgadmin refused with the become password \(Sorry, try again\.; .*1 incorrect password attempt\)/);
    expect(r.output).not.toMatch(/pg2: become/);
    expect(r.output).not.toContain(wrong);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it("apply -v builds the cluster", async () => {
    const first = await run(["apply", "-v", ...args]);
    expect(first.code, first.output).toBe(0);
    expect(first.stdout).toMatch(/^pg1\s+online\s+primary\s+PRI\s+.*vip-master/m);
    expect(first.stdout).toMatch(/^pg2\s+online\s+standby\s+HS:sync/m);
  });

  it("a second apply changes nothing, and diff finds nothing", async () => {
    const again = await run(["apply", "-v", ...args]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
    const diff = await run(["diff", "-v", ...args]);
    expect(diff.code, diff.output).toBe(0);
  });

  it("the become password is in no output and in no file pgha wrote on the hosts", () => {
    expect(runs.length).toBe(4);
    for (const r of runs) expect(r.output).not.toContain(password);
    for (const h of ["pg1", "pg2"]) {
      expect(onHost(h, `grep -rlF -e "$(cat ${PASSWORD_FILE})" /var/log /var/lib/pgha /etc/postgresql /var/lib/postgresql /etc/corosync /home/pgadmin 2>/dev/null || true`).trim()).toBe("");
    }
  });
});
