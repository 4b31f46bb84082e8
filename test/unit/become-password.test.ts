// ansible_become_password in the inventory: read from an environment variable or a file through Ansible's own
// lookup spellings, refused as plain text with its position and without its value, resolved into the model (and
// into the secrets every output is masked with) only for nodes that use sudo.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError, type Diagnostic } from "../../src/diagnostics.js";
import { parseInventory } from "../../src/inventory.js";
import { buildModel } from "../../src/model/build.js";
import { secretResolver } from "../../src/secrets.js";
import { parseSpec } from "../../src/spec.js";
import { exampleText, TEST_PASSWORD, thrownBy } from "./helpers.js";

const inventory = (pg1: string, vars = "ansible_user: admin\n    ansible_become: true") =>
  `all:\n  children:\n    pgsql:\n      hosts:\n        pg1: ${pg1}\n        pg2: { ansible_host: 10.0.0.2 }\n  vars:\n    ${vars}\n`;
const conn = (text: string, file = "/srv/inv/hosts.yml") => parseInventory(text, file).hosts.get("pg1")!.connection;

const diagsOf = (fn: () => unknown): Diagnostic[] => thrownBy(InputError, fn).diagnostics;

describe("ansible_become_password in the inventory", () => {
  it("takes Ansible's env and file lookups; a relative file is relative to the inventory's directory", () => {
    expect(conn(inventory(`{ ansible_become_password: "{{ lookup('env', 'PGHA_SUDO_PW') }}" }`)).becomePassword).toEqual({
      source: { env: "PGHA_SUDO_PW" },
      at: { file: "/srv/inv/hosts.yml", line: 5, column: 41, path: "/all/children/pgsql/hosts/pg1/ansible_become_password" },
    });
    expect(conn(inventory(`{ ansible_become_password: '{{lookup("ansible.builtin.file","secrets/sudo")}}' }`)).becomePassword?.source).toEqual({ file: "/srv/inv/secrets/sudo" });
    expect(conn(inventory(`{ ansible_become_pass: "{{ lookup('file', '/etc/pgha/sudo') }}" }`)).becomePassword?.source).toEqual({ file: "/etc/pgha/sudo" });
    // INI: Ansible's quoting of a value with spaces
    expect(conn(`[pgsql]\npg1 ansible_user=admin ansible_become=yes ansible_become_password="{{ lookup('env', 'PW') }}"\n`, "/srv/inv/hosts").becomePassword?.source).toEqual({ env: "PW" });
  });

  it("the later name in Ansible's list wins, wherever each is set: ansible_sudo_pass, then ansible_become_pass, then ansible_become_password", () => {
    const text = inventory(`{ ansible_become_password: "{{ lookup('env', 'A') }}", ansible_become_pass: "{{ lookup('env', 'B') }}", ansible_sudo_pass: "{{ lookup('env', 'C') }}" }`);
    expect(conn(text).becomePassword?.source).toEqual({ env: "C" });
  });

  it("refuses a password written in the inventory, or any other template, where it is written and without showing it", () => {
    for (const value of ["Plain-Sudo-pw1", "{{ sudo_pw }}", "{{ lookup('pipe', 'cat /x') }}", "{{ lookup('env', 'A') }} extra"]) {
      const ds = diagsOf(() => parseInventory(inventory(`{ ansible_become_password: ${JSON.stringify(value)} }`), "/srv/inv/hosts.yml"));
      expect(ds).toEqual([
        {
          code: "inventory-become-password",
          severity: "error",
          message: "host 'pg1': ansible_become_password must say where the password is read, not hold it (the value is not shown)",
          expected: `"{{ lookup('env', 'NAME') }}" or "{{ lookup('file', 'PATH') }}" (a relative PATH is relative to the inventory's directory)`,
          file: "/srv/inv/hosts.yml",
          line: 5,
          column: 41,
          path: "/all/children/pgsql/hosts/pg1/ansible_become_password",
        },
      ]);
      expect(JSON.stringify(ds)).not.toContain(value);
    }
  });
});

describe("the become password in the model", () => {
  const dir = mkdtempSync(join(tmpdir(), "pgha-become-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const model = (inv: string, env: NodeJS.ProcessEnv) =>
    buildModel({ spec: parseSpec(exampleText("sr-pgsql-2node"), "cluster.yml"), inventory: parseInventory(inv, join(dir, "hosts.yml")), resolveSecret: secretResolver({ PGHA_REPL_PASSWORD: TEST_PASSWORD, ...env }) });

  it("is read for a node that logs in as another user than root and uses sudo, and joins the secrets outputs mask", () => {
    writeFileSync(join(dir, "sudo-pw"), "File-Sudo-pw2\n");
    const m = model(inventory(`{ ansible_host: 10.0.0.1, ansible_become_password: "{{ lookup('env', 'SUDO_PW') }}" }`, `ansible_user: admin\n    ansible_become: true\n    ansible_become_password: "{{ lookup('file', 'sudo-pw') }}"`), { SUDO_PW: "Env-Sudo-pw1" });
    expect(m.nodes.map((n) => n.becomePassword)).toEqual(["Env-Sudo-pw1", "File-Sudo-pw2"]);
    expect(m.secrets).toEqual(expect.arrayContaining(["Env-Sudo-pw1", "File-Sudo-pw2", TEST_PASSWORD]));
  });

  it("is not read where no sudo runs: become off, or the login user is root", () => {
    const pw = `{ ansible_host: 10.0.0.1, ansible_become_password: "{{ lookup('env', 'UNSET_PW') }}" }`;
    expect(model(inventory(pw, "ansible_user: admin"), {}).nodes[0]!.becomePassword).toBeUndefined();
    expect(model(inventory(pw, "ansible_user: root\n    ansible_become: true"), {}).nodes[0]!.becomePassword).toBeUndefined();
  });

  it("a missing, empty or too long password is an error at the inventory line that names it", () => {
    writeFileSync(join(dir, "long-pw"), "x".repeat(255));
    const inv = inventory(`{ ansible_host: 10.0.0.1, ansible_become_password: "{{ lookup('env', 'UNSET_PW') }}" }`, `ansible_user: admin\n    ansible_become: true\n    ansible_become_password: "{{ lookup('file', 'long-pw') }}"`);
    const ds = diagsOf(() => model(inv, { UNSET_PW: "" }));
    expect(ds.map((d) => [d.code, d.message, d.line])).toEqual([
      ["inventory-become-password", "host 'pg1': become password: environment variable UNSET_PW is not set", 5],
      ["inventory-become-password", "host 'pg2': become password: it is longer than 254 bytes, the most sudo reads (the value is not shown)", 10],
    ]);
  });
});
