// The pcs form of the configuration (cluster.pcs) against real tools: for every example, the script that
// `pgha render` writes, run with real pcs on a scratch CIB file, gives the CIB that crmsh builds from
// cluster.crm (the way pgha builds the desired CIB: crm -F configure load update into a CIB file).
// crm_diff compares the two after a normalisation that undoes only what carries no meaning:
//   - XML comments (crmsh keeps cluster.crm's header comments in the CIB);
//   - the order of nvpairs in a set and of ops in <operations> (pcs sorts them; Pacemaker looks nvpairs
//     up by name and ops by name, interval and role, never by position), and of a group's or clone's
//     meta_attributes among its children (pcs appends it after the members; it is read by tag);
//   - ids that nothing refers to and that pcs does not let a caller choose: rule expressions' ids
//     (crmsh writes -expression, pcs -expr) and cluster properties' nvpair ids (pcs shortens long ones);
//   - attributes pcs writes with Pacemaker's default value: rsc_order first-action/then-action="start",
//     rsc_colocation rsc-role/with-rsc-role="Started", rule boolean-op="and".
// The resources' order, every other id, value and attribute must be equal.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { applyCibPatch, cibLoader, desiredCibScript } from "../../src/cib-script.js";
import { pcsSections, pcsUnavailable, pcsWord } from "../../src/model/pcs.js";
import type { RenderedCluster } from "../../src/render.js";
import { renderExample } from "./helpers.js";
import { missingTools, run } from "./scratch-cib.js";

const NORMALIZE = `import sys, xml.etree.ElementTree as ET
cfg = ET.parse(sys.argv[1]).getroot().find("configuration")
def walk(e):
    for ch in list(e):
        if not isinstance(ch.tag, str):
            e.remove(ch)
        else:
            walk(ch)
    if e.tag in ("instance_attributes", "meta_attributes", "cluster_property_set"):
        e[:] = sorted(e, key=lambda x: x.get("name", ""))
    if e.tag == "operations":
        e[:] = sorted(e, key=lambda x: (x.get("name"), x.get("interval"), x.get("role", "")))
    if e.tag in ("group", "clone"):
        e[:] = sorted(e, key=lambda x: x.tag != "meta_attributes")
    if e.tag == "rule":
        for i, x in enumerate(e.findall("expression")):
            x.set("id", "%s-expression-%d" % (e.get("id"), i))
    if e.tag == "cluster_property_set":
        for nv in e:
            nv.set("id", "%s-%s" % (e.get("id"), nv.get("name")))
    for a, v in (("first-action", "start"), ("then-action", "start"), ("rsc-role", "Started"), ("with-rsc-role", "Started"), ("boolean-op", "and")):
        if e.get(a) == v:
            del e.attrib[a]
walk(cfg)
root = ET.Element("cib", {"admin_epoch": "0", "epoch": "0", "num_updates": "0", "validate-with": "pacemaker-3.9"})
root.append(cfg)
ET.ElementTree(root).write(sys.argv[2])
`;

const TOOLS = ["pcs", "crm", "cibadmin", "crm_diff", "python3"];
const absent = missingTools(TOOLS);
if (absent.length) console.warn(`pcs-render: skipping the real-pcs checks: missing ${absent.join(", ")} (install the Debian packages: bash test/lab/install-deps.sh)`);

/** Runs a command; resolves to its status and output, never rejects for a non-zero exit. */
function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // Asynchronous: pcs takes about a second a command, and a blocked worker loses vitest's heartbeat.
    // nice: pcs is CPU-bound, and the other test files' workers must keep their heartbeat.
    const child = spawn("nice", ["-n", "10", cmd, ...args], { env, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

/** An empty CIB file named `name`.xml in `dir`. */
function scratch(dir: string, name: string): string {
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, run("cibadmin", ["--empty"]));
  return file;
}
/** The CIB normalised as the header says, in `file`.norm.xml. */
function normalized(dir: string, file: string): string {
  const out = `${file}.norm.xml`;
  writeFileSync(join(dir, "normalize.py"), NORMALIZE);
  run("python3", [join(dir, "normalize.py"), file, out]);
  return out;
}

describe("the pcs form of the configuration", () => {
  it("quotes for sh only the words that need it", () => {
    expect(pcsWord("ip=10.117.1.100")).toBe("ip=10.117.1.100");
    expect(pcsWord("node_list=pg1 pg2")).toBe("'node_list=pg1 pg2'");
    expect(pcsWord("restore_command=cp '%f' $x")).toBe(`'restore_command=cp '\\''%f'\\'' $x'`);
    expect(pcsWord("-INFINITY")).toBe("'-INFINITY'");
  });

  it("has none for a spec with crm-only parts, and says why", () => {
    const extra = renderExample("sr-pgsql-2node", (s) => s.replace(/^pacemaker:\n/m, "pacemaker:\n  extra_crm: |\n    property batch-limit=10\n"));
    expect(extra.rendered.pcs).toEqual({ unavailable: expect.stringContaining("extra_crm") });
    const ms = renderExample("sr-pgsql-2node", (s) => s.replace(/^pacemaker:\n/m, "pacemaker:\n  syntax: ms\n"));
    expect(pcsUnavailable(ms.model.crm)).toMatch(/master resource/);
  });

  it("creates resources in crmsh's order: plain primitives, then groups, then clones", () => {
    const { model } = renderExample("sr-pgsql-2node");
    const creates = pcsSections(model.crm)
      .flatMap((s) => s.commands)
      .map((c) => /^(?:resource|stonith) create (\S+)|^resource (?:group add|clone|promotable) (\S+)/.exec(c.lines[0]!))
      .filter((m) => m)
      .map((m) => m![1] ?? `+${m![2]}`);
    expect(creates).toEqual(["fence-pg1", "fence-pg2", "vip-slave", "vip-master", "vip-rep", "+master-group", "ping", "+ping", "pgsql", "+pgsql"]);
  });

  /** Loads cluster.pcs with real pcs and cluster.crm with crmsh into scratch CIBs; they must be equal. */
  async function sameCibAsCrmsh(rendered: RenderedCluster): Promise<void> {
    if (!("script" in rendered.pcs)) throw new Error(`no pcs form: ${rendered.pcs.unavailable}`);
    const dir = mkdtempSync(join(tmpdir(), "pgha-pcs-"));
    writeFileSync(join(dir, "cluster.crm"), rendered.crm);
    writeFileSync(join(dir, "cluster.pcs"), rendered.pcs.script);
    const crmCib = scratch(dir, "crm");
    const crm = await sh("crm", ["-F", "-D", "plain", "configure", "load", "update", join(dir, "cluster.crm")], { ...process.env, CIB_file: crmCib, HOME: dir });
    expect(crm.code, crm.out).toBe(0);
    const pcsCib = scratch(dir, "pcs");
    const pcs = await sh("sh", [join(dir, "cluster.pcs")], { ...process.env, CIB: pcsCib, HOME: dir });
    expect(pcs.code, pcs.out).toBe(0);
    expect(pcs.out).not.toMatch(/Error|Deprecat/);
    const diff = await sh("crm_diff", ["--no-version", "-o", normalized(dir, crmCib), "-n", normalized(dir, pcsCib)]);
    expect(diff.out).toBe("");
    expect(diff.code).toBe(0);
    // The comparison has teeth: the CIBs as the tools wrote them do differ (order, comments, ids).
    expect((await sh("crm_diff", ["--no-version", "-o", crmCib, "-n", pcsCib])).code).not.toBe(0);
  }

  describe.skipIf(absent.length > 0).each(["sr-pgsql-2node", "paf-3node", "shared-disk-2node"])("%s with real pcs", (example) => {
    it("loads into a scratch CIB and gives the CIB crmsh builds from cluster.crm (crm_diff)", () => sameCibAsCrmsh(renderExample(example).rendered), 120_000);
  });

  it.skipIf(absent.length > 0)("keeps a fence password off every command line: cibadmin reads it from a here-document, and the CIB is crmsh's", async () => {
    const { model, rendered } = renderExample("sr-pgsql-2node", (t) =>
      t.replace(
        '{ agent: "stonith:fence_dummy", params: { type: file, status_file: /var/lib/pacemaker/fence-pg1.status, pcmk_host_list: pg1 } }',
        '{ agent: "stonith:fence_ipmilan", params: { ip: 192.0.2.11, username: admin, lanplus: 1, pcmk_host_list: pg1 }, secret_params: { password: { env: PGHA_REPL_PASSWORD } } }',
      ),
    );
    const script = "script" in rendered.pcs ? rendered.pcs.script : "";
    expect(script).toContain("cibadmin --modify --xml-pipe <<'PGHA_SECRET_PARAMS'");
    // Every line that becomes a command's arguments: the pcs commands and their continuation lines.
    const argvLines = script.split("\n").filter((l, i, all) => l.startsWith("pcs ") || all[i - 1]?.endsWith("\\"));
    expect(argvLines.length).toBeGreaterThan(10);
    for (const secret of model.secrets) for (const l of argvLines) expect(l).not.toContain(secret);
    await sameCibAsCrmsh(rendered);
  }, 120_000);
});

describe("which tool builds the desired CIB on a node", () => {
  const { rendered } = renderExample("sr-pgsql-2node");
  const has = (...programs: string[]) => (p: string) => programs.includes(p);
  it("crmsh where it is installed, else pcs with cluster.pcs", () => {
    expect(cibLoader(rendered, has("crm", "pcs"))).toEqual({ tool: "crm", input: rendered.crm });
    expect(cibLoader(rendered, has("pcs"))).toEqual({ tool: "pcs", input: "script" in rendered.pcs ? rendered.pcs.script : "" });
  });
  it("says what is missing: neither tool, or pcs only for a configuration with no pcs form", () => {
    expect(cibLoader(rendered, has())).toEqual({ problem: expect.stringMatching(/neither crmsh \(crm\) nor pcs.*RHEL 8\/9: dnf install pcs/) });
    const ms = renderExample("sr-pgsql-2node", (t) => t.replace(/^pacemaker:\n/m, "pacemaker:\n  syntax: ms\n")).rendered;
    expect(cibLoader(ms, has("pcs"))).toEqual({ problem: expect.stringMatching(/pcs and no crmsh.*master resource/) });
    expect(cibLoader(ms, has("crm", "pcs"))).toMatchObject({ tool: "crm" });
  });
});

describe.skipIf(absent.length > 0)("the desired-CIB comparison on a node with pcs and no crmsh", { timeout: 300_000 }, () => {
  const { rendered } = renderExample("sr-pgsql-2node");
  const script = "script" in rendered.pcs ? rendered.pcs.script : "";
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const compare = async (opts: { withoutPcs?: boolean; apply?: boolean } = {}) => {
    writeFileSync(join(dir, "compare.sh"), desiredCibScript({ dir: join(dir, "pgha"), tool: "pcs", then: opts.apply ? applyCibPatch(join(dir, "pgha")) : undefined }));
    writeFileSync(join(dir, "cluster.pcs"), script);
    const path = `${join(dir, opts.withoutPcs ? "nopcs" : "nocrm")}:${env.PATH}`;
    const r = await sh("sh", ["-c", `sh ${join(dir, "compare.sh")} < ${join(dir, "cluster.pcs")}`], { ...env, PATH: path });
    expect(r.code, r.out).toBe(0);
    return r.out.trim();
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "pgha-pcs-compare-"));
    // Programs that fail loudly: crmsh is never called, and pcs not when the stamp holds.
    for (const [sub, tool] of [["nocrm", "crm"], ["nopcs", "pcs"], ["nopcs", "crm"]] as const) {
      mkdirSync(join(dir, sub), { recursive: true });
      writeFileSync(join(dir, sub, tool), `#!/bin/sh\necho '${tool} was called' >&2\nexit 99\n`);
      chmodSync(join(dir, sub, tool), 0o755);
    }
    const nodes = '<nodes><node id="1" uname="pg1"/><node id="2" uname="pg2"/></nodes>';
    writeFileSync(join(dir, "cib.xml"), run("cibadmin", ["--empty"]).replace("<nodes/>", nodes));
    env = { ...process.env, CIB_file: join(dir, "cib.xml"), HOME: dir };
  });

  it("finds an empty CIB different, patches it; then a full comparison, and the stamp, find it unchanged", async () => {
    expect(await compare({ apply: true })).toMatch(/^CHANGED$/m);
    // Only the stamp stays: cluster.pcs holds the fence passwords.
    expect(readdirSync(join(dir, "pgha"))).toEqual(["cib.stamp"]);
    expect(readFileSync(join(dir, "cib.xml"), "utf8")).toContain('<op name="monitor" interval="9s" timeout="60s" on-fail="restart" role="Promoted" id="pgsql-monitor-9s"/>');
    rmSync(join(dir, "pgha", "cib.stamp"));
    expect(await compare()).toMatch(/^UNCHANGED$/m);
    expect(await compare({ withoutPcs: true })).toBe("UNCHANGED");
  });
});
