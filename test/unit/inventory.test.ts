import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { InputError, type Diagnostic } from "../../src/diagnostics.js";
import { hostsOfGroup, loadInventory, parseInventory, type Inventory } from "../../src/inventory.js";
import { thrownBy } from "./helpers.js";

const fixture = (p: string): string => fileURLToPath(new URL(`../fixtures/inventory/${p}`, import.meta.url));

/** The diagnostics of the InputError `fn` throws (fails the test if it throws anything else). */
const diagsOf = (fn: () => unknown): Diagnostic[] => thrownBy(InputError, fn).diagnostics;
const only = (fn: () => unknown): Diagnostic => {
  const ds = diagsOf(fn);
  expect(ds).toHaveLength(1);
  return ds[0]!;
};
const yaml = (text: string, opts?: Parameters<typeof parseInventory>[2]) => parseInventory(text, "inv.yml", opts);
const ini = (text: string) => parseInventory(text, "inv.ini");
const vars = (inv: Inventory, host: string) => inv.hosts.get(host)!.vars;
/** Everything but where things were written, for comparing YAML with INI. */
const content = (inv: Inventory) => ({
  hosts: [...inv.hosts.values()].map(({ source: _source, ...h }) => h),
  groups: [...inv.groups.values()],
});

describe("lab inventory", () => {
  const inv = loadInventory(fixture("lab.yml"));

  it("reads hosts, groups and connection facts", () => {
    expect([...inv.hosts.keys()]).toEqual(["pg1", "pg2"]);
    expect(hostsOfGroup(inv, "pgsql")).toEqual(["pg1", "pg2"]);
    expect(hostsOfGroup(inv, "all")).toEqual(["pg1", "pg2"]);
    expect(hostsOfGroup(inv, "ungrouped")).toEqual([]);
    expect(inv.groups.get("all")!.children).toEqual(["ungrouped", "pgsql"]);
    const pg1 = inv.hosts.get("pg1")!;
    expect(pg1.groups).toEqual(["all", "pgsql"]);
    expect(pg1.connection).toEqual({
      host: "10.117.1.11",
      port: 22,
      user: "root",
      privateKeyFile: "/var/lib/pgha-lab/id_ed25519",
      become: false,
      sshCommonArgs: "-o UserKnownHostsFile=/var/lib/pgha-lab/known_hosts",
    });
    expect(inv.hosts.get("pg2")!.connection.host).toBe("10.117.1.12");
    expect(pg1.source).toEqual({ file: fixture("lab.yml"), line: 5, column: 9 });
    expect(pg1.vars).toEqual({
      ansible_host: "10.117.1.11",
      ansible_user: "root",
      ansible_ssh_private_key_file: "/var/lib/pgha-lab/id_ed25519",
      ansible_ssh_common_args: "-o UserKnownHostsFile=/var/lib/pgha-lab/known_hosts",
    });
  });

  it("does not share variable objects between hosts", () => {
    const a = yaml("all:\n  vars: {opts: {x: 1}}\n  hosts: {a: , b: }\n");
    (vars(a, "a").opts as { x: number }).x = 2;
    expect(vars(a, "b").opts).toEqual({ x: 1 });
  });
});

// Expected values below were produced by `ansible-inventory --list` (ansible-core 2.14) on the same fixtures.
describe("YAML and INI equivalents", () => {
  const y = loadInventory(fixture("equiv/hosts.yml"));
  const i = loadInventory(fixture("equiv/hosts.ini"));

  it("produce identical inventories", () => {
    expect(content(i)).toEqual(content(y));
  });

  it("match ansible-inventory's host variables", () => {
    const common = { ansible_user: "root", env: "lab" };
    const replica = { ...common, ansible_become: "yes", pg_version: 16, shared: "replicas", tier: "cold" };
    for (const inv of [y, i]) {
      expect(Object.fromEntries([...inv.hosts].map(([n, h]) => [n, h.vars]))).toEqual({
        mon1: { ...common, ansible_host: "10.0.0.5", shared: "all" },
        pg1: { ...common, ansible_host: "10.117.1.11", ansible_port: 2222, backup_slot: true, pg_version: 16, shared: "pgsql", slots: [1, 2], tier: "cold" },
        pg2: replica,
        pg3: replica,
        pg04: { ...replica, ansible_become_user: "postgres", ansible_port: 2200, ansible_ssh_common_args: "-o StrictHostKeyChecking=no" },
      });
    }
  });

  it("match ansible-inventory's groups", () => {
    for (const inv of [y, i]) {
      const g = (n: string) => inv.groups.get(n)!;
      expect([...inv.groups.keys()]).toEqual(["all", "ungrouped", "pgsql", "primary", "replicas", "backup"]);
      expect(g("all").children).toEqual(["ungrouped", "pgsql", "backup"]);
      expect(g("pgsql").children).toEqual(["primary", "replicas"]);
      expect(g("backup").children).toEqual(["replicas"]);
      expect(hostsOfGroup(inv, "ungrouped")).toEqual(["mon1"]);
      expect(hostsOfGroup(inv, "replicas")).toEqual(["pg2", "pg3", "pg04"]);
      expect(hostsOfGroup(inv, "pgsql")).toEqual(["pg1", "pg2", "pg3", "pg04"]);
      expect(hostsOfGroup(inv, "backup")).toEqual(["pg1", "pg2", "pg3", "pg04"]);
      expect(hostsOfGroup(inv, "all")).toEqual(["mon1", "pg1", "pg2", "pg3", "pg04"]);
      expect(hostsOfGroup(inv, "nosuch")).toEqual([]);
      expect(g("replicas").vars).toEqual({ shared: "replicas", ansible_become: "yes" });
      expect(inv.hosts.get("pg2")!.groups).toEqual(["all", "backup", "pgsql", "replicas"]);
      expect(inv.hosts.get("mon1")!.groups).toEqual(["all", "ungrouped"]);
      expect(inv.hosts.get("pg04")!.connection).toEqual({
        host: "pg04",
        port: 2200,
        user: "root",
        become: true,
        becomeUser: "postgres",
        sshCommonArgs: "-o StrictHostKeyChecking=no",
      });
    }
  });

  it("remember where each host was first declared", () => {
    expect(y.hosts.get("pg1")!.source).toEqual({ file: fixture("equiv/hosts.yml"), line: 18, column: 13 });
    expect(i.hosts.get("pg1")!.source).toEqual({ file: fixture("equiv/hosts.ini"), line: 18, column: 1 });
    expect(i.hosts.get("pg3")!.source).toEqual({ file: fixture("equiv/hosts.ini"), line: 21, column: 1 });
  });
});

describe("variable precedence", () => {
  // ansible-inventory --list on precedence/hosts.yml and precedence/hosts.ini (identical output).
  const expected = {
    pg1: {
      contested: "zeta", // alpha is not pg1's group
      gv_all_beats_child: "group_vars-all", // group_vars/all outranks every inventory-file group var
      gv_layer: "pgsql",
      gv_zeta: "extensionless", // group_vars/zeta hides group_vars/zeta.yml
      host_beats_gv: "inventory-host",
      layer: "host_vars-pg1",
      settings: { b: 3 }, // replace, not deep merge
    },
    pg2: {
      ansible_become: "on",
      ansible_port: "2202",
      contested: "alpha", // ansible_group_priority 10 beats zeta's default 1 at the same depth
      dir_order: "c", // group_vars/replicas/ files merge in sorted order, subdirectories included
      gv_all_beats_child: "group_vars-all",
      gv_layer: "replicas",
      gv_zeta: "extensionless",
      host_beats_gv: "group_vars-pgsql",
      layer: "replicas", // depth 2 beats pgsql's priority 100 at depth 1
      only_a: 1,
      settings: { b: 3 },
    },
  };

  for (const file of ["precedence/hosts.yml", "precedence/hosts.ini"]) {
    it(`matches ansible-inventory for ${file}`, () => {
      const inv = loadInventory(fixture(file));
      expect(vars(inv, "pg1")).toEqual(expected.pg1);
      expect(vars(inv, "pg2")).toEqual(expected.pg2);
      expect(inv.hosts.get("pg2")!.connection).toEqual({ host: "pg2", port: 2202, become: true });
      // a group's own vars: inventory file, then its group_vars/ files; ansible_group_priority is not a variable
      expect(inv.groups.get("pgsql")!.vars).toEqual({
        layer: "pgsql",
        gv_all_beats_child: "inventory-pgsql",
        settings: { b: 3 },
        gv_layer: "pgsql",
        host_beats_gv: "group_vars-pgsql",
      });
      expect(inv.groups.get("replicas")!.vars).toEqual({ layer: "replicas", dir_order: "c", only_a: 1, gv_layer: "replicas" });
      expect(inv.groups.has("nosuchgroup")).toBe(false);
    });
  }

  it("merges groups at the same depth alphabetically by default", () => {
    const inv = yaml(`
zeta: { hosts: { h: }, vars: { v: zeta } }
alpha: { hosts: { h: }, vars: { v: alpha } }
`);
    expect(vars(inv, "h").v).toBe("zeta");
  });

  it("lets ansible_group_priority reorder groups at the same depth, not across depths", () => {
    const inv = yaml(`
all:
  vars: { v: all, w: all }
  children:
    alpha: { hosts: { h: }, vars: { v: alpha, ansible_group_priority: "5" } }
    zeta: { hosts: { h: }, vars: { v: zeta } }
    parent:
      vars: { w: parent, ansible_group_priority: 99 }
      children:
        kid: { hosts: { h: }, vars: { w: kid } }
`);
    expect(vars(inv, "h")).toEqual({ v: "alpha", w: "kid" });
  });

  it("uses the longest path from all as a group's depth", () => {
    // b is both a direct child of all and a grandchild (via a), so it sits at depth 2 and beats a.
    const inv = yaml(`
all:
  children:
    b: { hosts: { h: }, vars: { v: b } }
    a:
      vars: { v: a }
      children: { b: }
`);
    expect(vars(inv, "h").v).toBe("b");
    expect(inv.hosts.get("h")!.groups).toEqual(["a", "all", "b"]);
  });

  it("applies supplied group_vars and host_vars at Ansible's layers", () => {
    const inv = yaml(
      `
all:
  vars: { a: inv-all, b: inv-all, c: inv-all, d: inv-all }
  children:
    pgsql:
      vars: { a: inv-pgsql, b: inv-pgsql, c: inv-pgsql, d: inv-pgsql }
      hosts:
        pg1: { c: inv-host, d: inv-host }
`,
      {
        groupVars: { all: { a: gv("all"), b: gv("all") }, pgsql: { b: gv("pgsql"), c: gv("pgsql") }, ghost: { z: 1 } },
        hostVars: { pg1: { d: "host_vars" }, ghost: { z: 1 } },
      },
    );
    expect(vars(inv, "pg1")).toEqual({ a: gv("all"), b: gv("pgsql"), c: "inv-host", d: "host_vars" });
  });

  it("merges a host declared in several groups; the later declaration wins", () => {
    const inv = yaml(`
a: { hosts: { h: { x: 1, y: 1 } } }
b: { hosts: { h: { y: 2, z: { k: 1 } } } }
c: { hosts: { h: { z: { j: 2 } } } }
`);
    expect(vars(inv, "h")).toEqual({ x: 1, y: 2, z: { j: 2 } });
    expect(inv.hosts.get("h")!.source.line).toBe(2);
  });

  it("merges a group declared under several parents", () => {
    const inv = yaml(`
all:
  children:
    p1: { children: { shared: { hosts: { h1: }, vars: { v: first, only1: 1 } } } }
    p2: { children: { shared: { hosts: { h2: }, vars: { v: second } } } }
`);
    expect(inv.groups.get("shared")!.vars).toEqual({ v: "second", only1: 1 });
    expect(hostsOfGroup(inv, "shared")).toEqual(["h1", "h2"]);
    expect(hostsOfGroup(inv, "p1")).toEqual(["h1", "h2"]);
    expect(vars(inv, "h1")).toEqual({ v: "second", only1: 1 });
  });
});

const gv = (g: string) => `group_vars-${g}`;

describe("YAML format", () => {
  it("reads an empty file as an empty inventory", () => {
    for (const text of ["", "# nothing\n"]) {
      const inv = yaml(text);
      expect(inv.hosts.size).toBe(0);
      expect([...inv.groups.keys()]).toEqual(["all", "ungrouped"]);
    }
  });

  it("puts hosts declared under all into ungrouped, and top-level groups under all", () => {
    const inv = yaml(`
all:
  hosts: { lone: , pg1: }
pgsql:
  hosts: pg1
`);
    expect(hostsOfGroup(inv, "ungrouped")).toEqual(["lone"]);
    expect(inv.groups.get("all")!.children).toEqual(["ungrouped", "pgsql"]);
    expect(inv.hosts.get("pg1")!.groups).toEqual(["all", "pgsql"]);
  });

  it("expands host ranges in keys", () => {
    const inv = yaml(`
pgsql:
  hosts:
    pg[01:03]: { role: db }
    db-[a:c]:
    n[1:9:4]:
    r[1:2]-[x:y]:
    10.0.0.[7:8]:2222:
`);
    expect([...inv.hosts.keys()]).toEqual([
      ...["pg01", "pg02", "pg03", "db-a", "db-b", "db-c", "n1", "n5", "n9"],
      ...["r1-x", "r1-y", "r2-x", "r2-y", "10.0.0.7", "10.0.0.8"],
    ]);
    expect(vars(inv, "pg02")).toEqual({ role: "db" });
    expect(inv.hosts.get("10.0.0.8")!.connection).toMatchObject({ host: "10.0.0.8", port: 2222 });
  });

  it("reads values with YAML 1.1 rules, as Ansible's PyYAML does", () => {
    const inv = yaml("all:\n  hosts:\n    h:\n      a: yes\n      b: Off\n      c: y\n      d: 010\n      e: 2024-01-02\n      f: 1_000\n");
    expect(vars(inv, "h")).toEqual({ a: true, b: false, c: "y", d: 8, e: "2024-01-02", f: 1000 });
  });
});

describe("INI format", () => {
  it("parses values as Python literals, the way the ini plugin does", () => {
    const inv = ini(`h1 a=0x1F b=-5 c=1.5e3 d=None e="it's" f='say "hi"' g=(1,) h=(1) i=1_0 j=True k='[1, {"x": (2, 3)}]' l=- m=a\\ b n=x#comment

[all:vars]
v1 = 'quoted'
v2 = "x" "y"
v3 = 10 # trailing comment
v4 = 01
v5 = -o UserKnownHostsFile=/dev/null
v6 = {'k': [1, 2.5]}
v7 = hello world # kept
`);
    expect(vars(inv, "h1")).toEqual({
      ...{ a: 31, b: -5, c: 1500, d: null, e: "it's", f: 'say "hi"', g: [1], h: 1, i: 10, j: true },
      ...{ k: [1, { x: [2, 3] }], l: "-", m: "a b", n: "x" },
      ...{ v1: "quoted", v2: "xy", v3: 10, v4: "01", v5: "-o UserKnownHostsFile=/dev/null", v6: { k: [1, 2.5] } },
      v7: "hello world # kept",
    });
  });

  it("moves hosts out of ungrouped once they join a group; resolves children declared later", () => {
    const inv = ini(`# comment
; another comment
pg1
lone

[pgsql:children]
db

[db]
pg1
`);
    expect(hostsOfGroup(inv, "ungrouped")).toEqual(["lone"]);
    expect(inv.hosts.get("pg1")!.groups).toEqual(["all", "db", "pgsql"]);
    expect(inv.groups.get("all")!.children).toEqual(["ungrouped", "pgsql"]);
  });

  it("is detected without a .ini extension", () => {
    expect([...parseInventory("[pgsql]\npg[1:2]\n", "hosts").hosts.keys()]).toEqual(["pg1", "pg2"]);
    expect([...parseInventory("pg1 ansible_port=2200\npg2\n", "hosts").hosts.keys()]).toEqual(["pg1", "pg2"]);
  });
});

describe("connection facts", () => {
  const conn = (hostVars: string) => yaml(`all:\n  hosts:\n    h: ${hostVars}\n`).hosts.get("h")!.connection;

  it("defaults to the host name, port 22, no user, no become", () => {
    expect(conn("")).toEqual({ host: "h", port: 22, become: false });
  });

  it("accepts Ansible's boolean spellings for ansible_become", () => {
    for (const t of [true, "yes", "Yes", "true", "1", "on", "y", "t", 1]) expect(conn(`{ ansible_become: ${JSON.stringify(t)} }`).become).toBe(true);
    for (const f of [false, "no", "false", "0", "off", "n", "f", 0]) expect(conn(`{ ansible_become: ${JSON.stringify(f)} }`).become).toBe(false);
    expect(conn("{ ansible_become: yes }").become).toBe(true); // a YAML 1.1 boolean
  });

  it("accepts port digits in a string; prefers the ssh-specific spellings", () => {
    expect(conn('{ ansible_port: "5022" }').port).toBe(5022);
    expect(
      conn("{ ansible_host: a, ansible_ssh_host: b, ansible_port: 1, ansible_ssh_port: 2, ansible_user: u, ansible_ssh_user: s, ansible_private_key_file: k1, ansible_ssh_private_key_file: k2, ansible_become_user: postgres }"),
    ).toEqual({ host: "b", port: 2, user: "s", privateKeyFile: "k2", become: false, becomeUser: "postgres" });
  });
});

describe("errors", () => {
  it("reports malformed YAML with its position", () => {
    const [d] = diagsOf(() => yaml("all:\n  hosts:\n    pg1: {ansible_host: [\n"));
    expect(d).toMatchObject({
      code: "yaml-syntax",
      message: expect.stringMatching(/^invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a \]/),
      file: "inv.yml",
      // at the '[' that never closes, not where the parser noticed
      line: 3,
      column: 25,
    });
    // a group listed twice under the same parent is a duplicate key (the second declaration would be lost)
    expect(only(() => yaml("all:\n  children:\n    pgsql:\n    pgsql:\n"))).toMatchObject({ code: "yaml-syntax", message: "invalid YAML: Map keys must be unique" });
  });

  it("rejects an inventory that is not a mapping", () => {
    expect(only(() => yaml("- pg1\n- pg2\n"))).toMatchObject({
      code: "inventory-not-mapping",
      message: "an inventory must be a mapping of group names, not a list",
      line: 1,
      column: 1,
      path: "/",
    });
  });

  it("rejects a group that is not a mapping", () => {
    expect(only(() => yaml("all:\n  children:\n    pgsql: [pg1, pg2]\n"))).toMatchObject({
      code: "inventory-group-not-mapping",
      message: "group 'pgsql' must be a mapping (or empty), not a list",
      file: "inv.yml",
      line: 3,
      column: 12,
      path: "/all/children/pgsql",
    });
  });

  it("rejects hosts that are not a mapping", () => {
    expect(only(() => yaml("pgsql:\n  hosts:\n    - pg1\n"))).toMatchObject({
      code: "inventory-section-not-mapping",
      message: "'hosts' of group 'pgsql' must be a mapping, not a list",
      line: 2,
      column: 3,
      path: "/pgsql/hosts",
    });
  });

  it("rejects host variables that are not a mapping", () => {
    expect(only(() => yaml("pgsql:\n  hosts:\n    pg1: 10.0.0.1\n"))).toMatchObject({
      code: "inventory-host-not-mapping",
      message: "host 'pg1' in group 'pgsql' must map to its variables (or nothing), not a string ('10.0.0.1')",
      line: 3,
      column: 10,
      path: "/pgsql/hosts/pg1",
    });
  });

  it("rejects unknown keys at group level, pointing at the key", () => {
    expect(only(() => yaml("all:\n  children:\n    pgsql:\n      host:\n        pg1:\n"))).toMatchObject({
      code: "inventory-unknown-key",
      message: "unknown key 'host' in group 'pgsql'",
      expected: "hosts, children or vars",
      line: 4,
      column: 7,
      path: "/all/children/pgsql/host",
    });
  });

  it("rejects a child group cycle where the loop is closed", () => {
    const d = only(() => yaml("all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n"));
    expect(d).toMatchObject({
      code: "inventory-cycle",
      message: "group 'a' cannot be a child of 'b': that makes a cycle (b → a → b)",
      line: 7,
      column: 13,
      path: "/all/children/a/children/b/children/a",
    });
    expect(only(() => yaml("a:\n  children:\n    a:\n"))).toMatchObject({ code: "inventory-cycle", line: 3, column: 5 });
    expect(only(() => yaml("a:\n  children:\n    all:\n"))).toMatchObject({
      code: "inventory-cycle",
      message: "group 'all' is the root of every inventory and cannot be a child of 'a'",
      line: 3,
      column: 5,
    });
  });

  it("rejects bad ports where the winning value was written", () => {
    for (const bad of ["0", "70000", '"22x"', "2.5", "true"]) {
      expect(only(() => yaml(`all:\n  hosts:\n    pg1:\n      ansible_port: ${bad}\n`))).toMatchObject({
        code: "inventory-bad-port",
        message: expect.stringMatching(/^host 'pg1': ansible_port must be an integer from 1 to 65535, got /),
        line: 4,
        column: 21,
        path: "/all/hosts/pg1/ansible_port",
      });
    }
    // inherited from a group: reported at the group's variable
    expect(only(() => yaml("all:\n  vars:\n    ansible_port: -1\n  hosts: { pg1: }\n"))).toMatchObject({ line: 3, column: 19, path: "/all/vars/ansible_port" });
    // from a host_vars/ file: reported inside that file
    expect(only(() => loadInventory(fixture("bad-port-host-vars/hosts.yml")))).toEqual({
      code: "inventory-bad-port",
      severity: "error",
      message: "host 'pg2': ansible_port must be an integer from 1 to 65535, got 70000",
      expected: "an integer from 1 to 65535",
      file: fixture("bad-port-host-vars/host_vars/pg2.yaml"),
      line: 2,
      column: 15,
      path: "/ansible_port",
    });
    expect(only(() => ini("pg1 ansible_port=ssh\n"))).toMatchObject({ code: "inventory-bad-port", file: "inv.ini", line: 1, column: 5, path: "/ungrouped/hosts/pg1/ansible_port" });
  });

  it("rejects an empty ansible_host", () => {
    expect(only(() => yaml('pgsql:\n  hosts:\n    pg1: { ansible_host: "" }\n'))).toMatchObject({
      code: "inventory-empty-host",
      message: "host 'pg1': ansible_host is empty, got ''",
      line: 3,
      column: 26,
    });
    expect(only(() => yaml("pgsql:\n  hosts:\n    pg1: { ansible_host: [a] }\n"))).toMatchObject({ code: "inventory-bad-var", line: 3, column: 26 });
  });

  it("rejects a non-boolean ansible_become and a non-integer priority", () => {
    expect(only(() => yaml("pgsql:\n  vars: { ansible_become: sometimes }\n  hosts: { pg1: }\n"))).toMatchObject({
      code: "inventory-bad-become",
      message: "host 'pg1': ansible_become is not a boolean, got 'sometimes'",
      line: 2,
      column: 27,
    });
    expect(only(() => yaml("pgsql:\n  vars: { ansible_group_priority: high }\n"))).toMatchObject({
      code: "inventory-bad-priority",
      line: 2,
      column: 35,
      path: "/pgsql/vars/ansible_group_priority",
    });
  });

  it("rejects a group_vars file that is not a mapping", () => {
    expect(only(() => loadInventory(fixture("bad-vars-file/hosts.yml")))).toMatchObject({
      code: "inventory-vars-not-mapping",
      message: "a variables file must be a mapping of variable names to values, not a list",
      file: fixture("bad-vars-file/group_vars/pgsql.yml"),
      line: 2,
      column: 1,
    });
  });

  it("rejects bad host patterns", () => {
    expect(only(() => yaml("pgsql:\n  hosts:\n    pg[01:3]:\n"))).toMatchObject({
      code: "inventory-bad-host-pattern",
      message: "host pattern 'pg[01:3]': a zero-padded host range needs begin and end of equal length",
      line: 3,
      column: 5,
    });
    expect(only(() => yaml("pgsql:\n  hosts:\n    'pg:':\n"))).toMatchObject({ message: "host pattern 'pg:' ends in ':', which is reserved for a port" });
    expect(only(() => ini("[pgsql]\n  pg[c:a]\n"))).toMatchObject({ message: "host pattern 'pg[c:a]': a host range must have begin <= end", line: 2, column: 3 });
    expect(only(() => ini("pg[1:x]\n"))).toMatchObject({ code: "inventory-bad-host-pattern", message: expect.stringContaining("numbers or single letters") });
  });

  it("rejects INI lines that cannot be parsed, with file:line:column", () => {
    expect(only(() => ini("[pgsql]\n[pgsql:vars]\nport 5432\n"))).toMatchObject({
      code: "inventory-ini-syntax",
      message: "expected key=value in [pgsql:vars], got 'port 5432'",
      file: "inv.ini",
      line: 3,
      column: 1,
    });
    expect(only(() => ini("[pgsql]\npg1 ansible_host=10.0.0.1 become\n"))).toMatchObject({
      code: "inventory-ini-syntax",
      message: "expected key=value host variable, got 'become'",
      line: 2,
      column: 27,
    });
    expect(only(() => ini("[pgsql]\npg1 x='unterminated\n"))).toMatchObject({ message: "cannot parse host line: no closing quotation for '", line: 2, column: 7 });
    expect(only(() => ini("[pg sql]\n"))).toMatchObject({ code: "inventory-ini-syntax", message: expect.stringContaining("invalid section header '[pg sql]'"), line: 1, column: 1 });
    expect(only(() => ini("[pgsql]\npg1\n[pgsql:children]\nbad child\n"))).toMatchObject({ message: "expected a group name in [pgsql:children], got 'bad child'", line: 4 });
    expect(only(() => ini("[pgsql:hostvars]\nx=1\n"))).toMatchObject({ code: "inventory-ini-section", message: "section [pgsql:hostvars] has unknown type 'hostvars'", line: 1, column: 8 });
  });

  it("rejects INI references to groups that are never declared, as Ansible does", () => {
    expect(only(() => ini("[pgsql:children]\nprimary\nreplicas\n\n[primary]\npg1\n"))).toMatchObject({
      code: "inventory-ini-undefined-group",
      message: "[pgsql:children] lists group 'replicas', which is never declared (add a [replicas] section)",
      line: 3,
      column: 1,
    });
    expect(only(() => ini("[pgsql]\npg1\n[ghost:vars]\nx=1\n"))).toMatchObject({
      code: "inventory-ini-undefined-group",
      message: "section [ghost:vars] is for a group that is never declared (add a [ghost] or [ghost:children] section)",
      line: 3,
    });
  });

  it("reports every problem at once, without stack traces", () => {
    let err: unknown;
    try {
      yaml("a:\n  hostz: {}\n  vars: [1]\nb: 3\n");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const e = err as InputError;
    expect(e.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ["inventory-unknown-key", 2, 3],
      ["inventory-section-not-mapping", 3, 9],
      ["inventory-group-not-mapping", 4, 4],
    ]);
    expect(e.message.split("\n")[0]).toBe("inv.yml:2:3: error[inventory-unknown-key] at /a/hostz: unknown key 'hostz' in group 'a' (expected hosts, children or vars)");
    expect(e.message).not.toMatch(/\n\s+at /);
  });

  it("rejects inventory plugin configurations and unreadable files", () => {
    expect(only(() => yaml("plugin: aws_ec2\nregions: [eu-west-1]\n"))).toMatchObject({ code: "inventory-plugin-config", line: 1, column: 1 });
    expect(only(() => loadInventory(fixture("does-not-exist.yml")))).toMatchObject({
      code: "inventory-read",
      file: fixture("does-not-exist.yml"),
      message: expect.stringContaining("cannot read inventory: ENOENT"),
    });
    expect(only(() => loadInventory(fixture("equiv")))).toMatchObject({ code: "inventory-read", message: "cannot read inventory: is a directory, not an inventory file" });
  });
});
