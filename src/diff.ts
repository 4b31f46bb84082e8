// diff: desired against actual, for every managed file on every node and for the live CIB, plus the
// runtime state that bites later (move constraints, the operator's switches, fail counts, PGSQL.lock).
// Reads only: the desired CIB is built in a scratch file on one node, never in the cluster.
import { createTwoFilesPatch } from "diff";
import { authkeyDrifts } from "./authkey.js";
import { flattenCib, isMoveConstraint, maskCibPatch, secretField, secretNvpairs, secretParams, summarize } from "./cib-diff.js";
import { predictionOf, simulateScript } from "./cib-predict.js";
import { joiningNodes, nodeListResource } from "./node-join.js";
import { leavePlan, leavingNodes } from "./node-leave.js";
import { formatNodePlans, nodePlans, restartParameters, type NodePlan, type PlanFile } from "./node-plan.js";
import type { Disruption } from "./disruptions.js";
import { coveredFailCount, recoveryNeeds, recoveryWarning, type RecoveryNeed } from "./recovery-needs.js";
import { desiredCib } from "./cib-script.js";
import { missingFlags, ROLLED, type Prediction } from "./transition.js";
import type { HostFacts } from "./facts.js";
import { gatherFacts, withConnections, type Connections } from "./gather.js";
import type { ClusterModel } from "./model/types.js";
import { planFile, type FileAction } from "./plan.js";
import type { RenderedCluster } from "./render.js";
import { maskSecrets } from "./secrets.js";
import { shq } from "./shell.js";
import { nodeSwitched, runtimeSwitches, switchWarning, type RuntimeSwitch } from "./runtime-switches.js";
import { parseCrmMon, type ClusterStatus } from "./status.js";
import { runningPrimary } from "./tasks.js";
import type { Connection, ExecResult, HostKeyPolicy } from "./transport.js";

export interface FileDrift {
  node: string;
  path: string;
  action: Exclude<FileAction, "none">;
  reasons: string[];
  /** Unified diff, actual -> desired; absent for secret files. */
  diff?: string;
}

export interface CibDrift {
  node: string;
  /** One readable line per changed element. */
  summary: string[];
  /** Pacemaker's own patch (crm_diff --no-version). */
  patch: string;
  /** What Pacemaker would do if the patch were applied (crm_simulate), when the CIB differs. */
  prediction?: Prediction;
}

export interface DiffResult {
  files: FileDrift[];
  /** Nodes the running cluster has and the spec drops: what apply does to each (node-leave.ts). */
  leaving?: string[];
  /** Undefined when Pacemaker runs nowhere (nothing to compare against). */
  cib?: CibDrift;
  warnings: string[];
  differences: number;
  /** What the change does on each node, in the order apply does it (node-plan.ts). */
  nodes: Record<string, NodePlan>;
}

const MARK = "@@PGHA-SPLIT@@";

/** Each changed file's drift, and for the plan per node its contents (none for a secret file). */
async function fileDrifts(model: ClusterModel, rendered: RenderedCluster, node: string, facts: HostFacts, conn: Connection): Promise<{ drift: FileDrift; plan: PlanFile }[]> {
  const changes = rendered.files.filter((f) => f.node === node).map((f) => planFile(f, facts)).filter((c) => c.action !== "none");
  // Never read through a symbolic link: root would print whatever file a user pointed it at.
  const wanted = changes.filter((c) => c.action === "update" && !c.secret && !facts.files[c.path]?.symlink);
  const actual = new Map<string, string>();
  if (wanted.length) {
    const r = await conn.exec(wanted.map((c) => `printf '%s\\n' ${shq(`${MARK}${c.path}`)}; cat ${shq(c.path)}`).join("; "));
    for (const part of r.stdout.split(`${MARK}`).slice(1)) {
      const nl = part.indexOf("\n");
      actual.set(part.slice(0, nl), part.slice(nl + 1));
    }
  }
  return changes.map((c) => {
    const label = `${node}:${c.path}`;
    const diff =
      c.secret || facts.files[c.path]?.symlink ? undefined
      : c.action === "create" ? createTwoFilesPatch("/dev/null", label, "", c.content, "actual", "desired")
      : c.action === "update" ? createTwoFilesPatch(label, label, actual.get(c.path) ?? "", c.content, "actual", "desired")
      : undefined;
    const drift = { node, path: c.path, action: c.action as FileDrift["action"], reasons: c.reasons, diff: diff === undefined ? undefined : maskSecrets(diff, model.secrets) };
    return { drift, plan: c.secret ? { node, path: c.path } : { node, path: c.path, before: c.action === "create" ? "" : actual.get(c.path), after: c.content } };
  });
}

async function cibDrift(model: ClusterModel, rendered: RenderedCluster, node: string, facts: HostFacts, conn: Connection): Promise<{ drift: CibDrift; moves: string[]; switches: RuntimeSwitch[] }> {
  // One round trip: both CIBs, the patch and, when there is one, both transitions (from the script's scratch directory).
  const d = '"$t"';
  const simulate = `if [ -s ${d}/cib.patch ]; then echo ${MARK}; ${simulateScript(d, nodeListResource(model), model.nodes.map((n) => n.name)).replace(/\n/g, "; ")}; fi`;
  const cib = desiredCib(rendered, (b) => Boolean(facts.binaries[b]), { then: `cat ${d}/cib-live.xml; echo ${MARK}; cat ${d}/cib-desired.xml; echo ${MARK}; cat ${d}/cib.patch; ${simulate}` });
  const r = await conn.exec(cib.script, { stdin: cib.stdin });
  if (r.code !== 0) throw new Error(`${node}: building the desired CIB failed: ${maskSecrets(r.stderr.trim().split("\n").slice(-3).join(" "), model.secrets)}`);
  const [head = "", desired = "", patch = "", simulation] = r.stdout.split(`${MARK}\n`);
  const changed = /^CHANGED$/m.test(head.split("\n")[0] ?? "");
  const live = head.slice(head.indexOf("\n") + 1);
  const flatLive = flattenCib(live);
  const moves = [...flatLive.keys()].filter(isMoveConstraint).map((l) => l.replace(/^location /, ""));
  // Secrets by position: the declared ones and, from the live CIB, the old values of a rotation, which
  // also join model.secrets so that every later output (logs, --json) masks them.
  const secrets = secretParams(model.crm);
  const old = secretNvpairs(live, secrets);
  const secretIds = new Set([...old.keys(), ...secretNvpairs(desired, secrets).keys()]);
  model.secrets.push(...[...old.values()].filter((v) => v && !model.secrets.includes(v)));
  const summary = summarize(flattenCib(live, { skip: isMoveConstraint }), flattenCib(desired, { skip: isMoveConstraint }), secretField(secrets));
  const prediction = changed && simulation !== undefined ? predictionOf(simulation, model.resourceIds.postgresql) : undefined;
  return { drift: { node, summary, patch: changed ? maskSecrets(maskCibPatch(patch, secretIds), model.secrets) : "", prediction }, moves, switches: runtimeSwitches(live) };
}

/** `mon`: crm_mon -1 --output-as=xml on the node the CIB was compared on. */
function runtimeWarnings(model: ClusterModel, mon: ExecResult, facts: Record<string, HostFacts>, moves: string[], switches: RuntimeSwitch[]): string[] {
  const warnings = moves.map((m) => `constraint ${m} was left by crm_resource --move/--ban: it can stop the next failover (crm_resource --clear -r <resource>)`);
  warnings.push(...switches.map(switchWarning));
  const locked = model.nodes.filter((n) => facts[n.name]!.pgsqlLock && !facts[n.name]!.postgresRunning).map((n) => n.name);
  let needs: RecoveryNeed[] = [];
  const r = mon;
  if (r.code === 0) {
    const s = parseCrmMon(r.stdout);
    needs = recoveryNeeds(model, s, locked);
    warnings.push(...needs.map(recoveryWarning));
    for (const n of s.nodes) {
      if (!n.online) warnings.push(`node ${n.name} is offline`);
      // Beyond the switches in the configuration: a standby or maintenance that lasts until the node reboots.
      if (n.standby && !nodeSwitched(switches, n.name, "standby")) warnings.push(`node ${n.name} is in standby`);
      if (n.maintenance && !nodeSwitched(switches, n.name, "maintenance")) warnings.push(`node ${n.name} is in maintenance`);
      for (const f of n.failcounts.filter((f) => !coveredFailCount(needs, model, n.name, f.resource))) warnings.push(`fail count ${f.count} for ${f.resource} on ${n.name} (crm_resource --cleanup -r ${f.resource} -N ${n.name})`);
    }
  }
  for (const n of model.nodes.filter((x) => !needs.some((r) => r.node === x.name))) {
    const f = facts[n.name]!;
    if (f.pgsqlLock && !f.postgresRunning) {
      warnings.push(`${n.name}: ${model.postgresql.tmpdir}/PGSQL.lock is left on a stopped node: the pgsql agent will not start PostgreSQL there until the node is rebuilt as a standby and the lock removed`);
    }
  }
  return warnings;
}

/** `allow` and `rollingRestart`: what apply would be allowed to do (apply --check), for the plan per node. */
export async function diffCluster(
  model: ClusterModel,
  rendered: RenderedCluster,
  opts: { connectTimeoutMs: number; hostKeyPolicy?: HostKeyPolicy; connections?: Promise<Connections>; allow?: readonly Disruption[]; rollingRestart?: boolean },
): Promise<DiffResult> {
  return withConnections(model, opts, async (conns) => {
    const facts = await gatherFacts(model, conns);
    const changed = [...(await Promise.all(model.nodes.map((n) => fileDrifts(model, rendered, n.name, facts[n.name]!, conns.get(n.name)!)))).flat(), ...authkeyDrifts(model, facts).map((drift) => ({ drift, plan: { node: drift.node, path: drift.path } as PlanFile }))];
    const files = changed.map((c) => c.drift);
    // Which parameters only a restart applies, from PostgreSQL itself, when a postgresql.conf changes.
    const conf = changed.find((c) => c.plan.path === model.postgresql.configFile && c.plan.after !== undefined);
    const contexts = conf
      ? conns.get(conf.plan.node)!.exec(`runuser -u ${shq(model.postgresql.osUser)} -- env -C / ${shq(`${model.postgresql.bindir}/postgres`)} --describe-config`).catch((e: Error): ExecResult => ({ code: -1, stdout: "", stderr: e.message }))
      : undefined;
    const running = model.nodes.find((n) => facts[n.name]?.services.pacemaker === "active");
    let cib: CibDrift | undefined;
    let status: ClusterStatus | undefined;
    const warnings: string[] = [];
    if (running) {
      const conn = conns.get(running.name)!;
      // crm_mon on a second channel of the same connection, alongside the CIB comparison: no round trip of its own.
      const [{ drift, moves, switches }, mon] = await Promise.all([cibDrift(model, rendered, running.name, facts[running.name]!, conn), conn.exec("crm_mon -1 --output-as=xml")]);
      cib = drift;
      warnings.push(...runtimeWarnings(model, mon, facts, moves, switches));
      if (mon.code === 0) status = parseCrmMon(mon.stdout);
    } else warnings.push("Pacemaker runs on no node: the CIB was not compared");
    const gone = status ? leavingNodes(model, status) : [];
    const leaving = gone.map((n) => leavePlan(n, model.nodes.map((x) => x.name)));
    const described = await contexts;
    if (described && described.code !== 0) warnings.push(`${conf!.plan.node}: postgres --describe-config failed: the plan per node cannot say which parameters wait for a restart`);
    const nodes = nodePlans({
      nodes: model.nodes.map((n) => n.name),
      primary: runningPrimary(status, model.resourceIds.postgresql),
      running: model.nodes.filter((n) => facts[n.name]!.postgresRunning).map((n) => n.name),
      corosyncRunning: model.nodes.filter((n) => facts[n.name]!.services.corosync === "active").map((n) => n.name),
      files: changed.map((c) => c.plan),
      postgresqlConf: model.postgresql.configFile,
      restartParameters: restartParameters(described?.code === 0 ? described.stdout : ""),
      postgresql: model.resourceIds.postgresql,
      prediction: cib?.prediction,
      joining: joiningNodes(model, facts),
      leaving: gone,
      allowed: opts.allow,
      rollingRestart: opts.rollingRestart,
      singleInstance: model.topology === "shared-disk",
    });
    return { files, leaving, cib, warnings, differences: files.length + leaving.length + (cib?.summary.length ?? 0), nodes };
  });
}

/** The text a person reads: file diffs per node, the CIB summary and patch, the plan per node, then warnings. */
export function formatDiff(r: DiffResult, verbose: boolean): string[] {
  const out: string[] = [];
  for (const f of r.files) {
    out.push(`--- ${f.node}: ${f.path}: ${f.action} (${f.reasons.join(", ")})`);
    if (f.diff) out.push(f.diff.trimEnd());
    else if (f.action === "update") out.push("    (content holds a secret: not shown)");
  }
  out.push(...(r.leaving ?? []).map((l) => `--- leaves the cluster: ${l}`));
  if (r.cib && r.cib.summary.length) {
    out.push(`--- CIB (compared on ${r.cib.node}):`);
    out.push(...r.cib.summary.map((s) => `    ${s}`));
    if (verbose && r.cib.patch) out.push(r.cib.patch.trimEnd());
  }
  const p = r.cib?.prediction;
  if (p) {
    out.push(p.lines.length ? `--- Pacemaker would (crm_simulate on ${r.cib!.node}):` : `--- Pacemaker would change nothing that runs (crm_simulate on ${r.cib!.node})`);
    out.push(...p.lines.map((l) => `    ${l}`));
    const flags = missingFlags(p, []);
    if (flags.length) out.push(`    apply needs ${flags.join(" and ")}`);
    if (p.rolls) out.push(`    ${ROLLED}`);
  }
  if (r.differences && Object.keys(r.nodes).length) out.push(...formatNodePlans(r.nodes));
  out.push(...r.warnings.map((w) => `warning: ${w}`));
  out.push(r.differences === 0 ? "no differences" : `${r.differences} difference(s)`);
  return out;
}
