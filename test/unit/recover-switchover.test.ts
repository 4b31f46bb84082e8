// recover and switchover: their playbooks, and the command line that reaches them (before any host).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { loadPlaybook } from "../../src/playbook.js";

const pb = (name: string) => loadPlaybook(join(import.meta.dirname, "..", "..", "playbooks", `${name}.yml`));
const ARGS = ["-i", "inventories/sr-pgsql-2node/hosts.yml", "-s", "inventories/sr-pgsql-2node/cluster.yml"];

async function run(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await main(argv, { out: () => undefined, err: (s) => err.push(s) });
  return { code, err: err.join("\n") };
}

describe("recover.yml and switchover.yml", () => {
  it("read facts (preflight) and then run their one cluster-wide job, never a build step", () => {
    for (const [name, module] of [["recover", "pg_recover"], ["switchover", "pg_switchover"]] as const) {
      const p = pb(name);
      expect(p.tasks.map((t) => t.module)).toEqual(["preflight", module]);
      expect(p.tasks[1]!.run_once).toBe(true);
      expect(p.handlers).toEqual([]);
    }
  });
});

describe("the command line", () => {
  it("recover needs exactly one node, switchover takes none (--to names it)", async () => {
    process.env.PGHA_REPL_PASSWORD ??= "unit-test";
    expect(await run(["recover", ...ARGS])).toMatchObject({ code: 1, err: expect.stringContaining("recover needs the node: pgha recover NODE") });
    expect(await run(["recover", "pg1", "pg2", ...ARGS])).toMatchObject({ code: 1, err: expect.stringContaining("unexpected argument 'pg2'") });
    expect(await run(["switchover", "pg2", ...ARGS])).toMatchObject({ code: 1, err: expect.stringContaining("unexpected argument 'pg2'") });
  });
});
