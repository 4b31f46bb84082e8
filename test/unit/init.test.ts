// pgha init for each topology and agent: the written spec fails validation only on its placeholders,
// each named at its own line; filled in, it validates without a warning, renders, and its cluster.crm
// loads into real crmsh.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import type { Diagnostic, InputError } from "../../src/diagnostics.js";
import { initSpec } from "../../src/init.js";
import { parseInventory } from "../../src/inventory.js";
import { parseSpec } from "../../src/spec.js";
import { ROOT } from "./helpers.js";
import { missingTools, scratchCib } from "./scratch-cib.js";

const CASES = [
  { topology: "streaming-replication", agent: "pgsql", example: "sr-pgsql-2node" },
  { topology: "streaming-replication", agent: "pgsqlms", example: "paf-3node" },
  { topology: "shared-disk", agent: "pgsql", example: "shared-disk-2node" },
] as const;

// What a user would write for each placeholder, on the lab's networks (link 0 10.117.1.0/24, link 1 10.117.2.0/24).
const FILLS: [RegExp, string | ((m: string, ...groups: string[]) => string)][] = [
  [/"<FILL: pg(\d)'s address on link 1>"/g, (_m, n) => `10.117.2.1${n}`],
  [/"<FILL: the NIC of link 0 [^"]*>"/g, "eth1"],
  [/"<FILL: the NIC of link 1[^"]*>"/g, "eth2"],
  [/"<FILL: link 0's subnet[^"]*>"/g, "10.117.1.0/24"],
  [/"<FILL: link 1's subnet[^"]*>"/g, "10.117.2.0/24"],
  [/"<FILL: the fence agent[^"]*>"/g, '"stonith:fence_ipmilan"'],
  [/"<FILL: pg(\d)'s BMC address>"/g, (_m, n) => `192.168.100.1${n}`],
  [/"<FILL: pg\d's BMC user>"/g, "admin"],
  [/"<FILL: the (master|service) VIP[^"]*>"/g, "10.117.1.100"],
  [/"<FILL: the replication VIP[^"]*>"/g, "10.117.2.100"],
  [/"<FILL: a gateway[^"]*>"/g, "10.117.1.1"],
  [/"<FILL: a second target[^"]*>"/g, "10.117.1.2"],
  [/"<FILL: your applications' network[^"]*>"/g, "10.117.1.0/24"],
  [/"<FILL: the shared block device[^"]*>"/g, "/dev/pgha-shared"],
];
const fillIn = (text: string) => FILLS.reduce((t, [re, v]) => t.replace(re, v as string), text);

const SECRETS = { PGHA_REPL_PASSWORD: "init-Test-pw", PGHA_FENCE_PG1_PASSWORD: "bmc1", PGHA_FENCE_PG2_PASSWORD: "bmc2", PGHA_FENCE_PG3_PASSWORD: "bmc3" };
const saved = Object.fromEntries(Object.keys(SECRETS).map((k) => [k, process.env[k]]));
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "pgha-init-"));
  Object.assign(process.env, SECRETS);
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  rmSync(work, { recursive: true, force: true });
});

async function pgha(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** Line numbers of the placeholders in the spec text (comments left out). */
const placeholderLines = (text: string) => text.split("\n").flatMap((l, i) => [...l.replace(/#.*$/, "").matchAll(/"<FILL: /g)].map(() => i + 1));

const missingCrm = missingTools(["crm", "cibadmin"]);

describe.each(CASES)("pgha init --topology $topology --agent $agent", ({ topology, agent, example }) => {
  const hosts = join(ROOT, "inventories", example, "hosts.yml");
  const spec = () => join(work, `${example}.yml`);
  const filled = () => join(work, `${example}-filled.yml`);

  it("writes a spec with the inventory's nodes, link 0 addresses and the installed schema", async () => {
    const r = await pgha("init", "-i", hosts, "--topology", topology, "--agent", agent, "-o", spec());
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`wrote ${spec()}`);
    const text = readFileSync(spec(), "utf8");
    const schema = /^# yaml-language-server: \$schema=(.*)$/m.exec(text.split("\n")[0]!)?.[1];
    expect(schema).toBe(join(ROOT, "schema", "pgha-spec.schema.json"));
    expect(existsSync(schema!)).toBe(true);
    expect(text).toMatch(/pg1: +\{ id: 1, links: \[10\.117\.1\.11, "<FILL: pg1's address on link 1>"\] \}/);
    expect(text).toContain(`topology: ${topology}`);
    expect(text).toContain(`agent: ${agent}`);
  });

  it("validate reports the placeholders and nothing else, each at its line", async () => {
    const text = readFileSync(spec(), "utf8");
    const r = await pgha("validate", "-i", hosts, "-s", spec(), "--json");
    expect(r.code).toBe(1);
    const { ok, diagnostics } = JSON.parse(r.out) as { ok: boolean; diagnostics: Diagnostic[] };
    expect(ok).toBe(false);
    expect(diagnostics.length).toBeGreaterThan(10);
    expect(diagnostics.map((d) => d.code)).toEqual(diagnostics.map(() => "placeholder"));
    expect(diagnostics.map((d) => d.line)).toEqual(placeholderLines(text));
    for (const d of diagnostics) expect(text.split("\n")[d.line! - 1]!.slice(d.column! - 1)).toMatch(new RegExp(`^"<FILL: ${d.message.replace(/^still to fill: /, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}>"`));
    // The text form names file, line, column and JSON path.
    const plain = await pgha("validate", "-i", hosts, "-s", spec());
    expect(plain.err).toMatch(new RegExp(`${example}\\.yml:\\d+:\\d+: error\\[placeholder\\] at /pacemaker/vips/master/ip: still to fill: `));
  });

  it("filled in, validates without warnings and renders", async () => {
    const text = fillIn(readFileSync(spec(), "utf8"));
    expect(placeholderLines(text)).toEqual([]);
    writeFileSync(filled(), text);
    const v = await pgha("validate", "-i", hosts, "-s", filled(), "--json");
    expect(v.code, v.out).toBe(0);
    expect(JSON.parse(v.out)).toMatchObject({ ok: true, diagnostics: [] });
    const r = await pgha("render", "-i", hosts, "-s", filled(), "-o", join(work, example));
    expect(r.code, r.err).toBe(0);
  });

  it.skipIf(missingCrm.length > 0)("the rendered cluster.crm loads into real crmsh without errors or warnings", () => {
    const crm = readFileSync(join(work, example, "cluster.crm"), "utf8");
    const nodes = Object.fromEntries(["pg1", "pg2", ...(example === "paf-3node" ? ["pg3"] : [])].map((n) => [n, {}]));
    const { file, load } = scratchCib(crm, nodes);
    expect(load).not.toMatch(/ERROR|WARNING/);
    expect(readFileSync(file, "utf8")).toContain('<primitive id="fence-pg1" class="stonith" type="fence_ipmilan">');
  });
});

describe("pgha init refuses", () => {
  const hosts = join(ROOT, "inventories", "sr-pgsql-2node", "hosts.yml");

  it("PAF on a shared disk", async () => {
    const r = await pgha("init", "-i", hosts, "--topology", "shared-disk", "--agent", "pgsqlms");
    expect(r.code).toBe(1);
    expect(r.err).toContain("error[init]: the shared-disk topology runs ocf:heartbeat:pgsql (expected --agent pgsql)");
  });

  it("an unknown topology", async () => {
    const r = await pgha("init", "-i", hosts, "--topology", "ring");
    expect(r.code).toBe(1);
    expect(r.err).toContain("error[usage]: --topology takes streaming-replication or shared-disk");
  });

  it("to overwrite a file", async () => {
    const file = join(work, "existing.yml");
    writeFileSync(file, "# mine\n");
    const r = await pgha("init", "-i", hosts, "-o", file);
    expect(r.code).toBe(1);
    expect(r.err).toContain("the file exists (pgha init never overwrites one)");
    expect(readFileSync(file, "utf8")).toBe("# mine\n");
  });

  it("without -o, prints the spec on stdout", async () => {
    const r = await pgha("init", "-i", hosts, "--agent", "pgsqlms");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^# yaml-language-server: \$schema=/);
    expect(r.out).toContain("agent: pgsqlms");
  });
});

describe("initSpec picks the cluster's group", () => {
  const inv = parseInventory("all:\n  children:\n    db:\n      hosts: { a1: { ansible_host: 10.0.0.1 }, a2: { ansible_host: db2.example } }\n    web:\n      hosts: { w1: {}, w2: {} }\n", "hosts.yml");
  const init = (group?: string) => initSpec({ inventory: inv, topology: "streaming-replication", agent: "pgsql", group, schemaPath: "/s.json", inventoryPath: "hosts.yml" });

  it("asks which one when several groups could be the cluster", () => {
    expect(() => init()).toThrow(/several groups that could be the cluster: db, web \(expected --group NAME\)/);
  });

  it("takes the one named, and asks for an address where ansible_host is a name", () => {
    const text = init("db");
    expect(text).toContain("    group: db\n");
    expect(text).toMatch(/a1: \{ id: 1, links: \[10\.0\.0\.1, "<FILL: a1's address on link 1>"\] \}/);
    expect(text).toMatch(/a2: \{ id: 2, links: \["<FILL: a2's address on link 0 \(its ansible_host db2\.example is not an IPv4 address\)>", /);
    expect(text).toContain("secret_params: { password: { env: PGHA_FENCE_A2_PASSWORD } }");
  });

  it("refuses a group that is not in the inventory", () => {
    expect(() => init("nope")).toThrow(/inventory hosts\.yml has no group 'nope'/);
  });
});

describe("placeholders beside other errors", () => {
  it("the schema's errors elsewhere are reported too, and none about a placeholder's own value", async () => {
    const spec = (await pgha("init", "-i", join(ROOT, "inventories", "sr-pgsql-2node", "hosts.yml"))).out.replace("priority: 1 }", "priority: high }");
    let diagnostics: Diagnostic[] = [];
    try {
      parseSpec(spec, "cluster.yml");
    } catch (e) {
      diagnostics = (e as InputError).diagnostics;
    }
    expect(diagnostics.filter((d) => d.code !== "placeholder")).toEqual([expect.objectContaining({ code: "spec-type", path: "/corosync/links/0/priority" })]);
    expect(diagnostics.filter((d) => d.code === "placeholder")).toHaveLength(placeholderLines(spec).length);
  });
});
