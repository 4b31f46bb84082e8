// Bad input, end to end through the CLI: every case is a small, targeted edit of a valid example, written to a
// temp dir and run through `pgha validate`. Each must fail with exit code 1 and a clear diagnostic that names
// the file, the line (and column) of the offending text, the JSON path and what was expected, without a stack
// trace and without ever printing the replication password.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import type { Diagnostic } from "../../src/diagnostics.js";

const ROOT = join(import.meta.dirname, "..", "..");
type Example = "sr-pgsql-2node" | "shared-disk-2node" | "paf-3node";
const example = (name: Example, file: "cluster.yml" | "hosts.yml") => readFileSync(join(ROOT, "inventories", name, file), "utf8");

/** The replication password (env PGHA_REPL_PASSWORD in the examples). It must never be printed. */
const PASSWORD = "Sentinel-Repl-Pw-7f3e9a";
const INLINE_PASSWORD = "Inline-Pw-Sentinel-51c2";
const ENV_KEYS = ["PGHA_REPL_PASSWORD", "PGHA_TEST_UNSET_VAR"] as const;
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "pgha-bad-input-"));
  process.env.PGHA_REPL_PASSWORD = PASSWORD;
  delete process.env.PGHA_TEST_UNSET_VAR;
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Editing helpers: each edit must apply exactly once, so a change in an example cannot silently void a case.

function replaceOnce(text: string, from: string, to: string): string {
  const n = text.split(from).length - 1;
  if (n !== 1) throw new Error(`test setup: expected exactly one '${from}' in the file, found ${n}`);
  return text.replace(from, () => to);
}

/** Several replacements, applied in order. */
const edits =
  (...pairs: [string, string][]) =>
  (text: string): string =>
    pairs.reduce((t, [from, to]) => replaceOnce(t, from, to), text);

/** 1-based line and column of the only occurrence of `marker` in `text`. */
function position(text: string, marker: string): { line: number; column: number } {
  const at = text.indexOf(marker);
  if (at < 0 || text.indexOf(marker, at + 1) >= 0) throw new Error(`test setup: marker '${marker}' must occur exactly once`);
  const before = text.slice(0, at).split("\n");
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

// ---------------------------------------------------------------------------------------------------------------
// Running the CLI.

interface Run {
  code: number;
  out: string[];
  err: string[];
  all: string;
  spec: string;
  inventory: string;
  specText: string;
  inventoryText: string;
}

let counter = 0;
async function run(opts: { base?: Example; spec?: (t: string) => string; inventory?: (t: string) => string; args?: (f: { spec: string; inventory: string }) => string[]; json?: boolean }): Promise<Run> {
  const base = opts.base ?? "sr-pgsql-2node";
  const dir = join(work, String(++counter));
  const spec = join(dir, "cluster.yml");
  const inventory = join(dir, "hosts.yml");
  const specText = (opts.spec ?? ((t) => t))(example(base, "cluster.yml"));
  const inventoryText = (opts.inventory ?? ((t) => t))(example(base, "hosts.yml"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(spec, specText);
  writeFileSync(inventory, inventoryText);
  const out: string[] = [];
  const err: string[] = [];
  const argv = opts.args ? opts.args({ spec, inventory }) : ["validate", "-i", inventory, "-s", spec, ...(opts.json ? ["--json"] : [])];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out, err, all: [...out, ...err].join("\n"), spec, inventory, specText, inventoryText };
}

/** What every run must satisfy, good or bad. */
function expectHygiene(r: Run): void {
  expect(r.all, "no stack trace").not.toMatch(/\n\s+at /);
  expect(r.all, "no stack trace").not.toMatch(/\bat .*\.(ts|js):\d+:\d+/);
  expect(r.all, "the replication password is never printed").not.toContain(PASSWORD);
  expect(r.all, "an inline password is never printed").not.toContain(INLINE_PASSWORD);
  expect(r.all, "no internal error").not.toMatch(/\[internal\]/);
}

// `file:line:col: error[code] at /path: message (expected ...)`
const DIAG_LINE = /^(?:(.+?)(?::(\d+)(?::(\d+))?)?: )?(error|warning)\[([a-z0-9-]+)\](?: at (\S+))?: (.*?)(?: \(expected (.*)\))?$/;

function parseText(lines: string[]): Diagnostic[] {
  return lines.flatMap((l) => {
    const m = DIAG_LINE.exec(l);
    if (!m) return [];
    const d: Diagnostic = { code: m[5]!, severity: m[4] as Diagnostic["severity"], message: m[7]! };
    if (m[1] !== undefined) d.file = m[1];
    if (m[2] !== undefined) d.line = Number(m[2]);
    if (m[3] !== undefined) d.column = Number(m[3]);
    if (m[6] !== undefined) d.path = m[6];
    if (m[8] !== undefined) d.expected = m[8];
    return [d];
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The cases.

interface Expectation {
  code: string;
  /** Which input the diagnostic must name. */
  file: "spec" | "inventory";
  /** The offending text: the diagnostic must point at its line (and column, when `column` is true). */
  at: string;
  column?: boolean;
  path: string;
  message: RegExp;
  /** What was expected; matched against the message and the `expected` field together. */
  expected: RegExp;
}

interface Case {
  name: string;
  base?: Example;
  spec?: (t: string) => string;
  inventory?: (t: string) => string;
  expect: Expectation;
}

const cases: Case[] = [
  // --- YAML syntax -------------------------------------------------------------------------------------------
  {
    name: "malformed YAML in the spec (unclosed flow sequence)",
    spec: edits(["pg2: { id: 2, links: [10.117.1.12, 10.117.2.12] }", "pg2: { id: 2, links: [10.117.1.12, 10.117.2.12 }"]),
    expect: { code: "yaml-syntax", file: "spec", at: "pg2: { id: 2", path: "", message: /invalid YAML/, expected: /\]|flow sequence|sequence/i },
  },
  {
    name: "malformed YAML in the spec (a tab used for indentation)",
    spec: edits(["  primary: pg1\n", "\tprimary: pg1\n"]),
    expect: { code: "yaml-syntax", file: "spec", at: "\tprimary", column: true, path: "", message: /invalid YAML/, expected: /tab/i },
  },
  {
    name: "duplicate key in the spec",
    spec: edits(["  port: 5432\n", "  port: 5432\n  port: 5433\n"]),
    expect: { code: "yaml-syntax", file: "spec", at: "port: 5433", column: true, path: "", message: /invalid YAML/, expected: /unique/i },
  },
  {
    name: "malformed YAML in the inventory (unclosed flow mapping)",
    // The '{' that is never closed is on pg2's line; the parser notices only on the next line.
    inventory: edits(["pg2: { ansible_host: 10.117.1.12 }", "pg2: { ansible_host: 10.117.1.12"]),
    expect: { code: "yaml-syntax", file: "inventory", at: "pg2: { ansible_host", path: "", message: /invalid YAML/, expected: /end with a \}/ },
  },
  {
    name: "malformed YAML in the inventory (duplicate variable)",
    inventory: edits(["    ansible_user: root\n", "    ansible_user: root\n    ansible_user: admin\n"]),
    expect: { code: "yaml-syntax", file: "inventory", at: "ansible_user: admin", column: true, path: "", message: /invalid YAML/, expected: /unique/ },
  },
  // --- document shape and schema -----------------------------------------------------------------------------
  {
    name: "spec that is a list, not a mapping",
    spec: () => "- cluster\n- corosync\n",
    expect: { code: "spec-not-mapping", file: "spec", at: "- cluster", column: true, path: "", message: /mapping/, expected: /cluster.*corosync.*postgresql/ },
  },
  {
    name: "wrong type: a node id that is not an integer",
    spec: edits(["pg2: { id: 2,", "pg2: { id: two,"]),
    expect: { code: "spec-type", file: "spec", at: "two,", column: true, path: "/cluster/nodes/members/pg2/id", message: /type/, expected: /integer/ },
  },
  {
    name: "wrong type: postgresql.port given as a string",
    spec: edits(["  port: 5432\n", '  port: "5432"\n']),
    expect: { code: "spec-type", file: "spec", at: '"5432"', column: true, path: "/postgresql/port", message: /type/, expected: /integer/ },
  },
  {
    name: "unknown top-level key, with the allowed keys listed",
    spec: edits(["\npostgresql:\n", "\npostgres_sql:\n  foo: 1\npostgresql:\n"]),
    expect: {
      code: "spec-unknown-key",
      file: "spec",
      at: "postgres_sql:",
      column: true,
      path: "/postgres_sql",
      message: /unknown key 'postgres_sql'/,
      expected: /cluster, corosync, pacemaker, postgresql, shared_disk/,
    },
  },
  {
    name: "unknown nested key (typo in totem), with the allowed keys listed",
    spec: edits(["token_retransmits_before_loss_const: 10 }", "token_retransmits_before_loss_const: 10, tokn_timeout: 5 }"]),
    expect: { code: "spec-unknown-key", file: "spec", at: "tokn_timeout", column: true, path: "/corosync/totem/tokn_timeout", message: /unknown key 'tokn_timeout'/, expected: /token.*consensus/ },
  },
  {
    name: "missing required key (postgresql.primary)",
    spec: edits(["  primary: pg1\n", ""]),
    expect: { code: "spec-missing-key", file: "spec", at: "postgresql:", path: "/postgresql", message: /missing required key 'primary'/, expected: /primary/ },
  },
  {
    name: "enum violation: topology",
    spec: edits(["topology: streaming-replication", "topology: streaming"]),
    expect: { code: "spec-enum", file: "spec", at: "streaming\n", column: true, path: "/cluster/topology", message: /not allowed/, expected: /"shared-disk", "streaming-replication"/ },
  },
  {
    name: "enum violation: postgresql.agent",
    spec: edits(["  agent: pgsql\n", "  agent: repmgr\n"]),
    expect: { code: "spec-enum", file: "spec", at: "repmgr", column: true, path: "/postgresql/agent", message: /not allowed/, expected: /"pgsql", "pgsqlms"/ },
  },
  {
    name: "bad IPv4 address in a node's links",
    spec: edits(["links: [10.117.1.12, 10.117.2.12]", "links: [10.117.1.312, 10.117.2.12]"]),
    expect: { code: "spec-format", file: "spec", at: "10.117.1.312", column: true, path: "/cluster/nodes/members/pg2/links/0", message: /ipv4/i, expected: /IPv4 address/ },
  },
  {
    name: "subnet without a prefix length",
    spec: edits(["subnet: 10.117.2.0/24", "subnet: 10.117.2.0"]),
    expect: { code: "spec-pattern", file: "spec", at: "10.117.2.0,", column: true, path: "/corosync/links/1/subnet", message: /form/, expected: /IPv4 CIDR such as/ },
  },
  {
    name: "subnet with an impossible prefix length",
    spec: edits(["subnet: 10.117.2.0/24", "subnet: 10.117.2.0/40"]),
    expect: { code: "model-bad-subnet", file: "spec", at: "10.117.2.0/40", column: true, path: "/corosync/links/1/subnet", message: /not an IPv4 subnet/, expected: /IPv4 CIDR such as/ },
  },
  {
    name: "invalid secret source (neither env, file nor a string)",
    spec: edits(["password: { env: PGHA_REPL_PASSWORD }", "password: { vault: PGHA_REPL_PASSWORD }"]),
    expect: { code: "spec-secret", file: "spec", at: "{ vault", column: true, path: "/postgresql/replication/password", message: /secret/, expected: /\{env: VAR_NAME\}.*\{file:/ },
  },
  {
    name: "unknown agent form for a fence device (no stonith: class)",
    spec: edits(['pg2: { agent: "stonith:fence_dummy"', 'pg2: { agent: "fence_dummy"']),
    // What is expected must read as an agent (an example such as stonith:fence_ipmilan), not as the raw regex.
    expect: { code: "spec-pattern", file: "spec", at: '"fence_dummy"', column: true, path: "/pacemaker/stonith/devices/pg2/agent", message: /form/, expected: /stonith:fence_\w+|ocf:\w+:\w+/ },
  },
  // --- nodes and inventory -----------------------------------------------------------------------------------
  {
    name: "duplicate node id",
    spec: edits(["pg2: { id: 2,", "pg2: { id: 1,"]),
    expect: { code: "model-duplicate-node-id", file: "spec", at: "1, links: [10.117.1.12", column: true, path: "/cluster/nodes/members/pg2/id", message: /id 1 is already used by 'pg1'/, expected: /unique/ },
  },
  {
    name: "spec node missing from the inventory",
    spec: edits(["      pg2: { id: 2,", "      pg9: { id: 2,"], ["      pg2: { agent", "      pg9: { agent"]),
    expect: { code: "model-unknown-host", file: "spec", at: "pg9: { id", column: true, path: "/cluster/nodes/members/pg9", message: /'pg9' is not a host in inventory/, expected: /hosts\.yml/ },
  },
  {
    name: "inventory group missing",
    spec: edits(["    group: pgsql\n", "    group: postgres\n"]),
    expect: { code: "model-unknown-group", file: "spec", at: "postgres\n", column: true, path: "/cluster/nodes/group", message: /no group 'postgres'/, expected: /pgsql/ },
  },
  {
    name: "spec node that is a host of the inventory but not of the node group",
    inventory: edits(["        pg2: { ansible_host: 10.117.1.12 }\n", ""], ["  vars:\n", "    other:\n      hosts:\n        pg2: { ansible_host: 10.117.1.12 }\n  vars:\n"]),
    expect: { code: "model-host-not-in-group", file: "spec", at: "pg2: { id", column: true, path: "/cluster/nodes/members/pg2", message: /'pg2' is not in inventory group 'pgsql'/, expected: /pgsql/ },
  },
  {
    name: "host of the node group with no entry under members",
    inventory: edits(["        pg2: { ansible_host: 10.117.1.12 }\n", "        pg2: { ansible_host: 10.117.1.12 }\n        pg3: { ansible_host: 10.117.1.13 }\n"]),
    expect: { code: "model-host-not-member", file: "spec", at: "members:", path: "/cluster/nodes/members", message: /host 'pg3' of group 'pgsql' has no entry/, expected: /pg3: \{id, links\}/ },
  },
  // --- addresses -------------------------------------------------------------------------------------------------
  {
    name: "node address outside its link's subnet",
    spec: edits(["links: [10.117.1.12, 10.117.2.12]", "links: [10.117.1.12, 10.117.3.12]"]),
    expect: { code: "model-address-subnet", file: "spec", at: "10.117.3.12", column: true, path: "/cluster/nodes/members/pg2/links/1", message: /10\.117\.3\.12/, expected: /10\.117\.2\.0\/24/ },
  },
  {
    name: "duplicate node address",
    spec: edits(["links: [10.117.1.12, 10.117.2.12]", "links: [10.117.1.11, 10.117.2.12]"]),
    expect: { code: "model-duplicate-address", file: "spec", at: "10.117.1.11, 10.117.2.12", column: true, path: "/cluster/nodes/members/pg2/links/0", message: /10\.117\.1\.11 is also used by pg1/, expected: /distinct address/ },
  },
  {
    name: "node with fewer link addresses than corosync.links",
    spec: edits(["links: [10.117.1.12, 10.117.2.12]", "links: [10.117.1.12]"]),
    expect: { code: "model-link-count", file: "spec", at: "[10.117.1.12]", column: true, path: "/cluster/nodes/members/pg2/links", message: /1 link address\(es\) but corosync.links has 2/, expected: /2 addresses/ },
  },
  {
    name: "VIP outside every link's subnet",
    spec: edits(["master: { ip: 10.117.1.100,", "master: { ip: 10.117.9.100,"]),
    expect: { code: "model-vip-subnet", file: "spec", at: "10.117.9.100", column: true, path: "/pacemaker/vips/master/ip", message: /not inside the subnet/, expected: /10\.117\.1\.0\/24/ },
  },
  {
    name: "VIP equal to a node address",
    spec: edits(["master: { ip: 10.117.1.100,", "master: { ip: 10.117.1.12,"]),
    expect: { code: "model-vip-node-address", file: "spec", at: "10.117.1.12, cidr", column: true, path: "/pacemaker/vips/master/ip", message: /node pg2's own address/, expected: /no node uses/ },
  },
  {
    name: "two VIPs with the same address",
    spec: edits(["readonly: { ip: 10.117.1.101,", "readonly: { ip: 10.117.1.100,"]),
    expect: { code: "model-vip-duplicate", file: "spec", at: "10.117.1.100, cidr_netmask: 24, nic: eth1 }\n  ping", column: true, path: "/pacemaker/vips/readonly/ip", message: /10\.117\.1\.100 is also the master VIP/, expected: /master/ },
  },
  // --- corosync ----------------------------------------------------------------------------------------------------
  {
    name: "several links with the udpu transport",
    spec: edits(["  transport: knet\n", "  transport: udpu\n"]),
    expect: { code: "model-links-transport", file: "spec", at: "udpu", column: true, path: "/corosync/transport", message: /several links only with knet/, expected: /knet/ },
  },
  {
    name: "consensus below 1.2 x token",
    spec: edits(["totem: { token: 3000,", "totem: { token: 3000, consensus: 3000,"]),
    expect: { code: "model-totem-consensus", file: "spec", at: "3000, token_retransmits", column: true, path: "/corosync/totem/consensus", message: /below 1\.2 x token/, expected: /at least 3600/ },
  },
  {
    name: "two_node: true with three nodes",
    base: "paf-3node",
    spec: edits(["\npacemaker:\n", "  quorum: { two_node: true }\n\npacemaker:\n"]),
    expect: { code: "model-two-node", file: "spec", at: "true }", column: true, path: "/corosync/quorum/two_node", message: /exactly 2 nodes, the cluster has 3/, expected: /2 nodes/ },
  },
  // --- PostgreSQL ------------------------------------------------------------------------------------------------
  {
    name: "node_list that does not match the nodes",
    spec: edits(["    tmpdir: /var/lib/postgresql/tmp\n", '    tmpdir: /var/lib/postgresql/tmp\n    node_list: "pg1 pg3"\n']),
    expect: { code: "model-node-list", file: "spec", at: '"pg1 pg3"', column: true, path: "/postgresql/agent_params/node_list", message: /does not match/, expected: /'pg1 pg2'/ },
  },
  {
    name: "port set under parameters",
    spec: edits(["    max_connections: 100\n", "    max_connections: 100\n    port: 5433\n"]),
    expect: { code: "model-port", file: "spec", at: "port: 5433", column: true, path: "/postgresql/parameters/port", message: /managed by pgha/, expected: /postgresql\.port/ },
  },
  {
    name: "restart_after_crash turned on",
    spec: edits(["    max_connections: 100\n", "    max_connections: 100\n    restart_after_crash: on\n"]),
    expect: { code: "model-restart-after-crash", file: "spec", at: "on\n  hba", column: true, path: "/postgresql/parameters/restart_after_crash", message: /must be off/, expected: /off/ },
  },
  {
    name: "pgsql agent in sync mode without restore_command",
    spec: edits(['    restore_command: "cp /var/lib/postgresql/15/archive/%f %p"\n', ""]),
    // The key is missing from postgresql.archive, so that is where the diagnostic should point.
    expect: { code: "model-pgsql-restore-command", file: "spec", at: "  archive:", path: "/postgresql/archive", message: /sync mode needs a restore_command/, expected: /archive\.restore_command/ },
  },
  {
    name: "pgsql agent without master_ip (no replication VIP)",
    spec: edits(["    replication: { ip: 10.117.2.100, cidr_netmask: 24, nic: eth2 }\n", ""]),
    expect: { code: "model-pgsql-master-ip", file: "spec", at: "agent: pgsql", path: "/postgresql/agent", message: /needs master_ip/, expected: /vips\.replication.*master_ip/ },
  },
  {
    name: "hba rule of type host without an address",
    spec: edits(["address: 10.117.1.0/24, method: scram-sha-256, comment", "method: scram-sha-256, comment"]),
    expect: { code: "model-hba-address", file: "spec", at: "{ type: host, database: all", column: true, path: "/postgresql/hba/0", message: /host rule needs an address/, expected: /CIDR/ },
  },
  // --- secrets ---------------------------------------------------------------------------------------------------
  {
    name: "secret from an environment variable that is not set",
    spec: edits(["password: { env: PGHA_REPL_PASSWORD }", "password: { env: PGHA_TEST_UNSET_VAR }"]),
    expect: { code: "model-secret-missing", file: "spec", at: "{ env: PGHA_TEST_UNSET_VAR }", column: true, path: "/postgresql/replication/password", message: /PGHA_TEST_UNSET_VAR is not set/, expected: /PGHA_TEST_UNSET_VAR to be set/ },
  },
  {
    name: "secret from a file that does not exist",
    spec: edits(["password: { env: PGHA_REPL_PASSWORD }", "password: { file: /nonexistent/pgha/repl.pw }"]),
    expect: { code: "model-secret-missing", file: "spec", at: "{ file: /nonexistent", column: true, path: "/postgresql/replication/password", message: /\/nonexistent\/pgha\/repl\.pw.*ENOENT/, expected: /readable file \/nonexistent\/pgha\/repl\.pw/ },
  },
  // --- STONITH ---------------------------------------------------------------------------------------------------
  {
    name: "STONITH enabled without a device for a node",
    spec: (t) => t.replace(/^ {6}pg2: \{ agent: "stonith:fence_dummy".*\n/m, ""),
    expect: { code: "model-stonith-missing-device", file: "spec", at: "devices:", path: "/pacemaker/stonith/devices", message: /no fence device for node 'pg2'/, expected: /devices\.pg2/ },
  },
  {
    name: "fence device for a node that is not in the cluster",
    spec: edits([
      "      pg2: { agent: \"stonith:fence_dummy\", params: { type: file, status_file: /var/lib/pacemaker/fence-pg2.status, pcmk_host_list: pg2 } }\n",
      "      pg2: { agent: \"stonith:fence_dummy\", params: { type: file, status_file: /var/lib/pacemaker/fence-pg2.status, pcmk_host_list: pg2 } }\n      pg3: { agent: \"stonith:fence_dummy\" }\n",
    ]),
    expect: { code: "model-stonith-unknown-node", file: "spec", at: 'pg3: { agent: "stonith', column: true, path: "/pacemaker/stonith/devices/pg3", message: /'pg3', which is not a cluster node/, expected: /pg3/ },
  },
  {
    name: "stonith-enabled set under properties",
    spec: edits(["    stonith-timeout: 120s\n", "    stonith-timeout: 120s\n    stonith-enabled: false\n"]),
    expect: { code: "model-stonith-property", file: "spec", at: "stonith-enabled: false", column: true, path: "/pacemaker/properties/stonith-enabled", message: /follows pacemaker\.stonith\.enabled/, expected: /remove/ },
  },
  // --- shared disk -----------------------------------------------------------------------------------------------
  {
    name: "shared-disk topology with a replication VIP",
    base: "shared-disk-2node",
    spec: edits(["    master: { ip: 10.117.1.100, cidr_netmask: 24, nic: eth1 }\n", "    master: { ip: 10.117.1.100, cidr_netmask: 24, nic: eth1 }\n    replication: { ip: 10.117.2.100 }\n"]),
    expect: { code: "model-shared-disk-vip", file: "spec", at: "{ ip: 10.117.2.100 }", column: true, path: "/pacemaker/vips/replication", message: /replication VIP has no meaning/, expected: /replication/ },
  },
  {
    name: "shared-disk data directory not under the shared mount point",
    base: "shared-disk-2node",
    spec: edits(["  data_directory: /var/lib/postgresql/15/shared/data\n", "  data_directory: /var/lib/postgresql/15/main\n"]),
    expect: {
      code: "model-data-not-on-shared-disk",
      file: "spec",
      at: "/var/lib/postgresql/15/main",
      column: true,
      path: "/postgresql/data_directory",
      message: /not below the shared disk's mount point \/var\/lib\/postgresql\/15\/shared/,
      expected: /\/var\/lib\/postgresql\/15\/shared\//,
    },
  },
];

describe("bad input: `pgha validate` fails with a clear, located diagnostic", () => {
  it("covers enough distinct cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const r = await run({ base: c.base, spec: c.spec, inventory: c.inventory });
    expectHygiene(r);
    expect(r.code, r.all).toBe(1);
    expect(r.out, "errors go to stderr").toEqual([]);

    const e = c.expect;
    const diags = parseText(r.err);
    expect(diags.length, `every stderr line is a diagnostic:\n${r.err.join("\n")}`).toBe(r.err.length);
    const d = diags.find((x) => x.code === e.code);
    expect(d, `a ${e.code} diagnostic in:\n${r.all}`).toBeDefined();
    const file = e.file === "spec" ? r.spec : r.inventory;
    const text = e.file === "spec" ? r.specText : r.inventoryText;
    const where = position(text, e.at);
    expect(d!.severity).toBe("error");
    expect(d!.file).toBe(file);
    expect(basename(d!.file!)).toBe(e.file === "spec" ? "cluster.yml" : "hosts.yml");
    expect({ line: d!.line, path: d!.path ?? "" }, r.all).toEqual({ line: where.line, path: e.path });
    if (e.column) expect(d!.column, r.all).toBe(where.column);
    expect(d!.message).toMatch(e.message);
    expect(`${d!.message} (expected ${d!.expected ?? ""})`, "says what was expected").toMatch(e.expected);
  });
});

describe("bad input: --json", () => {
  it("reports ok:false with structured diagnostics on stdout, nothing else", async () => {
    const r = await run({ spec: edits(["topology: streaming-replication", "topology: streaming"]), json: true });
    expectHygiene(r);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([]);
    const doc = JSON.parse(r.out.join("\n")) as { ok: boolean; diagnostics: Diagnostic[] };
    expect(doc.ok).toBe(false);
    const where = position(r.specText, "streaming\n");
    expect(doc.diagnostics).toEqual([
      {
        code: "spec-enum",
        severity: "error",
        message: expect.stringMatching(/not allowed/),
        expected: 'one of: "shared-disk", "streaming-replication"',
        file: r.spec,
        line: where.line,
        column: where.column,
        path: "/cluster/topology",
      },
    ]);
  });

  it("lists every model error at once, each with file, line, column and path", async () => {
    const r = await run({
      spec: edits(["links: [10.117.1.12, 10.117.2.12]", "links: [10.117.1.11, 10.117.3.12]"], ["password: { env: PGHA_REPL_PASSWORD }", "password: { env: PGHA_TEST_UNSET_VAR }"]),
      json: true,
    });
    expectHygiene(r);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out.join("\n")) as { ok: boolean; diagnostics: Diagnostic[] };
    expect(doc.ok).toBe(false);
    expect(doc.diagnostics.map((d) => d.code).sort()).toEqual(["model-address-subnet", "model-duplicate-address", "model-secret-missing"]);
    for (const d of doc.diagnostics) {
      expect(d).toMatchObject({ severity: "error", file: r.spec, line: expect.any(Number), column: expect.any(Number), path: expect.stringMatching(/^\//) });
    }
    const secret = doc.diagnostics.find((d) => d.code === "model-secret-missing")!;
    expect(secret.line).toBe(position(r.specText, "{ env: PGHA_TEST_UNSET_VAR }").line);
  });

  it("a usage error is JSON too", async () => {
    const r = await run({ args: ({ inventory }) => ["validate", "-i", inventory, "--json"] });
    expectHygiene(r);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out.join("\n")) as { ok: boolean; diagnostics: Diagnostic[] };
    expect(doc).toEqual({ ok: false, diagnostics: [{ code: "usage", severity: "error", message: expect.stringMatching(/-s\/--spec/) }] });
  });
});

describe("bad input: command line and files", () => {
  it("unknown command: exit 1, names the command, points at --help", async () => {
    const r = await run({ args: ({ spec, inventory }) => ["frobnicate", "-i", inventory, "-s", spec] });
    expectHygiene(r);
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toMatch(/error\[usage\]: unknown command 'frobnicate'/);
    expect(r.err.join("\n")).toMatch(/pgha --help/);
  });

  it("missing -s: exit 1, names the option", async () => {
    const r = await run({ args: ({ inventory }) => ["validate", "-i", inventory] });
    expectHygiene(r);
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toMatch(/error\[usage\]: missing -s\/--spec/);
  });

  it("unknown option: exit 1", async () => {
    const r = await run({ args: ({ spec, inventory }) => ["validate", "-i", inventory, "-s", spec, "--frobnicate"] });
    expectHygiene(r);
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toMatch(/error\[usage\]:.*frobnicate/);
  });

  it("nonexistent spec file: exit 1, names the file and the reason", async () => {
    const missing = join(tmpdir(), "pgha-no-such-dir", "cluster.yml");
    const r = await run({ args: ({ inventory }) => ["validate", "-i", inventory, "-s", missing] });
    expectHygiene(r);
    expect(r.code).toBe(1);
    const [d] = parseText(r.err);
    expect(d).toMatchObject({ code: "spec-unreadable", severity: "error", file: missing });
    expect(d!.message).toMatch(/ENOENT|no such file/);
  });

  it("nonexistent inventory file: exit 1, names the file and the reason", async () => {
    const missing = join(tmpdir(), "pgha-no-such-dir", "hosts.yml");
    const r = await run({ args: ({ spec }) => ["validate", "-i", missing, "-s", spec] });
    expectHygiene(r);
    expect(r.code).toBe(1);
    const [d] = parseText(r.err);
    expect(d).toMatchObject({ code: "inventory-read", severity: "error", file: missing });
    expect(d!.message).toMatch(/ENOENT|no such file/);
  });
});

describe("bad input: render", () => {
  it("exits 1 and writes nothing when the input is invalid", async () => {
    const out = join(work, "render-out");
    const r = await run({
      spec: edits(["master: { ip: 10.117.1.100,", "master: { ip: 10.117.9.100,"]),
      args: ({ spec, inventory }) => ["render", "-i", inventory, "-s", spec, "-o", out],
    });
    expectHygiene(r);
    expect(r.code).toBe(1);
    expect(parseText(r.err).map((d) => d.code)).toEqual(["model-vip-subnet"]);
    expect(existsSync(out)).toBe(false);
  });
});

describe("inline password: accepted with a warning, never printed", () => {
  const inline = edits(["password: { env: PGHA_REPL_PASSWORD }", `password: "${INLINE_PASSWORD}"`]);

  it("validate exits 0 and warns where the password is written", async () => {
    const r = await run({ spec: inline });
    expectHygiene(r);
    expect(r.code, r.all).toBe(0);
    const [w, ...rest] = parseText(r.err);
    expect(rest).toEqual([]);
    const where = position(r.specText, `"${INLINE_PASSWORD}"`);
    expect(w).toMatchObject({ code: "model-secret-inline", severity: "warning", file: r.spec, line: where.line, column: where.column, path: "/postgresql/replication/password" });
    expect(w!.message).toMatch(/\{env: NAME\}|\{file: PATH\}/);
    expect(r.out.join("\n")).toMatch(/1 warning/);
  });

  it("validate --json carries the warning, not the value", async () => {
    const r = await run({ spec: inline, json: true });
    expectHygiene(r);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out.join("\n")) as { ok: boolean; diagnostics: Diagnostic[] };
    expect(doc.ok).toBe(true);
    expect(doc.diagnostics.map((d) => d.code)).toEqual(["model-secret-inline"]);
  });

  it("an error elsewhere in the same spec still masks the inline password", async () => {
    const r = await run({ spec: (t) => edits(["master: { ip: 10.117.1.100,", "master: { ip: 10.117.9.100,"])(inline(t)) });
    expectHygiene(r);
    expect(r.code).toBe(1);
    expect(parseText(r.err).map((d) => d.code)).toContain("model-vip-subnet");
  });
});
