// The bundled playbooks load, name only known modules and handlers, and guard what they must.
import { execFileSync } from "node:child_process";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/diagnostics.js";
import { holds, loadPlaybook, playbookStandalone, playbookValidator } from "../../src/playbook.js";

const pb = (name: string) => loadPlaybook(join(import.meta.dirname, "..", "..", "playbooks", `${name}.yml`));

describe("bundled playbooks", () => {
  it("build.yml guards every destructive step with `when: bootstrap`", () => {
    const build = pb("build");
    const destructive = build.tasks.filter((t) => t.module === "cib_clear" || t.module === "pg_bootstrap" || (t.module === "service" && t.args.state === "stopped"));
    expect(destructive.map((t) => t.name)).toEqual(["stop pacemaker", "clear the CIB", "bootstrap the primary", "bootstrap the standbys", "stop the bootstrap primary"]);
    expect(destructive.every((t) => t.when === "bootstrap")).toBe(true);
  });

  it("reconfigure.yml never stops Pacemaker, clears the CIB or bootstraps, and restarts only on request", () => {
    const re = pb("reconfigure");
    expect(re.tasks.map((t) => t.module)).not.toContain("cib_clear");
    expect(re.tasks.map((t) => t.module)).not.toContain("pg_bootstrap");
    expect(re.tasks.filter((t) => t.module === "service")).toEqual([]);
    expect(re.tasks.find((t) => t.module === "pg_rolling_restart")?.when).toBe("rolling restart");
    expect(re.tasks.map((t) => t.name).indexOf("apply the corosync configuration")).toBeLessThan(re.tasks.map((t) => t.name).indexOf("load the crm configuration"));
  });

  it("rebuild-cib.yml loads", () => {
    expect(pb("rebuild-cib").tasks.at(-1)!.module).toBe("cib_rebuild");
  });
});

describe("when", () => {
  it("evaluates bootstrap and the operator's rolling-restart request", () => {
    const s = { bootstrap: false, rollingRestart: true };
    expect(holds(undefined, s)).toBe(true);
    expect(holds("bootstrap", s)).toBe(false);
    expect(holds("not bootstrap", s)).toBe(true);
    expect(holds("rolling restart", s)).toBe(true);
    expect(holds("rolling restart", { ...s, rollingRestart: false })).toBe(false);
  });

  it("rejects an unknown condition with its line", () => {
    const file = join(mkdtempSync(join(tmpdir(), "pgha-pb-")), "p.yml");
    writeFileSync(file, "name: x\ntasks:\n  - name: t\n    module: preflight\n    when: sometimes\n");
    expect(() => loadPlaybook(file)).toThrow(InputError);
    try {
      loadPlaybook(file);
    } catch (e) {
      const d = (e as InputError).diagnostics[0]!;
      expect(d.line).toBe(5);
      expect(d.message).toContain("rolling restart");
    }
  });

  it("reads a playbook only from a regular file: a FIFO is refused at once with its name, never waited on", () => {
    const fifo = join(mkdtempSync(join(tmpdir(), "pgha-pb-")), "p.yml");
    execFileSync("mkfifo", [fifo]);
    expect(() => loadPlaybook(fifo)).toThrow(InputError);
    try {
      loadPlaybook(fifo);
    } catch (e) {
      expect((e as InputError).diagnostics[0]).toMatchObject({ code: "playbook-unreadable", file: fifo, line: 1, message: expect.stringContaining("not a regular file") });
    }
  });
});

describe("the playbook validator built by npm run build (issue 16)", () => {
  const dir = mkdtempSync(join(tmpdir(), "pgha-playbook-validator-"));
  symlinkSync(join(import.meta.dirname, "..", "..", "node_modules"), join(dir, "node_modules")); // its ajv runtime helpers, as from dist/
  const built = join(dir, "playbook.validate.cjs");
  writeFileSync(built, playbookStandalone());
  const cases: unknown[] = [
    { name: "ok", tasks: [{ name: "t", module: "files", hosts: "primary", run_once: true, when: "bootstrap", notify: ["h"] }], handlers: [{ name: "h", module: "pg_reload" }] },
    { name: "x", tasks: [{ name: "", module: "nope", hosts: "some", run_once: "yes", when: "always", extra: 1 }] },
    { tasks: "no", handlers: [{}] },
    { name: 1, tasks: [], other: true },
  ];

  it("is used, and judges every case as the schema compiled at run time does, with the same errors", () => {
    const standalone = playbookValidator(built);
    const compiled = playbookValidator(join(dir, "missing.cjs"));
    expect(standalone).not.toBe(compiled);
    expect((standalone as unknown as { schemaSha256: string }).schemaSha256).toMatch(/^[0-9a-f]{64}$/);
    for (const c of cases) {
      expect(standalone(c)).toBe(compiled(c));
      expect(standalone.errors ?? null).toEqual(compiled.errors ?? null);
    }
    expect(standalone(cases[0])).toBe(true);
    expect(standalone(cases[1])).toBe(false);
  });

  it("is not used when it was built from another schema", () => {
    const stale = join(dir, "stale.cjs");
    writeFileSync(stale, playbookStandalone().replace(/schemaSha256 = "[0-9a-f]+"/, 'schemaSha256 = "0"'));
    expect((playbookValidator(stale) as unknown as { schemaSha256?: string }).schemaSha256).toBeUndefined();
  });
});
