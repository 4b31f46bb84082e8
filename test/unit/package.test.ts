// pgha as users get it: `npm pack` (which builds), `npm install -g` of the tarball into a scratch prefix
// (dependencies from the npm cache or registry), then the installed `pgha` run from a directory outside the
// checkout, against the examples it carries. Also: --json output, read through a pipe, is JSON and only JSON.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const ENV = { ...process.env, PGHA_REPL_PASSWORD: "package-Test-pw", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };

let work: string;
let files: string[];
let pkg: string; // the installed package
let cwd: string; // outside the checkout

function sh(cmd: string, args: string[], dir = cwd, env: NodeJS.ProcessEnv = ENV) {
  const r = spawnSync(cmd, args, { cwd: dir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, shown: `${cmd} ${args.join(" ")}: exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}` };
}
const pgha = (...args: string[]) => sh(join(work, "prefix", "bin", "pgha"), args);
const example = (name: string) => ["-i", join(pkg, "inventories", name, "hosts.yml"), "-s", join(pkg, "inventories", name, "cluster.yml")];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "pgha-package-"));
  const pack = sh("npm", ["pack", "--json", "--pack-destination", work], ROOT);
  if (pack.code !== 0) throw new Error(pack.shown);
  const [{ filename, files: packed }] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as [{ filename: string; files: { path: string }[] }];
  files = packed.map((f) => f.path);
  const install = sh("npm", ["install", "-g", "--prefix", join(work, "prefix"), "--prefer-offline", join(work, filename)], work);
  if (install.code !== 0) throw new Error(install.shown);
  pkg = join(work, "prefix", "lib", "node_modules", "pgha");
  cwd = join(work, "elsewhere");
  mkdirSync(cwd);
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("holds the built code, templates, playbooks, schema, standalone validator and examples", () => {
    for (const f of ["bin/pgha.js", "dist/cli.js", "dist/init.js", "templates/cluster.crm.hbs", "playbooks/build.yml", "playbooks/reconfigure.yml", "playbooks/rebuild-cib.yml", "schema/pgha-spec.schema.json", "schema/pgha-spec.validate.cjs", "inventories/sr-pgsql-2node/cluster.yml", "inventories/paf-3node/hosts.yml"]) {
      expect(files).toContain(f);
    }
  });

  it("holds no sources, tests, fixtures or benchmark data", () => {
    expect(files.filter((f) => /^(src|test|bench|\.ci)\//.test(f) || f.endsWith(".map") || f.endsWith(".ts"))).toEqual([]);
  });

  it("pgha --version and -V print package.json's version", () => {
    for (const flag of ["--version", "-V"]) {
      const r = pgha(flag);
      expect(r.code, r.shown).toBe(0);
      expect(r.stdout).toBe(`${VERSION}\n`);
    }
  });

  it("pgha --help", () => {
    const r = pgha("--help");
    expect(r.code, r.shown).toBe(0);
    expect(r.stdout).toMatch(/^Usage: pgha <command>/);
    expect(r.stdout).toMatch(/^ {2}init /m);
  });

  it("pgha validate on a bundled example", () => {
    const r = pgha("validate", ...example("sr-pgsql-2node"));
    expect(r.code, r.shown).toBe(0);
    expect(r.stdout).toBe("ok: cluster pgcluster (streaming-replication, 2 nodes, pgsql): inventory and spec are valid\n");
  });

  it("pgha render on a bundled example, with the installed templates", () => {
    const r = pgha("render", ...example("paf-3node"), "-o", "out");
    expect(r.code, r.shown).toBe(0);
    expect(readFileSync(join(cwd, "out", "cluster.crm"), "utf8")).toContain("primitive pgsql ocf:heartbeat:pgsqlms");
    expect(existsSync(join(cwd, "out", "pg3", "etc", "corosync", "corosync.conf"))).toBe(true);
  });

  it("the examples' $schema line, and the one pgha init writes, point at the installed schema; pgha schema prints it", () => {
    const schema = readFileSync(join(pkg, "schema", "pgha-spec.schema.json"), "utf8");
    const line = readFileSync(join(pkg, "inventories", "sr-pgsql-2node", "cluster.yml"), "utf8").split("\n")[0]!;
    expect(readFileSync(join(pkg, "inventories", "sr-pgsql-2node", line.replace("# yaml-language-server: $schema=", "")), "utf8")).toBe(schema);
    const init = pgha("init", "-i", join(pkg, "inventories", "sr-pgsql-2node", "hosts.yml"));
    expect(init.code, init.shown).toBe(0);
    expect(init.stdout.split("\n")[0]).toBe(`# yaml-language-server: $schema=${join(pkg, "schema", "pgha-spec.schema.json")}`);
    const printed = pgha("schema");
    expect(printed.code, printed.shown).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(JSON.parse(schema));
  });
});

describe("--json through a pipe: stdout is one JSON document, messages go to stderr", () => {
  /** The sr-pgsql-2node example with hosts that refuse SSH at once, and a spec that draws a warning. */
  function unreachable(): string[] {
    const dir = join(work, "unreachable");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "hosts.yml"), "all:\n  children:\n    pgsql:\n      hosts:\n        pg1: { ansible_host: 127.0.0.1, ansible_port: 1 }\n        pg2: { ansible_host: 127.0.0.1, ansible_port: 1 }\n");
    const spec = readFileSync(join(pkg, "inventories", "sr-pgsql-2node", "cluster.yml"), "utf8").replace(/hosts: \[10\.117\.1\.1, 10\.117\.1\.2\]/, "hosts: [10.117.1.1]");
    writeFileSync(join(dir, "cluster.yml"), spec);
    return ["-i", join(dir, "hosts.yml"), "-s", join(dir, "cluster.yml")];
  }
  const json = (r: ReturnType<typeof sh>) => {
    expect(() => JSON.parse(r.stdout), r.shown).not.toThrow();
    return JSON.parse(r.stdout) as { ok: boolean; diagnostics?: { code: string }[] };
  };

  it("validate: the warnings are in the JSON, stderr stays empty", () => {
    const r = pgha("validate", ...unreachable(), "--json");
    expect(r.code, r.shown).toBe(0);
    expect(json(r)).toMatchObject({ ok: true, diagnostics: [{ code: "model-ping-single-target" }] });
    expect(r.stderr).toBe("");
  });

  it("validate without --json: the warning on stderr, the result on stdout", () => {
    const r = pgha("validate", ...unreachable());
    expect(r.code, r.shown).toBe(0);
    expect(r.stdout).toMatch(/^ok: cluster pgcluster .*1 warning\(s\)\n$/);
    expect(r.stderr).toMatch(/warning\[model-ping-single-target\]/);
  });

  it("render", () => {
    const r = pgha("render", ...example("shared-disk-2node"), "-o", "json-out", "--json");
    expect(r.code, r.shown).toBe(0);
    expect(json(r)).toMatchObject({ ok: true, diagnostics: [] });
    expect(r.stderr).toBe("");
  });

  it("a bad spec: the errors, as JSON", () => {
    const r = pgha("validate", "-i", join(pkg, "inventories", "sr-pgsql-2node", "hosts.yml"), "-s", join(pkg, "package.json"), "--json");
    expect(r.code).toBe(1);
    expect(json(r).ok).toBe(false);
  });

  // status, diff and apply need their hosts (the e2e tests run them on the lab); here the hosts refuse
  // the connection, which they report as JSON, with the spec's warnings on stderr.
  it.each(["status", "diff", "apply", "apply --check"])("%s: the unreachable hosts, as JSON", (cmd) => {
    const r = pgha(...cmd.split(" "), ...unreachable(), "--json");
    expect(r.code, r.shown).toBe(1);
    expect(json(r)).toMatchObject({ ok: false, diagnostics: [{ code: "transport" }] });
  });
});
