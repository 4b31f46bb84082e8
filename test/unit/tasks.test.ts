// Task modules against a local stand-in host: commands run in a real shell, with a fake systemctl whose
// state lives in files, so the modules' decisions and their shell are both exercised without a cluster.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseFacts } from "../../src/facts.js";
import type { FileChange } from "../../src/plan.js";
import { MODULE_IMPLS, versionProblems, writeFileCommand, type HostCtx, type RunCtx } from "../../src/tasks.js";
import type { Connection } from "../../src/transport.js";
import { renderExample } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "pgha-tasks-"));
const bin = join(root, "bin");
mkdirSync(bin);
writeFileSync(
  join(bin, "systemctl"),
  `#!/bin/sh\n# fake: state files under ${root}/units\nmkdir -p ${root}/units\ncase "$1" in\n  is-active) [ "$2" = --quiet ] && shift; test -f ${root}/units/$2 ;;\n  start|restart) touch ${root}/units/$2; echo "$1 $2" >> ${root}/units.log ;;\n  stop) rm -f ${root}/units/$2; echo "stop $2" >> ${root}/units.log ;;\n  enable|disable) echo "$*" >> ${root}/units.log ;;\nesac\n`,
);
chmodSync(join(bin, "systemctl"), 0o755);

function host(name: string): HostCtx {
  const conn: Connection = {
    node: name,
    exec: async (command, o) => {
      const r = spawnSync("sh", ["-c", command], { input: o?.stdin, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    close: () => undefined,
  };
  const { model } = renderExample("sr-pgsql-2node");
  return { node: model.nodes.find((n) => n.name === name)!, conn, facts: parseFacts("") };
}

function ctx(check = false): RunCtx {
  const { model, rendered } = renderExample("sr-pgsql-2node");
  return { model, rendered, hosts: [host("pg1"), host("pg2")], check, trace: () => undefined, pollSeconds: 0 };
}

const unitsLog = () => (existsSync(join(root, "units.log")) ? readFileSync(join(root, "units.log"), "utf8") : "");

describe("service", () => {
  it("starts only what is stopped, and says so", async () => {
    const c = ctx();
    expect(await MODULE_IMPLS.service(c, c.hosts[0]!, { name: "pacemaker", state: "started" })).toEqual({ changed: true, msg: "started: pacemaker" });
    expect(await MODULE_IMPLS.service(c, c.hosts[0]!, { name: "pacemaker", state: "started" })).toEqual({ changed: false, msg: undefined });
    expect(await MODULE_IMPLS.service(c, c.hosts[0]!, { name: ["pacemaker", "corosync"], state: "stopped" })).toMatchObject({ changed: true, msg: "stopped: pacemaker" });
    expect(unitsLog().trim().split("\n")).toEqual(["start pacemaker", "stop pacemaker"]);
  });

  it("in check mode reports and does nothing", async () => {
    const c = ctx(true);
    expect((await MODULE_IMPLS.service(c, c.hosts[0]!, { name: "corosync", state: "restarted" })).changed).toBe(true);
    expect(unitsLog()).not.toMatch(/corosync/);
  });
});

describe("cluster_boot", () => {
  const enabled = (state: string) => parseFacts(`ENABLED\tcorosync\t${state}\nENABLED\tpacemaker\t${state}\n`);

  it("disables corosync and Pacemaker at boot by default, in one command, and leaves disabled ones alone", async () => {
    const c = ctx();
    const before = unitsLog();
    c.hosts[0]!.facts = enabled("enabled");
    expect(await MODULE_IMPLS.cluster_boot(c, c.hosts[0]!, {})).toEqual({ changed: true, msg: "disable at boot: corosync, pacemaker" });
    expect(unitsLog().slice(before.length)).toBe("disable corosync pacemaker\n");
    c.hosts[0]!.facts = enabled("disabled");
    expect(await MODULE_IMPLS.cluster_boot(c, c.hosts[0]!, {})).toEqual({ changed: false });
  });

  it("enables them with start_on_boot: true, and only reports in check mode", async () => {
    const c = ctx(true);
    c.model.startOnBoot = true;
    const before = unitsLog();
    expect(await MODULE_IMPLS.cluster_boot(c, c.hosts[0]!, {})).toEqual({ changed: true, msg: "enable at boot: corosync, pacemaker" });
    expect(unitsLog()).toBe(before);
  });
});

describe("cib_clear", () => {
  it("refuses while Pacemaker runs on any node", async () => {
    const c = ctx();
    writeFileSync(join(root, "units", "pacemaker"), "");
    await expect(MODULE_IMPLS.cib_clear(c, c.hosts[1]!, {})).rejects.toThrow(/refusing to clear the CIB: Pacemaker is still running on pg1, pg2/);
    execFileSync("rm", ["-f", join(root, "units", "pacemaker")]);
  });
});

describe("command", () => {
  const marker = join(root, "marker");
  it("runs once with creates, and never in check mode", async () => {
    const cmd = { cmd: `echo ran >> ${marker}.log && touch ${marker}`, creates: marker };
    expect((await MODULE_IMPLS.command(ctx(true), host("pg1"), cmd)).changed).toBe(true);
    expect(existsSync(marker)).toBe(false);
    expect((await MODULE_IMPLS.command(ctx(), host("pg1"), cmd)).changed).toBe(true);
    expect(await MODULE_IMPLS.command(ctx(), host("pg1"), cmd)).toEqual({ changed: false, msg: `${marker} exists` });
    expect(readFileSync(`${marker}.log`, "utf8")).toBe("ran\n");
  });

  it("changed_when: false for read-only commands, and failures name the exit code and stderr", async () => {
    expect((await MODULE_IMPLS.command(ctx(), host("pg1"), { cmd: "true", changed_when: false })).changed).toBe(false);
    await expect(MODULE_IMPLS.command(ctx(), host("pg2"), { cmd: "echo broken >&2; exit 3" })).rejects.toThrow(/exit 3: broken/);
  });
});

describe("file writes", () => {
  const me = userInfo().username;
  const group = execFileSync("id", ["-gn"]).toString().trim();
  const change = (path: string, content: string, action: FileChange["action"] = "update"): FileChange => ({ node: "pg1", path, action, content, owner: me, group, mode: "0600", secret: false, reasons: [] });
  const backups = join(root, "backup");

  it("replaces atomically with owner and mode, and keeps the old file's copy in the root-only backup directory", async () => {
    const path = join(root, "etc", "app.conf");
    const h = host("pg1");
    expect((await h.conn.exec(writeFileCommand(change(path, "one\n"), backups), { stdin: "one\n" })).code).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("one\n");
    expect((statSync(path).mode & 0o777).toString(8)).toBe("600");
    expect((await h.conn.exec(writeFileCommand(change(path, "two\n"), backups), { stdin: "two\n" })).code).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("two\n");
    expect(readFileSync(join(backups, path), "utf8")).toBe("one\n");
    expect((statSync(backups).mode & 0o777).toString(8)).toBe("700");
    expect(execFileSync("ls", [join(root, "etc")]).toString().trim().split("\n")).toEqual(["app.conf"]);
  });

  it("repairs only attributes when the content is right", async () => {
    const path = join(root, "etc", "app.conf");
    chmodSync(path, 0o644);
    expect((await host("pg1").conn.exec(writeFileCommand(change(path, "", "attributes")))).code).toBe(0);
    expect(readFileSync(path, "utf8")).toBe("two\n");
    expect((statSync(path).mode & 0o777).toString(8)).toBe("600");
  });
});

describe("preflight versions", () => {
  const { model } = renderExample("sr-pgsql-2node");
  const facts = (over: Partial<ReturnType<typeof parseFacts>>) => ({
    ...parseFacts("VERSION\tpacemaker\tPacemaker 2.1.5\nVERSION\tcorosync\tCorosync Cluster Engine, version '3.1.7'\nVERSION\tpostgres\tpostgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n"),
    ...over,
  });

  it("accepts Debian 12's versions once ocf_promotion_score is fixed", () => {
    expect(versionProblems(model, facts({}))).toEqual([]);
  });

  it("names Pacemaker 2.1.5's -v -INFINITY defect for the pgsql agent (not for PAF)", () => {
    const [p] = versionProblems(model, facts({ promotionScoreUnpatched: true }));
    expect(p).toMatch(/Pacemaker 2\.1\.5's crm_attribute reads '-v -INFINITY' as options.*Pacemaker 2\.1\.6\+ or resource-agents 4\.13\+/);
    expect(versionProblems(renderExample("paf-3node").model, facts({ promotionScoreUnpatched: true }))).toEqual([]);
    expect(versionProblems(model, facts({ promotionScoreUnpatched: true, versions: { pacemaker: "Pacemaker 2.1.6", corosync: "Corosync Cluster Engine, version '3.1.7'", postgres: "postgres (PostgreSQL) 15.4" } }))).toEqual([]);
  });

  it("refuses Pacemaker 1.1, corosync 2 and another PostgreSQL major", () => {
    expect(versionProblems(model, facts({ versions: { pacemaker: "Pacemaker 1.1.24", corosync: "Corosync Cluster Engine, version '2.4.5'", postgres: "postgres (PostgreSQL) 13.9" } }))).toEqual([
      "Pacemaker 2.0 or later is needed (found: Pacemaker 1.1.24)",
      "corosync 3 is needed (found: Corosync Cluster Engine, version '2.4.5')",
      "PostgreSQL 15 is needed in /usr/lib/postgresql/15/bin (found: postgres (PostgreSQL) 13.9)",
    ]);
  });
});
