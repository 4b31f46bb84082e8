#!/usr/bin/env node
// `npm run bench` (issue 6): pgha against Ansible on the same lab hosts, and how pgha's cost grows with the
// number of nodes. Run after `npm run build`; imports only from dist/ and runs bin/pgha.js.
//
//   node bench/run.mjs [--nodes 2,3,5] [--samples 5] [--changed-samples 3] [--ansible-nodes 3] [--render-only] [--keep-lab]
//                      [--only noop] [--append] [--compare NAME=DIR]...
//
// --only noop: per size only the lab, the initial build and the no-op samples (pgha apply, diff and status
// against the physical limit, bench/physical-limit.sh), no Ansible or one-file-changed runs: a part that
// fits in one short hold of the lab lock. Run it once per size with --append to collect 2, 3 and 5 nodes:
//   flock -o /tmp/pgha-lab.lock node bench/run.mjs --only noop --nodes 2
//   flock -o /tmp/pgha-lab.lock node bench/run.mjs --only noop --nodes 3 --append   (and so on)
// --compare NAME=DIR: also time DIR/bin/pgha.js (another build of pgha, e.g. the commit before a change)
// in the same samples, alternating with this one: what a change bought, measured in one run.
//
// For every node count N: generate an inventory and a PAF spec for pg1..pgN (from inventories/paf-3node),
// time render/validate without the lab, bring the lab up with N fresh hosts, time the initial build
// (wall against pgha's own CPU, per phase), then no-op apply, diff, one-file-changed apply, and Ansible's
// no-op and one-file-changed runs of the same rendered file set (bench/ansible/push.yml), with and without
// facts. pgha and Ansible samples alternate, so drift in the machine's load hits both alike. Results go to
// bench/results.json and docs/benchmarks.md after every measurement (a partial run leaves partial results);
// the lab is brought down at the end.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import YAML from "yaml";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");
const LAB_SH = join(ROOT, "test", "lab", "lab.sh");
const LAB_INVENTORY = "/var/lib/pgha-lab/inventory.yml";
const PLAYBOOK = join(ROOT, "bench", "ansible", "push.yml");
const PHYSICAL_LIMIT = join(ROOT, "bench", "physical-limit.sh");
const LAB_KEY = "/var/lib/pgha-lab/id_ed25519";
const LAB_KNOWN_HOSTS = "/var/lib/pgha-lab/known_hosts";
const RESULTS = join(ROOT, "bench", "results.json");
const DOC = join(ROOT, "docs", "benchmarks.md");
const TEMPLATE_EXAMPLE = join(ROOT, "inventories", "paf-3node");

const { values: argv } = parseArgs({
  options: {
    nodes: { type: "string", default: "2,3,5" },
    samples: { type: "string", default: "5" },
    "changed-samples": { type: "string", default: "3" },
    "render-samples": { type: "string", default: "20" },
    "render-only": { type: "boolean", default: false },
    // Only these parts of a size's lab run: noop (the physical limit, pgha's no-op apply, diff, status).
    only: { type: "string" },
    compare: { type: "string", multiple: true, default: [] },
    "keep-lab": { type: "boolean", default: false },
    // Second run to complete a first one cut short: skip Ansible, keep the other sizes' results.
    "no-ansible": { type: "boolean", default: false },
    // Time Ansible at these sizes only (it is the slow part of a run); default: every size.
    "ansible-nodes": { type: "string" },
    append: { type: "boolean", default: false },
    // Rewrite docs/benchmarks.md (ratios, analysis) from bench/results.json without measuring.
    regenerate: { type: "boolean", default: false },
  },
});
const SIZES = argv.nodes.split(",").map(Number);
const SAMPLES = Number(argv.samples);
const CHANGED_SAMPLES = Number(argv["changed-samples"]);
const RENDER_SAMPLES = Number(argv["render-samples"]);
const ONLY = argv.only?.split(",");
/** Other builds of pgha timed alongside this one: name -> its bin/pgha.js. */
const COMPARE = Object.fromEntries(argv.compare.map((c) => [c.slice(0, c.indexOf("=")), join(c.slice(c.indexOf("=") + 1), "bin", "pgha.js")]));
if (ONLY && !ONLY.every((p) => p === "noop")) throw new Error(`--only takes noop, not ${argv.only}`);

const ENV = { ...process.env, PGHA_REPL_PASSWORD: process.env.PGHA_REPL_PASSWORD || "bench-Repl-pw", CI: "true" };
delete ENV.ANSIBLE_GATHERING;

const log = (s) => process.stderr.write(`bench: ${s}\n`);

// ------------------------------------------------------------------------------------------ statistics

function stats(xs) {
  const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return undefined;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median: round(median), min: round(v[0]), max: round(v.at(-1)), n: v.length };
}
const round = (x, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

/** A measurement: every sample, and median/min/max of wall and CPU time. */
function measurement(what, method, samples) {
  return {
    what,
    method,
    samples,
    wall_s: stats(samples.map((s) => s.wall_s)),
    cpu_s: stats(samples.map((s) => s.cpu_s)),
  };
}

// ------------------------------------------------------------------------------------------ processes

/**
 * Runs CMD under /usr/bin/time (user+sys CPU of the process and the children it waited for), with our own
 * monotonic wall clock, and every output line stamped with its arrival time (ms since spawn).
 */
function runTimed(cmd, args, { env = ENV, timeoutMs = 900_000 } = {}) {
  const tfile = join(tmpdir(), `pgha-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn("/usr/bin/time", ["-f", "%e %U %S", "-o", tfile, cmd, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    const lines = [];
    const partial = { out: "", err: "" };
    const feed = (stream) => (chunk) => {
      const t = performance.now() - t0;
      const text = partial[stream] + chunk.toString();
      const parts = text.split("\n");
      partial[stream] = parts.pop();
      for (const p of parts) lines.push({ t_ms: round(t, 1), stream, text: p });
    };
    child.stdout.on("data", feed("out"));
    child.stderr.on("data", feed("err"));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      const wall = (performance.now() - t0) / 1000;
      for (const s of ["out", "err"]) if (partial[s]) lines.push({ t_ms: round(wall * 1000, 1), stream: s, text: partial[s] });
      let user, sys;
      try {
        const last = readFileSync(tfile, "utf8").trim().split("\n").at(-1).split(" ");
        user = Number(last[1]);
        sys = Number(last[2]);
        rmSync(tfile, { force: true });
      } catch {
        /* time(1) did not write: killed */
      }
      resolve({
        code: code ?? -1,
        wall_s: round(wall),
        user_s: user,
        sys_s: sys,
        cpu_s: user === undefined ? undefined : round(user + sys),
        lines,
        stdout: lines.filter((l) => l.stream === "out").map((l) => l.text).join("\n"),
        stderr: lines.filter((l) => l.stream === "err").map((l) => l.text).join("\n"),
      });
    });
  });
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, env: ENV, encoding: "utf8", timeout: opts.timeoutMs ?? 300_000 });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${(r.stderr || r.stdout || "").trim().split("\n").slice(-10).join("\n")}`);
  return (r.stdout ?? "").trim();
}
const firstLine = (cmd, args) => {
  try {
    return sh(cmd, args, { allowFail: true }).split("\n")[0] || undefined;
  } catch {
    return undefined;
  }
};

const lab = (...args) => sh("bash", [LAB_SH, ...args], { timeoutMs: 600_000 });

// ------------------------------------------------------------------------------------------ inputs

const shq = (x) => `'${x.replace(/'/g, "'\\''")}'`;
const addr = (i, link) => `10.117.${link}.${10 + i}`;

/** Inventory + PAF spec for pg1..pgN, derived from inventories/paf-3node. */
function generateInputs(dir, n) {
  mkdirSync(dir, { recursive: true });
  const names = Array.from({ length: n }, (_, i) => `pg${i + 1}`);
  const inv = {
    all: {
      children: { pgsql: { hosts: Object.fromEntries(names.map((h, i) => [h, { ansible_host: addr(i + 1, 1) }])) } },
      vars: YAML.parse(readFileSync(join(TEMPLATE_EXAMPLE, "hosts.yml"), "utf8")).all.vars,
    },
  };
  const spec = YAML.parse(readFileSync(join(TEMPLATE_EXAMPLE, "cluster.yml"), "utf8"));
  spec.cluster.name = `pgbench${n}`;
  spec.cluster.nodes.members = Object.fromEntries(names.map((h, i) => [h, { id: i + 1, links: [addr(i + 1, 1), addr(i + 1, 2)] }]));
  spec.pacemaker.stonith.devices = Object.fromEntries(
    names.map((h) => [h, { agent: "stonith:fence_dummy", params: { type: "file", status_file: `/var/lib/pacemaker/fence-${h}.status`, pcmk_host_list: h } }]),
  );
  spec.postgresql.parameters.synchronous_standby_names = `ANY 1 (${names.join(", ")})`;
  writeFileSync(join(dir, "hosts.yml"), YAML.stringify(inv));
  writeFileSync(join(dir, "cluster.yml"), YAML.stringify(spec));
  return { inventory: join(dir, "hosts.yml"), spec: join(dir, "cluster.yml"), names, addresses: names.map((_, i) => addr(i + 1, 1)) };
}

// ------------------------------------------------------------------------------------------ pgha in-process

const dist = async (m) => import(join(DIST, m));
const { loadSpec } = await dist("spec.js");
const { loadInventory } = await dist("inventory.js");
const { buildModel } = await dist("model/build.js");
const { loadTemplates, renderCluster } = await dist("render.js");
const { secretResolver } = await dist("secrets.js");
const { desiredCibScript } = await dist("cib-script.js");
const desiredScript = desiredCibScript({ keepMoveConstraints: true }) + "\nrm -f /var/lib/pgha/cluster.crm.new";

/** What the CLI's load() does: spec + inventory -> model -> rendered files (templates compiled afresh). */
function loadAndRender(input) {
  const model = buildModel({ spec: loadSpec(input.spec), inventory: loadInventory(input.inventory), resolveSecret: secretResolver(ENV) });
  return { model, rendered: renderCluster(model, loadTemplates()) };
}

function timeInProcess(input, count) {
  const one = () => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    loadAndRender(input);
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    return { wall_s: round(wall, 6), cpu_s: round((c.user + c.system) / 1e6, 6) };
  };
  const cold = one();
  const warm = Array.from({ length: count }, one);
  return { cold, warm };
}

// ------------------------------------------------------------------------------------------ output parsing

const LISTR = /^(❯|✔|↓|✖)\s+\[\d\d:\d\d:\d\d\]\s+(.*)$/;

/** Top-level task durations from apply's plain lines, stamped on arrival: a task runs from its header (❯) to the line before the next header. */
function phases(run, taskNames) {
  const out = [];
  let open;
  let last;
  const close = () => {
    if (open) out.push({ phase: open.phase, s: round((last.t_ms - open.start) / 1000, 3) });
    open = undefined;
  };
  for (const l of run.lines) {
    const m = LISTR.exec(l.text);
    if (!m) continue;
    if (m[1] === "❯" || m[1] === "↓") {
      close();
      const name = m[2].replace(/ \(skipped\)$/, "");
      if (taskNames.includes(name)) {
        if (m[1] === "↓") out.push({ phase: name, s: 0, skipped: true });
        else open = { phase: name, start: l.t_ms };
      }
    }
    last = l;
  }
  close();
  const listr = run.lines.filter((l) => LISTR.test(l.text));
  if (listr.length) {
    out.unshift({ phase: "(start: node, load, connect, facts)", s: round(listr[0].t_ms / 1000, 3) });
    out.push({ phase: "(after the tasks: status table, exit)", s: round(run.wall_s - listr.at(-1).t_ms / 1000, 3) });
  }
  return out;
}

/** `pgN: $ cmd` trace lines of `pgha apply -v`, per host. */
function pghaRoundTrips(run, names) {
  const per = Object.fromEntries(names.map((n) => [n, 0]));
  for (const l of run.lines) {
    const m = /^(pg\d): \$ /.exec(l.text);
    if (m && m[1] in per) per[m[1]]++;
  }
  return per;
}

/** `<addr> SSH: EXEC` lines of ansible-playbook -vvv (one ssh/sftp/scp invocation each), per host. */
function ansibleRoundTrips(run, names) {
  const per = Object.fromEntries(names.map((n) => [n, 0]));
  for (const l of run.lines) {
    const m = /^<(10\.117\.1\.1(\d))> SSH: EXEC/.exec(l.text);
    if (m && `pg${m[2]}` in per) per[`pg${m[2]}`]++;
  }
  return per;
}

function recap(run) {
  const hosts = {};
  for (const l of run.lines) {
    const m = /^(pg\d)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(l.text);
    if (m) hosts[m[1]] = { ok: +m[2], changed: +m[3], unreachable: +m[4], failed: +m[5] };
  }
  return hosts;
}

const pghaSummary = (run) => run.stdout.split("\n").filter((l) => /^(ok: nothing|\d+ task\(s\) changed|no differences|\d+ difference)/.test(l)).join("; ");

// ------------------------------------------------------------------------------------------ results

const results = {
  generated_by: "bench/run.mjs (npm run bench)",
  started: new Date().toISOString(),
  finished: undefined,
  complete: false,
  machine: {},
  setup: {},
  sizes: {},
  ratios: {},
};

function machine() {
  const cpuModel = readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m)?.[1];
  const pgBin = "/usr/lib/postgresql/15/bin/postgres";
  return {
    nproc: Number(sh("nproc", [])),
    cpu_model: cpuModel,
    cpus_seen_by_node: cpus().length,
    memory_bytes: totalmem(),
    memory_gib: round(totalmem() / 2 ** 30, 1),
    kernel: sh("uname", ["-r"]),
    os: readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1],
    node: process.version,
    ansible: firstLine("ansible-playbook", ["--version"]),
    ansible_python: sh("ansible-playbook", ["--version"], { allowFail: true }).match(/python version = (\S+)/)?.[1],
    pacemaker: firstLine("pacemakerd", ["--version"]),
    corosync: firstLine("corosync", ["-v"]),
    crmsh: firstLine("crm", ["--version"]),
    postgres: existsSync(pgBin) ? firstLine(pgBin, ["--version"]) : firstLine("postgres", ["--version"]),
    pgha_commit: firstLine("git", ["rev-parse", "--short", "HEAD"]),
    pgha_worktree_dirty: sh("git", ["status", "--porcelain", "--", "src", "templates", "playbooks"], { allowFail: true }) !== "",
    date: new Date().toISOString(),
  };
}

function save() {
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + "\n");
  mkdirSync(dirname(DOC), { recursive: true });
  writeFileSync(DOC, markdown(results));
}

// ------------------------------------------------------------------------------------------ the run

async function renderMeasurements(size, input, renderDir) {
  const r = {};
  const ip = timeInProcess(input, RENDER_SAMPLES);
  r.render_in_process = { ...measurement("validate + render in-process (loadSpec, loadInventory, buildModel, renderCluster), warm", `in-process, ${RENDER_SAMPLES} samples after 1 cold`, ip.warm), cold: ip.cold };
  const cli = async (args) => {
    const samples = [];
    for (let i = 0; i < SAMPLES; i++) {
      const run = await runTimed("node", ["bin/pgha.js", ...args]);
      if (run.code !== 0) throw new Error(`pgha ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
      samples.push({ wall_s: run.wall_s, cpu_s: run.cpu_s, user_s: run.user_s, sys_s: run.sys_s });
    }
    return samples;
  };
  const I = ["-i", input.inventory, "-s", input.spec];
  r.validate_cli = measurement("node bin/pgha.js validate (whole process: node start, load, validate)", "CLI under /usr/bin/time", await cli(["validate", ...I]));
  r.render_cli = measurement("node bin/pgha.js render -o DIR (whole process)", "CLI under /usr/bin/time", await cli(["render", ...I, "-o", renderDir]));
  return r;
}

async function pghaRun(args, env) {
  const run = await runTimed("node", ["bin/pgha.js", ...args], { env });
  return run;
}

const sample = (run, extra = {}) => ({ wall_s: run.wall_s, cpu_s: run.cpu_s, user_s: run.user_s, sys_s: run.sys_s, exit: run.code, ...extra });

async function changeFileOnEveryNode(names, path, tag) {
  for (const n of names) lab("exec", n, "sh", "-c", `echo '# bench: changed behind the back of pgha (${tag})' >> ${path}`);
}

/**
 * The no-op samples, alternating so that drift in the machine's load hits all alike: the physical limit
 * (bench/physical-limit.sh), pgha apply, diff and status, then (unless skipped) Ansible with and without
 * facts. pgha's ratio to the physical limit comes from these samples only.
 */
async function noopSamples(S, n, input, files, I, taskNames, peer) {
  const physicalArgs = (out) => [PHYSICAL_LIMIT, "-k", LAB_KEY, "-K", LAB_KNOWN_HOSTS, ...(out ? ["-O", out] : []), "-f", files.map((f) => f.path).join(" "), ...input.addresses];
  {
    // Once, untimed: the script reads what it must on every host (a hash and a stat per file, both services, the CIB's digest).
    const out = join(tmpdir(), `pgha-bench-physical-${process.pid}`);
    mkdirSync(out, { recursive: true });
    const run = await runTimed("bash", physicalArgs(out));
    if (run.code !== 0) throw new Error(`physical-limit.sh exited ${run.code}: ${run.stderr}`);
    for (const a of input.addresses) {
      const text = readFileSync(join(out, a), "utf8");
      const hashes = text.match(/^[0-9a-f]{64}  \//gm)?.length ?? 0;
      const active = text.match(/^active$/gm)?.length ?? 0;
      if (hashes !== files.length || active !== 2 || !/^[0-9a-f]{64}  -$/m.test(text)) throw new Error(`physical-limit.sh on ${a} did not read everything:\n${text}`);
    }
    rmSync(out, { recursive: true, force: true });
  }
  log(`${n} nodes: no-op (${SAMPLES} x physical limit, pgha apply, diff, status${peer ? ", Ansible, Ansible without facts" : ""})`);
  const x = { physical: [], apply: [], applyPhases: [], diff: [], status: [], af: [], an: [] };
  const other = Object.fromEntries(Object.keys(COMPARE).map((k) => [k, { apply: [], diff: [], status: [] }]));
  for (let i = 0; i < SAMPLES; i++) {
    const ph = await runTimed("bash", physicalArgs());
    if (ph.code !== 0) throw new Error(`physical-limit.sh exited ${ph.code}: ${ph.stderr}`);
    x.physical.push(sample(ph));
    for (const [name, bin] of Object.entries(COMPARE)) {
      for (const cmd of ["apply", "diff", "status"]) {
        const r = await runTimed("node", [bin, cmd, ...I]);
        if (r.code !== 0) throw new Error(`${name}: pgha ${cmd} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
        other[name][cmd].push(sample(r));
      }
    }
    const p = await pghaRun(["apply", ...I]);
    if (p.code !== 0) throw new Error(`pgha no-op apply exited ${p.code}:\n${p.stdout}\n${p.stderr}`);
    const notNoop = !/ok: nothing changed/.test(p.stdout);
    if (notNoop) log(`WARNING: pgha no-op apply changed something: ${pghaSummary(p)}`);
    x.apply.push(sample(p, { summary: pghaSummary(p), ...(notNoop ? { not_a_noop: true } : {}) }));
    x.applyPhases.push(phases(p, taskNames));
    const d = await pghaRun(["diff", ...I]);
    if (d.code !== 0) throw new Error(`pgha diff found drift or failed (exit ${d.code}):\n${d.stdout}\n${d.stderr}`);
    x.diff.push(sample(d, { summary: pghaSummary(d) }));
    const st = await pghaRun(["status", ...I]);
    if (st.code !== 0 || !/quorate/.test(st.stdout)) throw new Error(`pgha status failed (exit ${st.code}):\n${st.stdout}\n${st.stderr}`);
    x.status.push(sample(st));
    if (!peer) continue;
    const a = peer.check(await peer.ansible(true), "ansible no-op");
    x.af.push(sample(a, { recap: recap(a) }));
    const b = peer.check(await peer.ansible(false), "ansible no-op (no facts)");
    x.an.push(sample(b, { recap: recap(b) }));
  }
  // Where a no-op's time goes, step by step in one process (bench/noop-profile.mjs); a failure here is recorded, not fatal.
  {
    const runs = [];
    for (let i = 0; i < SAMPLES; i++) {
      const r = await runTimed("node", [join(ROOT, "bench", "noop-profile.mjs"), ...I]);
      if (r.code !== 0) {
        S.noop_profile = { error: r.stderr.slice(-2000) };
        break;
      }
      runs.push(JSON.parse(r.stdout.trim().split("\n").at(-1)));
    }
    if (runs.length) S.noop_profile = { what: "bench/noop-profile.mjs: ms per step of a no-op in one process (Node's start-up not included), median", steps: Object.fromEntries(Object.keys(runs[0]).map((k) => [k, stats(runs.map((x) => x[k])).median])), samples: runs };
  }
  S.physical_limit = measurement(
    "physical limit: bench/physical-limit.sh (one OpenSSH connection per host, all hosts in parallel, one command each: sha256sum and stat of the managed files, systemctl is-active corosync pacemaker, cibadmin -Q | sha256sum)",
    "script under /usr/bin/time",
    x.physical,
  );
  S.noop_apply = { ...measurement("no-op apply: node bin/pgha.js apply on the built cluster", "CLI under /usr/bin/time", x.apply), phases_per_sample: x.applyPhases };
  S.diff = measurement("diff with nothing changed: node bin/pgha.js diff", "CLI under /usr/bin/time", x.diff);
  S.status = measurement("node bin/pgha.js status on the built cluster", "CLI under /usr/bin/time", x.status);
  if (Object.keys(COMPARE).length) {
    S.compare = Object.fromEntries(
      Object.entries(other).map(([name, o]) => [
        name,
        {
          bin: COMPARE[name],
          noop_apply: measurement(`${name}: no-op apply`, "CLI under /usr/bin/time, alternating with this build", o.apply),
          diff: measurement(`${name}: diff with nothing changed`, "CLI under /usr/bin/time, alternating with this build", o.diff),
          status: measurement(`${name}: status`, "CLI under /usr/bin/time, alternating with this build", o.status),
        },
      ]),
    );
  }
  if (peer) S.ansible_noop = measurement("Ansible no-op: ansible-playbook push.yml, facts gathered (default)", "ansible-playbook under /usr/bin/time (CPU: controller incl. forks)", x.af);
  if (peer) S.ansible_noop_no_facts = measurement("Ansible no-op: ANSIBLE_GATHERING=explicit (no facts)", "ansible-playbook under /usr/bin/time", x.an);
  save();
}

async function benchSize(n, work, phase) {
  const S = (results.sizes[n] ??= {});
  const input = generateInputs(join(work, `n${n}`), n);
  const renderDir = join(work, `n${n}`, "rendered");
  S.inputs = { inventory: input.inventory, spec: input.spec, nodes: input.names };
  S.run_started = results.started;
  if (phase === "render") {
    log(`${n} nodes: render/validate`);
    Object.assign(S, await renderMeasurements(n, input, renderDir));
    save();
    return;
  }

  // Ansible's source tree: exactly what `pgha render -o DIR` writes.
  rmSync(renderDir, { recursive: true, force: true });
  sh("node", ["bin/pgha.js", "render", "-i", input.inventory, "-s", input.spec, "-o", renderDir]);
  const { model, rendered } = loadAndRender(input);
  const pg = model.postgresql;
  const hba = `${pg.configDirectory}/pg_hba.conf`;
  const files = model.files[input.names[0]].map((f) => ({ path: f.path, owner: f.owner, group: f.group, mode: f.mode, secret: f.secret }));
  for (const nn of input.names) {
    const other = JSON.stringify(model.files[nn].map((f) => [f.path, f.owner, f.group, f.mode]));
    if (other !== JSON.stringify(files.map((f) => [f.path, f.owner, f.group, f.mode]))) throw new Error(`file set differs on ${nn}`);
  }
  const varsFile = join(work, `n${n}`, "ansible-vars.json");
  writeFileSync(
    varsFile,
    JSON.stringify({
      render_dir: renderDir,
      pgha_files: files,
      pg: { bindir: pg.bindir, data_directory: pg.dataDirectory, socket_directory: pg.socketDirectory, port: pg.port, os_user: pg.osUser, pgpass: `${pg.home}/.pgpass` },
    }),
  );
  S.file_set = { per_node: files, files_per_node: files.length, rendered_files: rendered.files.length };

  log(`${n} nodes: lab up`);
  const t0 = performance.now();
  lab("up", "--nodes", String(n));
  S.lab_up_s = round((performance.now() - t0) / 1000, 2);
  const labInv = readFileSync(LAB_INVENTORY, "utf8");
  if (!input.names.every((h) => labInv.includes(`${h}:`))) throw new Error(`lab inventory lacks some of ${input.names.join(", ")}`);

  const I = ["-i", input.inventory, "-s", input.spec];
  // The phases of a build (build.yml) and of a no-op (reconfigure.yml).
  const taskNames = [...new Set(["build", "reconfigure"].flatMap((p) => YAML.parse(readFileSync(join(ROOT, "playbooks", `${p}.yml`), "utf8")).tasks.map((t) => t.name))), "handlers"];

  // Initial build.
  log(`${n} nodes: initial build`);
  const build = await pghaRun(["apply", ...I]);
  if (build.code !== 0) {
    S.initial_build = { error: build.stdout + build.stderr };
    save();
    throw new Error(`initial build on ${n} nodes failed (exit ${build.code}):\n${build.stdout}\n${build.stderr}`);
  }
  S.initial_build = {
    ...measurement("initial build: node bin/pgha.js apply on fresh lab hosts", "CLI under /usr/bin/time; 1 run (fresh hosts each)", [sample(build, { summary: pghaSummary(build) })]),
    pgha_cpu_share: round(build.cpu_s / build.wall_s),
    waiting_s: round(build.wall_s - build.cpu_s, 2),
    phases: phases(build, taskNames),
    output: build.lines.map((l) => `${(l.t_ms / 1000).toFixed(3).padStart(8)} ${l.stream} ${l.text}`),
  };
  save();

  // Ansible's first run (files already in place after the build: a no-op), also warms its ControlMaster
  // sockets like the repeated runs of an operator; and pgha's verbose no-op for the round-trip count.
  const ansible = (gather, extra = []) =>
    runTimed("ansible-playbook", ["-i", LAB_INVENTORY, PLAYBOOK, "-e", `@${varsFile}`, ...extra], {
      env: gather ? { ...ENV } : { ...ENV, ANSIBLE_GATHERING: "explicit" },
    });
  const check = (run, what) => {
    if (run.code !== 0) throw new Error(`${what} exited ${run.code}:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`);
    return run;
  };
  const NA = ONLY !== undefined || argv["no-ansible"] || (argv["ansible-nodes"] !== undefined && !argv["ansible-nodes"].split(",").map(Number).includes(n));
  const skipped = { code: 0, lines: [], stdout: "", stderr: "" };
  if (!ONLY) {
    // Not in --only runs: Ansible's warm-up and the round-trip counts.
    log(`${n} nodes: warm-up and round-trip counts`);
    const aWarm = NA ? skipped : check(await ansible(true), "ansible warm-up");
    if (!NA) S.ansible_first_run = { wall_s: aWarm.wall_s, cpu_s: aWarm.cpu_s, recap: recap(aWarm) };
    const vrun = check(await pghaRun(["apply", ...I, "-v"]), "pgha apply -v");
    const avrun = NA ? skipped : check(await ansible(true, ["-vvv"]), "ansible -vvv");
    const avrunNoFacts = NA ? skipped : check(await ansible(false, ["-vvv"]), "ansible -vvv (no facts)");
    S.round_trips = {
      ...(NA ? { ansible: "not measured in this run (--no-ansible)" } : {}),
      note:
        "pgha: `$ ` trace lines of apply -v per host, plus 1 facts command per host and the status table after apply (crm_mon with the constraints on the first node, psql on the primary), which -v does not trace; Ansible: `SSH: EXEC` lines of -vvv per host (each is one ssh/sftp invocation over its ControlMaster socket)",
      pgha_noop_traced: pghaRoundTrips(vrun, input.names),
      pgha_noop_wall_s_verbose: vrun.wall_s,
      ansible_noop_facts: NA ? undefined : ansibleRoundTrips(avrun, input.names),
      ansible_noop_no_facts: NA ? undefined : ansibleRoundTrips(avrunNoFacts, input.names),
      pgha_noop_verbose_commands: vrun.lines.filter((l) => /^pg\d: \$ /.test(l.text)).map((l) => `${(l.t_ms / 1000).toFixed(3)} ${l.text.slice(0, 160)}`),
    };
    save();
  }

  await noopSamples(S, n, input, files, I, taskNames, NA ? undefined : { ansible, check });
  if (ONLY) return;

  // How much of the machine the idle cluster itself keeps busy (corosync, Pacemaker's monitors,
  // PostgreSQL on every lab host): pgha and every host's sshd share what is left.
  {
    const ticks = () => {
      const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
      return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
    };
    const a = ticks();
    await new Promise((r) => setTimeout(r, 20_000));
    const b = ticks();
    S.background_cpus = { busy_cpus: round((1 - (b.idle - a.idle) / (b.total - a.total)) * results.machine.nproc, 2), window_s: 20, note: "CPUs busy on the whole machine while the built cluster idles (from /proc/stat)" };
    save();
  }

  // What single remote commands cost on a lab host (run inside pg1, no SSH): the floor under the phases.
  {
    const cmds = {
      "true": "true",
      "crm_mon -1 --output-as=xml": "crm_mon -1 --output-as=xml",
      "cibadmin -Q": "cibadmin -Q",
      "python3 -c pass": "python3 -c pass",
      "crm --version (crmsh start-up)": "crm --version",
      "desired CIB script (crm_load's remote step)": `cat /var/lib/pgha/cluster.crm | sh -c ${shq(desiredScript)}`,
      "psql SELECT 1 as postgres": `runuser -u ${pg.osUser} -- env -C / ${pg.bindir}/psql -X -At -h ${pg.socketDirectory} -p ${pg.port} -d postgres -c 'SELECT 1'`,
    };
    const costs = {};
    for (const [label, c] of Object.entries(cmds)) {
      const xs = [];
      for (let i = 0; i < SAMPLES; i++) {
        const o = lab("exec", input.names[0], "sh", "-c", `s=$(date +%s%N); { ${c}; } >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000 ))`);
        xs.push({ wall_s: Number(o.trim().split("\n").at(-1)) / 1e6 });
      }
      costs[label] = measurement(label, "inside pg1 (lab.sh exec), no SSH", xs);
    }
    S.remote_command_costs = costs;
    save();
  }

  log(`${n} nodes: one file changed on every node (${CHANGED_SAMPLES} x pgha, Ansible, Ansible without facts)`);
  const ch = { pgha: [], pghaPhases: [], af: [], an: [] };
  for (let i = 0; i < CHANGED_SAMPLES; i++) {
    await changeFileOnEveryNode(input.names, hba, `pgha ${i}`);
    const p = check(await pghaRun(["apply", ...I]), "pgha one-file-changed apply");
    if (/ok: nothing changed/.test(p.stdout)) throw new Error("pgha did not restore pg_hba.conf");
    ch.pgha.push(sample(p, { summary: pghaSummary(p) }));
    ch.pghaPhases.push(phases(p, taskNames));
    if (NA) continue;
    await changeFileOnEveryNode(input.names, hba, `ansible ${i}`);
    const a = check(await ansible(true), "ansible one-file-changed");
    ch.af.push(sample(a, { recap: recap(a) }));
    await changeFileOnEveryNode(input.names, hba, `ansible-nofacts ${i}`);
    const b = check(await ansible(false), "ansible one-file-changed (no facts)");
    ch.an.push(sample(b, { recap: recap(b) }));
  }
  S.changed_apply = { ...measurement("one file changed on every node (pg_hba.conf): node bin/pgha.js apply restores it and reloads PostgreSQL", "CLI under /usr/bin/time", ch.pgha), phases_per_sample: ch.pghaPhases };
  if (!NA) S.ansible_changed = measurement("Ansible, one file changed on every node, facts gathered", "ansible-playbook under /usr/bin/time", ch.af);
  if (!NA) S.ansible_changed_no_facts = measurement("Ansible, one file changed on every node, no facts", "ansible-playbook under /usr/bin/time", ch.an);
  // The last word: after Ansible's pushes, pgha still sees nothing to do (the two push identical files).
  const after = check(await pghaRun(["apply", ...I]), "pgha apply after Ansible");
  S.pgha_noop_after_ansible = pghaSummary(after);
  save();
}

function computeRatios() {
  const s = results.sizes;
  const med = (n, k) => s[n]?.[k]?.wall_s?.median;
  const R = {};
  const put = (key, value, target, targetText, what, sizesUsed) => {
    if (value === undefined || Number.isNaN(value)) return;
    const runs = [...new Set((sizesUsed ?? []).map((n) => s[n]?.run_started))];
    if (runs.length > 1) return; // never a ratio across runs
    R[key] = { what, value: round(value, 3), target: targetText, met: target(value), run_started: runs[0] };
  };
  const b = results.baseline;
  if (b?.validate_9_nodes) {
    R.validate_9_over_node = { what: "pgha validate of a 9-node spec / node -e 0 (same run)", value: round(b.validate_9_nodes.wall_s.median / b.node_empty.wall_s.median, 3), target: "<= 2", met: b.validate_9_nodes.wall_s.median / b.node_empty.wall_s.median <= 2 };
  }
  for (const n of Object.keys(s).map(Number).sort((a, b) => a - b)) {
    for (const [k, label] of [["noop_apply", "no-op apply"], ["diff", "no-op diff"], ["status", "status"]]) {
      put(`${k}_over_physical_${n}`, med(n, k) / med(n, "physical_limit"), (v) => v <= 1.5, "<= 1.5", `pgha ${label} / physical limit, ${n} nodes (same run)`, [n]);
    }
  }
  for (const [name, c] of Object.entries(b?.compare ?? {})) {
    R[`info_${name}_validate_9_over_node`] = { what: `${name} (${c.bin}): validate of a 9-node spec / node -e 0 (same run)`, value: round(c.validate_9_nodes.wall_s.median / b.node_empty.wall_s.median, 3), target: "(no target)", met: true };
  }
  for (const n of Object.keys(s).map(Number).sort((a, b) => a - b)) {
    for (const [name, c] of Object.entries(s[n].compare ?? {})) {
      for (const [k, label] of [["noop_apply", "no-op apply"], ["diff", "no-op diff"], ["status", "status"]]) {
        put(`info_${name}_${k}_over_physical_${n}`, c[k].wall_s.median / med(n, "physical_limit"), () => true, "(no target)", `${name} (${c.bin}): ${label} / physical limit, ${n} nodes (same run)`, [n]);
      }
    }
  }
  put("ansible_noop_over_pgha_noop_3", med(3, "ansible_noop") / med(3, "noop_apply"), (v) => v >= 10, ">= 10", "Ansible no-op (facts) / pgha no-op apply, 3 nodes (how many times faster pgha is)", [3]);
  put("ansible_noop_no_facts_over_pgha_noop_3", med(3, "ansible_noop_no_facts") / med(3, "noop_apply"), (v) => v >= 10, ">= 10", "Ansible no-op (no facts) / pgha no-op apply, 3 nodes", [3]);
  put("pgha_noop_5_over_2", med(5, "noop_apply") / med(2, "noop_apply"), (v) => v <= 1.5, "<= 1.5", "pgha no-op apply, 5 nodes / 2 nodes", [2, 5]);
  const measured = Object.keys(s).map(Number).sort((a, b) => a - b);
  for (const n of measured) {
    const b = s[n]?.initial_build;
    if (b?.pgha_cpu_share !== undefined) put(`pgha_cpu_share_initial_build_${n}`, b.pgha_cpu_share, (v) => v < 0.1, "< 0.10", `pgha's own CPU time / wall time of the initial build, ${n} nodes`, [n]);
  }
  for (const n of measured) {
    put(`info_ansible_changed_over_pgha_changed_${n}`, med(n, "ansible_changed") / med(n, "changed_apply"), () => true, "(no target)", `Ansible / pgha, one file changed on every node, ${n} nodes`, [n]);
    put(`info_ansible_noop_over_pgha_noop_${n}`, med(n, "ansible_noop") / med(n, "noop_apply"), () => true, "(no target)", `Ansible no-op (facts) / pgha no-op, ${n} nodes`, [n]);
  }
  put("ansible_noop_5_over_2", med(5, "ansible_noop") / med(2, "ansible_noop"), () => true, "(no target)", "Ansible no-op (facts), 5 nodes / 2 nodes", [2, 5]);
  results.ratios = R;
}

// ------------------------------------------------------------------------------------------ markdown

function markdown(r) {
  const fmt = (m) => (m?.wall_s ? `${m.wall_s.median.toFixed(m.wall_s.median < 0.1 ? 4 : 2)} (${m.wall_s.min.toFixed(m.wall_s.min < 0.1 ? 4 : 2)}–${m.wall_s.max.toFixed(m.wall_s.max < 0.1 ? 4 : 2)})` : "—");
  const cpu = (m) => (m?.cpu_s ? m.cpu_s.median.toFixed(m.cpu_s.median < 0.1 ? 4 : 2) : "—");
  const sizes = Object.keys(r.sizes).map(Number).sort((a, b) => a - b);
  const rows = [
    ["validate + render, in-process (warm)", "render_in_process"],
    ["`pgha validate`, whole CLI process", "validate_cli"],
    ["`pgha render -o`, whole CLI process", "render_cli"],
    ["initial build (`pgha apply`, fresh hosts, 1 run)", "initial_build"],
    ["physical limit (bench/physical-limit.sh)", "physical_limit"],
    ["no-op `pgha apply`", "noop_apply"],
    ["`pgha diff`, nothing changed", "diff"],
    ["`pgha status`", "status"],
    ["`pgha apply`, pg_hba.conf changed on every node", "changed_apply"],
    ["Ansible no-op, facts gathered (default)", "ansible_noop"],
    ["Ansible no-op, no facts", "ansible_noop_no_facts"],
    ["Ansible, pg_hba.conf changed on every node, facts", "ansible_changed"],
    ["Ansible, pg_hba.conf changed on every node, no facts", "ansible_changed_no_facts"],
  ];
  const out = [];
  out.push("# Benchmarks: pgha against Ansible on the same hosts", "");
  out.push(`Generated by \`npm run bench\` (bench/run.mjs); raw samples in [bench/results.json](../bench/results.json). Started ${r.started}${r.finished ? `, finished ${r.finished}` : ""}${r.complete ? "" : " — **partial run: some measurements are missing**"}.`, "");
  if (r.runs?.length) {
    out.push(`This file combines ${r.runs.length} runs of the bench (\`--append\`): ${r.runs.map((x, i) => `run ${i + 1} (${x.started}, sizes ${(x.setup?.sizes ?? x.sizes).join(", ")}${x.setup?.samples ? `, ${x.setup.samples} samples` : ""}${x.error ? `; ${x.error.split("\n")[0]}` : ""})`).join("; ")}. Every ratio below is computed from the sizes of one run only.`, "");
  }
  if (r.previous_full_run) out.push(`${r.previous_full_run}`, "");
  const m = r.machine;
  out.push("## Machine", "");
  out.push(`${m.nproc} CPUs (${m.cpu_model ?? "?"}), ${m.memory_gib} GiB, ${m.os}, kernel ${m.kernel}; node ${m.node}; ${m.ansible} (Python ${m.ansible_python}); ${m.pacemaker}; ${m.corosync}; ${m.crmsh}; ${m.postgres}; pgha ${m.pgha_commit}${m.pgha_worktree_dirty ? " (with uncommitted changes in src/templates/playbooks)" : ""}. ` +
    "All lab hosts (network namespaces on this machine, see test/lab/lab.sh) share these CPUs with pgha and Ansible.", "");
  out.push("## Method", "");
  out.push(
    "- Cluster: PAF (`ocf:heartbeat:pgsqlms`), streaming replication, from `inventories/paf-3node` with members pg1..pgN, links 10.117.1.1X / 10.117.2.1X, one `fence_dummy` device per node, `synchronous_standby_names = ANY 1 (pg1, …, pgN)`; 6 managed files per node.",
    "- Times are wall-clock seconds, **median (min–max)**; CPU is user+sys of the process and the children it waited for (`/usr/bin/time`), median. pgha runs as `node bin/pgha.js` (the CLI, so every sample includes Node's start-up), output piped (listr2's simple renderer), except the in-process render row (`loadSpec`, `loadInventory`, `buildModel`, `renderCluster` from dist/, templates compiled afresh each time, like the CLI does).",
    `- Samples: ${r.setup.render_samples} in-process render samples (after one cold run); ${r.setup.samples} for the CLI, no-op and diff measurements; ${r.setup.changed_samples} for one-file-changed; the initial build once per size (fresh hosts: \`lab.sh up --nodes N\` before it).`,
    "- The no-op samples alternate pgha, Ansible (facts) and Ansible (no facts); so do the one-file-changed samples, each preceded by appending a comment line to `pg_hba.conf` on every node (`lab.sh exec`, not timed).",
    "- Ansible: `bench/ansible/push.yml`, `copy` tasks pushing exactly the files of `pgha render -o DIR` (DIR/<host>/<path> → <path>) with pgha's owner/group/mode; handlers like pgha's: `corosync-cfgtool -R` once when corosync.conf changed, and on each node whose PostgreSQL files changed the same commands as pgha's `pg_reload` (pg_ctl status, pg_ctl reload, `sleep 1`, the pending_restart query). Lab inventory `/var/lib/pgha-lab/inventory.yml`; Ansible's defaults otherwise (forks 5, ssh ControlMaster/ControlPersist 60 s, no pipelining). Users run with facts, Ansible's default, so that is the headline; the no-facts variant (`ANSIBLE_GATHERING=explicit`) is shown too. A first Ansible run after the build (a no-op, not counted) warms the ControlMaster sockets, as an operator's repeated runs would.",
    "- The physical limit (issue 16): `bench/physical-limit.sh`, the least any tool must do to learn that the cluster needs nothing: one OpenSSH connection per host (fresh, no ControlMaster), all hosts in parallel, one command each that hashes the managed files (the same list pgha manages), reads their owner and mode, asks whether corosync and Pacemaker run (`systemctl is-active`) and digests the CIB (`cibadmin -Q | sha256sum`). Its samples alternate with pgha's no-op apply, diff and status, and pgha's ratio to it is taken from the same run and size.",
    "- pgha's no-op apply does more than Ansible's push: facts, preflight, directories, the files, the Pacemaker service check, waits for quorum and for the primary and streaming standbys, the desired-CIB comparison with crmsh, and the status table. Ansible's playbook only pushes the files.",
    "",
  );
  out.push("## Results (seconds)", "");
  if (r.baseline) out.push(`Floor under every CLI sample: \`node -e 0\` ${fmt(r.baseline.node_empty)}, \`node bin/pgha.js --help\` ${fmt(r.baseline.pgha_help)}${r.baseline.validate_9_nodes ? `; \`pgha validate\` of a 9-node spec ${fmt(r.baseline.validate_9_nodes)}` : ""}.`, "");
  out.push(`| measurement | ${sizes.map((s) => `${s} nodes`).join(" | ")} | ${sizes.map((s) => `CPU ${s}`).join(" | ")} |`);
  out.push(`|---|${sizes.map(() => "---:").join("|")}|${sizes.map(() => "---:").join("|")}|`);
  for (const [label, key] of rows) {
    if (!sizes.some((s) => r.sizes[s]?.[key])) continue;
    out.push(`| ${label} | ${sizes.map((s) => fmt(r.sizes[s]?.[key])).join(" | ")} | ${sizes.map((s) => cpu(r.sizes[s]?.[key])).join(" | ")} |`);
  }
  out.push("");
  if (r.changes?.length) {
    out.push("### What each change bought (issue 16)", "");
    out.push("Each row is one build of pgha timed in the same samples as the other builds of its run (`--compare`, alternating), with the physical limit and `node -e 0` measured in that run too; within a run, the step from one row to the next is what the change bought. Ratios are to the physical limit (validate: to `node -e 0`) of the same run; compare runs by their ratios, not their seconds.", "");
    out.push("| run | build | change | validate, 9 nodes | no-op apply | no-op diff | status |", "|---|---|---|---:|---:|---:|---:|");
    const runs = [...new Set(r.changes.map((c) => c.run))];
    for (const c of r.changes) out.push(`| ${runs.indexOf(c.run) + 1} | ${c.build} | ${c.change} | ${c.validate_9_s} s (${c.validate_9_over_node}× node) | ${c.noop_apply_s} s (${c.noop_apply_over_physical}×) | ${c.diff_s} s (${c.diff_over_physical}×) | ${c.status_s} s (${c.status_over_physical}×) |`);
    out.push("", ...runs.map((x, i) => `Run ${i + 1}: ${x}.`));
    out.push("");
  }
  if (r.inventory_scale?.results?.length) {
    out.push("### Inventory validation at scale (bench/inventory-scale.mjs)", "");
    out.push("`pgha validate` in process (no Node start-up) of the sr-pgsql-2node spec against an inventory whose other groups hold N hosts with variables; median of the samples.", "");
    out.push("| hosts | inventory bytes | validate (ms) | loadInventory alone (ms) | validate per host (µs) |", "|---:|---:|---:|---:|---:|");
    for (const x of r.inventory_scale.results) out.push(`| ${x.hosts} | ${x.bytes} | ${x.validateMs} | ${x.loadInventoryMs} | ${x.validateUsPerHost} |`);
    out.push("");
  }
  const names = [...new Set(sizes.flatMap((s) => Object.keys(r.sizes[s]?.compare ?? {})))];
  if (names.length) {
    out.push("### Other builds of pgha in the same samples (`--compare`)", "");
    out.push(`| build | measurement | ${sizes.map((s) => `${s} nodes`).join(" | ")} |`, `|---|---|${sizes.map(() => "---:").join("|")}|`);
    for (const name of names) {
      const v9 = r.baseline?.compare?.[name]?.validate_9_nodes;
      if (v9) out.push(`| ${name} | \`pgha validate\`, 9 nodes | ${sizes.map((_, i) => (i === 0 ? fmt(v9) : "")).join(" | ")} |`);
      for (const [label, key] of [["no-op `pgha apply`", "noop_apply"], ["`pgha diff`, nothing changed", "diff"], ["`pgha status`", "status"]]) {
        out.push(`| ${name} | ${label} | ${sizes.map((s) => fmt(r.sizes[s]?.compare?.[name]?.[key])).join(" | ")} |`);
      }
    }
    out.push("");
  }
  const profiled = sizes.filter((s) => r.sizes[s]?.noop_profile?.steps);
  if (profiled.length) {
    out.push("### A no-op step by step (bench/noop-profile.mjs, ms, median; Node's start-up comes on top)", "");
    out.push(`| step | ${profiled.map((s) => `${s} nodes`).join(" | ")} |`, `|---|${profiled.map(() => "---:").join("|")}|`);
    for (const k of Object.keys(r.sizes[profiled[0]].noop_profile.steps)) out.push(`| ${k} | ${profiled.map((s) => r.sizes[s].noop_profile.steps[k] ?? "—").join(" | ")} |`);
    out.push("");
  }
  const builds = sizes.filter((s) => r.sizes[s]?.initial_build?.phases);
  if (builds.length) {
    out.push("### Initial build: pgha's own time against waiting", "");
    out.push(`| | ${builds.map((s) => `${s} nodes`).join(" | ")} |`, `|---|${builds.map(() => "---:").join("|")}|`);
    out.push(`| wall | ${builds.map((s) => r.sizes[s].initial_build.wall_s.median.toFixed(2)).join(" | ")} |`);
    out.push(`| pgha CPU (user+sys, incl. Node start-up) | ${builds.map((s) => r.sizes[s].initial_build.cpu_s.median.toFixed(2)).join(" | ")} |`);
    out.push(`| pgha's share | ${builds.map((s) => `${(r.sizes[s].initial_build.pgha_cpu_share * 100).toFixed(1)} %`).join(" | ")} |`);
    const names = [...new Set(builds.flatMap((s) => r.sizes[s].initial_build.phases.map((p) => p.phase)))];
    for (const p of names) {
      out.push(`| ${p} | ${builds.map((s) => {
        const x = r.sizes[s].initial_build.phases.find((q) => q.phase === p);
        return x ? (x.skipped ? "skipped" : x.s.toFixed(2)) : "—";
      }).join(" | ")} |`);
    }
    out.push("");
  }
  const noops = sizes.filter((s) => r.sizes[s]?.noop_apply?.phases_per_sample);
  if (noops.length) {
    out.push("### No-op `pgha apply`: where the time goes (median per phase over the samples)", "");
    out.push(`| phase | ${noops.map((s) => `${s} nodes`).join(" | ")} |`, `|---|${noops.map(() => "---:").join("|")}|`);
    const names = [...new Set(noops.flatMap((s) => r.sizes[s].noop_apply.phases_per_sample.flat().map((p) => p.phase)))];
    for (const p of names) {
      out.push(`| ${p} | ${noops.map((s) => {
        const st = stats(r.sizes[s].noop_apply.phases_per_sample.map((ph) => ph.find((q) => q.phase === p)?.s));
        return st ? st.median.toFixed(3) : "—";
      }).join(" | ")} |`);
    }
    out.push("");
  }
  const costs = sizes.filter((s) => r.sizes[s]?.remote_command_costs);
  if (costs.length) {
    out.push("### What single remote commands cost on a lab host (inside pg1, no SSH)", "");
    const bg = costs.filter((s) => r.sizes[s].background_cpus);
    if (bg.length) out.push(`While the built cluster idles, it keeps this much of the machine's ${r.machine.nproc} CPUs busy (20 s from /proc/stat): ${bg.map((s) => `${s} nodes ${r.sizes[s].background_cpus.busy_cpus}`).join(", ")}.`, "");
    out.push(`| command | ${costs.map((s) => `${s} nodes`).join(" | ")} |`, `|---|${costs.map(() => "---:").join("|")}|`);
    for (const label of Object.keys(r.sizes[costs[0]].remote_command_costs)) out.push(`| ${label} | ${costs.map((s) => fmt(r.sizes[s].remote_command_costs[label])).join(" | ")} |`);
    out.push("");
  }
  const rts = sizes.filter((s) => r.sizes[s]?.round_trips);
  if (rts.length) {
    out.push("### Remote commands per host in a no-op run", "");
    out.push(`| | ${rts.map((s) => `${s} nodes`).join(" | ")} |`, `|---|${rts.map(() => "---").join("|")}|`);
    const per = (o) => (!o ? "—" : Object.entries(o).map(([h, c]) => `${h} ${c}`).join(", "));
    out.push(`| pgha, \`$ \` lines of \`apply -v\` (+1 facts each, +2 for the status table) | ${rts.map((s) => per(r.sizes[s].round_trips.pgha_noop_traced)).join(" | ")} |`);
    out.push(`| Ansible with facts, \`SSH: EXEC\` lines of \`-vvv\` | ${rts.map((s) => per(r.sizes[s].round_trips.ansible_noop_facts)).join(" | ")} |`);
    out.push(`| Ansible without facts | ${rts.map((s) => per(r.sizes[s].round_trips.ansible_noop_no_facts)).join(" | ")} |`);
    out.push("");
  }
  if (Object.keys(r.ratios).length) {
    out.push("## Ratios (each from the sizes of one run)", "");
    out.push("| ratio | value | target | met |", "|---|---:|---|---|");
    for (const x of Object.values(r.ratios)) out.push(`| ${x.what} | ${x.value} | ${x.target} | ${x.target === "(no target)" ? "" : x.met ? "yes" : "**no**"} |`);
    out.push("");
  }
  if (r.analysis?.length) {
    out.push("## Analysis", "", ...r.analysis, "");
  }
  return out.join("\n") + "\n";
}

// ------------------------------------------------------------------------------------------ main

if (argv.regenerate) {
  Object.assign(results, JSON.parse(readFileSync(RESULTS, "utf8")));
  computeRatios();
  const { analyse } = await import("./analysis.mjs");
  results.analysis = analyse(results);
  save();
  log(`rewrote ${DOC} from ${RESULTS}`);
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), "pgha-bench-"));
results.setup = {
  work_dir: work,
  sizes: SIZES,
  samples: SAMPLES,
  changed_samples: CHANGED_SAMPLES,
  render_samples: RENDER_SAMPLES,
  example: "inventories/paf-3node (PAF, streaming replication)",
  ansible_playbook: "bench/ansible/push.yml",
  ansible_settings: "defaults; inventory /var/lib/pgha-lab/inventory.yml; facts on (default) and off (ANSIBLE_GATHERING=explicit), both reported",
  env: { PGHA_REPL_PASSWORD: "(set)", CI: "true" },
};
results.machine = machine();
if (argv.append && existsSync(RESULTS)) {
  const prev = JSON.parse(readFileSync(RESULTS, "utf8"));
  results.runs = [...(prev.runs ?? [{ started: prev.started, finished: prev.finished, sizes: Object.keys(prev.sizes).map(Number).filter((n) => prev.sizes[n].noop_apply), setup: prev.setup, error: prev.error }])];
  results.sizes = prev.sizes;
  results.baseline = prev.baseline;
  results.inventory_scale = prev.inventory_scale;
  results.changes = prev.changes;
  results.previous_full_run = prev.previous_full_run;
  for (const n of SIZES) {
    const keep = Object.fromEntries(Object.entries(prev.sizes[n] ?? {}).filter(([k]) => /^(render_in_process|validate_cli|render_cli)$/.test(k)));
    results.sizes[n] = { ...keep, render_run_started: prev.sizes[n]?.run_started };
  }
}
{
  // Node's own start-up, and pgha's CLI start-up (imports, no work): the floor under every CLI sample.
  // pgha validate of a 9-node spec against node's own start-up (issue 16: at most 2x), sampled alternately.
  const nine = generateInputs(join(work, "n9"), 9);
  const xs = { node: [], help: [], validate9: [], ...Object.fromEntries(Object.keys(COMPARE).map((k) => [`validate9:${k}`, []])) };
  const validate9 = (bin) => [bin, "validate", "-i", nine.inventory, "-s", nine.spec];
  for (let i = 0; i < SAMPLES; i++) {
    for (const [k, args] of [["node", ["-e", "0"]], ["help", ["bin/pgha.js", "--help"]], ["validate9", validate9("bin/pgha.js")], ...Object.entries(COMPARE).map(([name, bin]) => [`validate9:${name}`, validate9(bin)])]) {
      const run = await runTimed("node", args);
      if (run.code !== 0) throw new Error(`node ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
      xs[k].push({ wall_s: run.wall_s, cpu_s: run.cpu_s });
    }
  }
  results.baseline = {
    node_empty: measurement("node -e 0", "process under /usr/bin/time", xs.node),
    pgha_help: measurement("node bin/pgha.js --help (CLI start-up, no work)", "process under /usr/bin/time", xs.help),
    validate_9_nodes: measurement("node bin/pgha.js validate of a 9-node PAF spec (whole process)", "process under /usr/bin/time", xs.validate9),
    ...(Object.keys(COMPARE).length ? { compare: Object.fromEntries(Object.keys(COMPARE).map((name) => [name, { bin: COMPARE[name], validate_9_nodes: measurement(`${name}: validate of a 9-node spec`, "process under /usr/bin/time, alternating with this build", xs[`validate9:${name}`]) }])) } : {}),
  };
}
let labUsed = false;
let failed;
// Stopped from outside (a time limit): keep what was measured, and take the lab down.
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    log(`${sig}: saving partial results${labUsed && !argv["keep-lab"] ? " and taking the lab down" : ""}`);
    results.error = `interrupted by ${sig}`;
    computeRatios();
    results.finished = new Date().toISOString();
    save();
    if (labUsed && !argv["keep-lab"]) sh("bash", [LAB_SH, "down"], { allowFail: true, timeoutMs: 600_000 });
    process.exit(130);
  });
}
try {
  // Inventory validation at 10k and 100k hosts (bench/inventory-scale.mjs, issue 14): lab-free, once per set of runs.
  if (!argv.append && existsSync(join(ROOT, "bench", "inventory-scale.mjs"))) {
    log("inventory validation at scale (bench/inventory-scale.mjs)");
    results.inventory_scale = JSON.parse(sh("node", [join(ROOT, "bench", "inventory-scale.mjs")], { timeoutMs: 1_200_000 }));
    save();
  }
  // Render/validate for every size first, with no lab running; then the lab sizes one by one.
  if (!argv.append) for (const n of SIZES) await benchSize(n, work, "render");
  if (!argv["render-only"]) {
    for (const n of SIZES) {
      labUsed = true;
      await benchSize(n, work, "lab");
      computeRatios();
      save();
    }
  }
  results.complete = true;
} catch (e) {
  failed = e;
  results.error = String(e?.stack ?? e).slice(0, 4000);
  log(`FAILED: ${e?.message ?? e}`);
} finally {
  computeRatios();
  // Analysis written by hand after a run is kept (bench/analysis.mjs computes it from the results).
  try {
    const { analyse } = await import("./analysis.mjs");
    results.analysis = analyse(results);
  } catch (e) {
    if (e?.code !== "ERR_MODULE_NOT_FOUND") log(`analysis: ${e?.message ?? e}`);
  }
  results.finished = new Date().toISOString();
  if (results.runs) results.runs.push({ started: results.started, finished: results.finished, sizes: SIZES, setup: results.setup, error: results.error });
  save();
  if (labUsed && !argv["keep-lab"]) {
    log("lab down");
    sh("bash", [LAB_SH, "down"], { allowFail: true, timeoutMs: 600_000 });
  }
  rmSync(work, { recursive: true, force: true });
}
log(`wrote ${RESULTS} and ${DOC}`);
process.exitCode = failed ? 1 : 0;
