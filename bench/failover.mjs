#!/usr/bin/env node
// Failover time (RTO) and data loss (RPO) of the cluster that pgha builds, with pgha's defaults (issue 16).
// Run after `npm run build`, as root, holding the lab (it brings the lab up and down):
//
//   flock -o /tmp/pgha-lab.lock node bench/failover.mjs [--keep-lab]
//
// The 2-node pgsql example (rep_mode sync) is built on fresh lab hosts with the lab's real fence device
// (fence_pgha_lab, as the e2e failure table uses it). A client on this machine (10.117.1.1, on the service
// LAN) writes through vip-master in a tight loop, one connection and one INSERT each, and logs every
// acknowledged commit. Then, for each fault: the fault is made, the client goes on until writes succeed
// again; RTO is the time from the fault to the end of the first acknowledged write after it, RPO the
// acknowledged rows missing on the new primary. Each fault ends with `pgha recover` of the failed node and
// `pgha switchover` back, timed too. Faults: kill -9 of the primary's postmaster, power-off of its host.
// Results: bench/failover-results.json and docs/failover.md (targets from issue 16).
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const LAB_SH = join(ROOT, "test", "lab", "lab.sh");
const EXAMPLE = join(ROOT, "inventories", "sr-pgsql-2node");
const RESULTS = join(ROOT, "bench", "failover-results.json");
const DOC = join(ROOT, "docs", "failover.md");
const VIP = "10.117.1.100";
const DATA = "/var/lib/postgresql/15/pgha";
const { values: argv } = parseArgs({ options: { "keep-lab": { type: "boolean", default: false } } });

const ENV = { ...process.env, PGHA_REPL_PASSWORD: "bench-Repl-pw", CI: "true" };
const work = mkdtempSync(join(tmpdir(), "pgha-failover-"));

function sh(cmd, args, { input } = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: ENV, input, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const onHost = (h, cmd) => sh("bash", [LAB_SH, "exec", h, "sh", "-c", cmd]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs pgha; returns its exit code, output and wall seconds. */
function pgha(args) {
  const t0 = performance.now();
  const r = spawnSync("node", [join(ROOT, "bin", "pgha.js"), ...args], { encoding: "utf8", env: ENV, cwd: ROOT, maxBuffer: 64 << 20 });
  return { code: r.status, output: r.stdout + r.stderr, seconds: (performance.now() - t0) / 1000 };
}
function must(args) {
  const r = pgha(args);
  if (r.code !== 0) throw new Error(`pgha ${args.join(" ")} exited ${r.code}:\n${r.output}`);
  return r;
}

/** The example's spec with the lab's real fence device in place of fence_dummy (as labFenced does for the e2e tests). */
function fencedSpec() {
  const text = readFileSync(join(EXAMPLE, "cluster.yml"), "utf8").replace(
    /\{ agent: "stonith:fence_dummy", params: \{ type: file, status_file: \S+, pcmk_host_list: (pg\d) \} \}/g,
    (_, h) => `{ agent: "stonith:fence_pgha_lab", params: { plug: ${h}, pcmk_host_list: ${h} } }`,
  );
  if (!text.includes("fence_pgha_lab")) throw new Error("the example has no fence_dummy device to replace");
  const file = join(work, "cluster.yml");
  writeFileSync(file, text);
  return file;
}
const ARGS = ["-i", join(EXAMPLE, "hosts.yml"), "-s", fencedSpec()];

/** crm_mon's view from a host: which node is promoted, and whether vip-master runs there. */
function primaryFrom(h) {
  try {
    const xml = onHost(h, "crm_mon -1 --output-as=xml 2>/dev/null");
    const promoted = [...xml.matchAll(/<resource id="pgsql" [^>]*role="(?:Promoted|Master)"[^>]*>\s*<node name="(\S+?)"/g)].map((m) => m[1]);
    const vip = /<resource id="vip-master" [^>]*role="Started"[^>]*>\s*<node name="(\S+?)"/.exec(xml)?.[1];
    return promoted.length === 1 && vip === promoted[0] ? promoted[0] : undefined;
  } catch {
    return undefined;
  }
}
async function waitFor(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1000);
  }
}
const healthy = (primary, standby) => waitFor(`${primary} primary, ${standby} HS:sync`, () => primaryFrom(primary) === primary && /pgsql-status\s*:\s*HS:sync/.test(onHost(primary, "crm_mon -1 -A 2>/dev/null")), 300_000);

/**
 * The client: a child process that connects and INSERTs through vip-master in a loop until `stop` exists,
 * logging each attempt as "ok|fail N START_MS END_MS". libpq's connect timeout (2 s, its minimum) bounds
 * an attempt at a VIP that nobody answers.
 */
function startWriter(log, stop) {
  const code = `
    const { spawnSync } = require("node:child_process");
    const { appendFileSync, existsSync } = require("node:fs");
    const [log, stop, vip] = process.argv.slice(1);
    let n = 0;
    while (!existsSync(stop)) {
      n++;
      const t0 = Date.now();
      const r = spawnSync("psql", ["-X", "-q", "-h", vip, "-U", "app", "-d", "postgres", "-c", "INSERT INTO bench VALUES (" + n + ")"], { env: { ...process.env, PGPASSWORD: "app-pw", PGCONNECT_TIMEOUT: "2" }, stdio: "ignore" });
      appendFileSync(log, (r.status === 0 ? "ok" : "fail") + " " + n + " " + t0 + " " + Date.now() + "\\n");
      if (r.status !== 0) spawnSync("sleep", ["0.05"]);
    }`;
  const child = spawn("node", ["-e", code, log, stop, VIP], { stdio: "ignore" });
  return new Promise((resolve) => child.on("close", resolve));
}
const attempts = (log) => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => { const [r, n, s, e] = l.split(" "); return { ok: r === "ok", n: Number(n), start: Number(s), end: Number(e) }; }) : []);

/** One fault: writes going, `fault()` at a known instant, until writes succeed again for 3 s; then RTO and RPO. */
async function measure(name, primary, standby, fault) {
  const log = join(work, `${name}.log`);
  const stop = join(work, `${name}.stop`);
  rmSync(log, { force: true });
  rmSync(stop, { force: true });
  const writer = startWriter(log, stop);
  await waitFor("the first acknowledged write", () => attempts(log).filter((a) => a.ok).length >= 20, 60_000);
  const at = Date.now();
  fault();
  await waitFor(`writes after ${name}`, () => {
    const first = attempts(log).find((a) => a.ok && a.start > at);
    return first && Date.now() - first.end > 3000;
  }, 300_000);
  writeFileSync(stop, "");
  await writer;
  const all = attempts(log);
  const firstAfter = all.find((a) => a.ok && a.start > at);
  const acked = all.filter((a) => a.ok).map((a) => a.n);
  const newPrimary = await waitFor("a new primary with vip-master", () => primaryFrom(standby), 300_000);
  const present = new Set(onHost(newPrimary, "cd / && runuser -u postgres -- psql -X -At -c 'SELECT n FROM bench'").trim().split("\n").map(Number));
  const missing = acked.filter((n) => !present.has(n));
  return {
    fault: name,
    primary_before: primary,
    primary_after: newPrimary,
    rto_s: Number(((firstAfter.end - at) / 1000).toFixed(2)),
    failed_attempts: all.filter((a) => !a.ok && a.end > at).length,
    acknowledged: acked.length,
    rpo_missing_acknowledged: missing.length,
  };
}

/** The failed node back as a sync standby, then the primary back to it: timed, as an operator runs them. */
async function recoverAndFailBack(failed, survivor) {
  const rec = must(["recover", ...ARGS, failed]);
  const back = must(["switchover", "--to", failed, ...ARGS]);
  await healthy(failed, survivor);
  return { recover_s: Number(rec.seconds.toFixed(1)), recover_line: rec.output.trim().split("\n").at(-1), switchover_s: Number(back.seconds.toFixed(1)) };
}

const results = { started: new Date().toISOString(), commit: sh("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]).trim(), example: "sr-pgsql-2node (rep_mode sync), fence_pgha_lab", cases: [] };
const save = () => {
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(DOC, markdown(results));
};

function markdown(r) {
  const row = (c) => `| ${c.fault} | ${c.rto_s} s | ${c.target_rto_s} s | ${c.rto_s <= c.target_rto_s ? "met" : "**missed**"} | ${c.acknowledged} | ${c.rpo_missing_acknowledged} | ${c.failed_attempts} | ${c.primary_before} → ${c.primary_after} | ${c.recover_s ?? "—"} s | ${c.switchover_s ?? "—"} s |`;
  return [
    "# Failover time and data loss (bench/failover.mjs)",
    "",
    `Generated by \`node bench/failover.mjs\` (run by \`npm run bench\` after bench/run.mjs); raw results in [bench/failover-results.json](../bench/failover-results.json). Run ${r.started}, pgha ${r.commit}, ${r.example}.`,
    "",
    "A client on the lab machine (on the service LAN) opens a connection and INSERTs one row through `vip-master`, again and again, and logs each acknowledged commit. RTO: from the fault to the end of the first acknowledged write after it. RPO: acknowledged rows missing on the new primary afterwards (must be 0 with rep_mode sync). Each fault is followed by `pgha recover` of the failed node and `pgha switchover` back to it, timed as an operator runs them.",
    "",
    `Initial build of the example on fresh lab hosts (packages installed): ${r.build_s ?? "—"} s (target 60 s${r.build_s > 60 ? ": missed; where a build waits, phase by phase, is in [benchmarks.md](benchmarks.md)" : ""}).`,
    "",
    "| fault | RTO | target | | acknowledged writes | acknowledged and lost | failed attempts | primary | pgha recover | pgha switchover back |",
    "|---|---:|---:|---|---:|---:|---:|---|---:|---:|",
    ...r.cases.map(row),
    "",
    ...r.cases.filter((c) => c.recover_line).map((c) => `- ${c.fault}: recover said "${c.recover_line}"`),
    ...(r.error ? ["", `The run stopped early: ${r.error}`] : []),
    "",
  ].join("\n");
}

try {
  sh("bash", [LAB_SH, "up", "--nodes", "2"]);
  const build = must(["apply", ...ARGS]);
  results.build_s = Number(build.seconds.toFixed(1));
  await healthy("pg1", "pg2");
  onHost("pg1", "cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -c \"CREATE ROLE app LOGIN PASSWORD 'app-pw'; CREATE TABLE bench(n int); GRANT ALL ON bench TO app;\"");
  save();

  const kill = await measure("kill -9 of the primary's postmaster", "pg1", "pg2", () => onHost("pg1", `kill -9 $(head -1 ${DATA}/postmaster.pid)`));
  results.cases.push({ ...kill, target_rto_s: 15 });
  save();
  Object.assign(results.cases.at(-1), await recoverAndFailBack("pg1", "pg2"));
  save();

  const off = await measure("power-off of the primary's host", "pg1", "pg2", () => sh("bash", [LAB_SH, "poweroff", "pg1"]));
  results.cases.push({ ...off, target_rto_s: 30 });
  save();
  // The fence device reboots pg1 (only sshd comes back, as on a server whose cluster stack does not start at boot).
  await waitFor("pg1 booted by the fence", () => { try { onHost("pg1", "true"); return true; } catch { return false; } }, 300_000);
  Object.assign(results.cases.at(-1), await recoverAndFailBack("pg1", "pg2"));
} catch (e) {
  results.error = e.message.split("\n")[0];
  appendFileSync(join(work, "error.txt"), e.stack ?? String(e));
  console.error(e.message);
  process.exitCode = 1;
} finally {
  results.finished = new Date().toISOString();
  save();
  if (!argv["keep-lab"]) spawnSync("bash", [LAB_SH, "down"], { stdio: "inherit" });
  console.log(readFileSync(DOC, "utf8"));
}
