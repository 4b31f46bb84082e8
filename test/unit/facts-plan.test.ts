// Facts are gathered by a generated shell script; run it for real against scratch files, then plan.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { factsScript, parseFacts } from "../../src/facts.js";
import { PGSQL_AGENT_LINES } from "../../src/model/build.js";
import { planFile, sha256 } from "../../src/plan.js";
import type { RenderedFile } from "../../src/render.js";
import { renderExample } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "pgha-facts-"));
const me = userInfo().username;
const group = execFileSync("id", ["-gn"]).toString().trim();

function rendered(path: string, content: string, agentLines?: RegExp): RenderedFile {
  return { node: "pg1", path, content, owner: me, group, mode: "0640", secret: false, agentLines };
}

function gather(files: RenderedFile[]) {
  const { model } = renderExample("sr-pgsql-2node");
  const out = execFileSync("sh", ["-s"], { input: factsScript(model, files.map((f) => ({ ...f, template: "", view: {} })), [], join(dir, "state")) }).toString();
  return parseFacts(out);
}

describe("facts script + plan", () => {
  const conf = join(dir, "postgresql.conf");
  const included = join(dir, "rep_mode.conf");
  const body = "port = 5432\nhot_standby = on\n";
  const file = rendered(conf, body, PGSQL_AGENT_LINES);

  it("reports a missing file as create", () => {
    const facts = gather([rendered(join(dir, "absent.conf"), "x\n")]);
    expect(facts.files[join(dir, "absent.conf")]).toEqual({ exists: false, agentLines: [] });
    expect(planFile(rendered(join(dir, "absent.conf"), "x\n"), facts).action).toBe("create");
  });

  it("sees no change when only the pgsql agent's include lines were added, and keeps them", () => {
    writeFileSync(included, "synchronous_standby_names = ''\n");
    const agentLine = `include '${included}' # added by pgsql RA`;
    writeFileSync(conf, body + agentLine + "\n");
    chmodSync(conf, 0o640);
    const facts = gather([file]);
    expect(facts.files[conf]).toMatchObject({ exists: true, sha256: sha256(body), mode: "0640", owner: me });
    expect(facts.files[conf]!.agentLines).toEqual([{ line: agentLine, targetExists: true }]);
    const change = planFile(file, facts);
    expect(change.action).toBe("none");
    expect(change.content).toBe(body + agentLine + "\n");
  });

  it("drops an agent include whose target is gone, so a reload cannot fail on it", () => {
    const dangling = `include '${join(dir, "gone.conf")}' # added by pgsql RA`;
    writeFileSync(conf, body + dangling + "\n");
    const change = planFile(file, gather([file]));
    expect(change.action).toBe("update");
    expect(change.content).toBe(body);
    expect(change.reasons.join()).toMatch(/missing files/);
  });

  it("updates changed content and repairs mode drift separately", () => {
    writeFileSync(conf, "port = 5433\n");
    expect(planFile(file, gather([file])).action).toBe("update");
    writeFileSync(conf, body);
    chmodSync(conf, 0o644);
    const change = planFile(file, gather([file]));
    expect(change.action).toBe("attributes");
    expect(change.reasons).toEqual(["mode 0644 -> 0640"]);
  });

  it("reads services, interfaces, addresses and the data directory state", () => {
    const facts = gather([]);
    expect(facts.hostname).toBe(execFileSync("uname", ["-n"]).toString().trim());
    expect(facts.interfaces).toContain("lo");
    expect(facts.addresses).toContain("127.0.0.1");
    expect(["active", "inactive"]).toContain(facts.services.pacemaker);
    expect(["missing", "empty", "initialized"]).toContain(facts.dataDirectory);
  });

  it("caches the binaries' versions in its state directory, and only there", () => {
    const state = join(dir, "state");
    rmSync(state, { recursive: true, force: true });
    const first = gather([]).versions;
    expect(existsSync(join(state, "versions.cache")), "no state directory, no cache").toBe(false);
    mkdirSync(state);
    expect(gather([]).versions).toEqual(first);
    const cache = readFileSync(join(state, "versions.cache"), "utf8").split("\n");
    expect(cache.slice(1).filter((l) => l.startsWith("VERSION"))).toEqual(Object.entries(first).map(([k, v]) => `VERSION\t${k}\t${v}`));
    // A cached answer is served as long as the binaries are the same ones.
    writeFileSync(join(state, "versions.cache"), [cache[0], "VERSION\tpacemaker\tcached", ...cache.slice(2)].join("\n"));
    expect(gather([]).versions.pacemaker).toBe("cached");
  });

  it("tells from stat, sha256sum and /proc what corosync runs with", () => {
    const conf = "/etc/corosync/corosync.conf";
    const at = (mtime: number, start?: [number, number], applied = "aa") =>
      parseFacts(
        [`STAT\t${conf}\tregular file\troot\troot\t0644\t${mtime}`, `HASH\t${conf}\taa`, `HASH\t/var/lib/pgha/corosync.conf.applied\t${applied}`, ...(start ? [`BOOT\t${start[0]}`, `COROSYNC_START\t${start[1]}`] : [])].join("\n"),
      );
    // Booted at 1000, corosync started 250 ticks (2.5 s) later: after a write at 1001, not after one at 1002.
    expect(at(1001, [1000, 250]).corosyncRunsFile).toBe(true);
    expect(at(1002, [1000, 250]).corosyncRunsFile).toBe(false);
    expect(at(1001).corosyncRunsFile, "corosync not running").toBe(false);
    expect(at(1001).corosyncRecorded).toBe(true);
    expect(at(1001, undefined, "bb").corosyncRecorded).toBe(false);
    expect(at(1001).files[conf]).toMatchObject({ exists: true, sha256: "aa", mode: "0644" });
    expect(at(1001).files["/var/lib/pgha/corosync.conf.applied"], "pgha's copy is not a managed file").toBeUndefined();
  });

  it("reports managed directories with their owner and mode, and missing ones", () => {
    const { model } = renderExample("sr-pgsql-2node");
    const sub = join(dir, "sub");
    mkdirSync(sub, { recursive: true });
    chmodSync(sub, 0o750);
    const dirs = [sub, join(dir, "nowhere")].map((path) => ({ path, owner: me, group, mode: "0750" }));
    const facts = parseFacts(execFileSync("sh", ["-s"], { input: factsScript(model, [], dirs, join(dir, "state")) }).toString());
    expect(facts.directories).toEqual({ [sub]: { owner: me, group, mode: "0750" }, [join(dir, "nowhere")]: undefined });
  });
});
