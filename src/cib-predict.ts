// crm_predict: before anything changes, the desired CIB is built (as crm_load builds it) and, when it
// differs from the live one, Pacemaker's own scheduler says what it would do: crm_simulate on a copy of
// the live CIB and on the desired one, both with the live status section. What the change adds is
// compared with what the operator allowed; a surprise stops the run here, with nothing touched.
import { desiredCib } from "./cib-script.js";
import { shq } from "./shell.js";
import { keepLiveNodeListScript, nodeListResource, removedPrimaryRefusal } from "./node-join.js";
import { truthy } from "./runtime-switches.js";
import { missingFlags, parseSimulation, predict, primaryOf, ROLLED, type Prediction } from "./transition.js";
import { clusterStatus, exec, must, runningPrimary, TaskError, type HostCtx, type RunCtx, type TaskResult } from "./tasks.js";
import type { ClusterStatus } from "./status.js";

/** What crm_predict found, for crm_load and for the report. */
export interface CibPlan {
  changed: boolean;
  prediction?: Prediction;
}

const MARK = "--- pgha: desired transition ---";
const DRAIN = "--- pgha: drain transition ---";
const SIMULATION = "--- pgha: transitions ---";

/**
 * After the desired-CIB script said CHANGED: the live CIB's transition, then the desired CIB's after a
 * mark. With `inPlace` (the pgsql resource), the desired CIB is simulated with the live node_list, which
 * pgha sets in place without a restart (node-join.ts). A node of the live CIB that `nodes` (the spec's)
 * lacks leaves as apply does it, in two transitions: its drain first (the live CIB with it in standby,
 * after a drain mark), then the desired CIB on the status that the drain leaves. Simulated at once, a
 * smaller clone-max can make the scheduler stop another node's instance (the primary's) and move the
 * leaving one there instead, which the real drain never does.
 */
export function simulateScript(dir: string, inPlace: string | undefined, nodes: string[]): string {
  const [live, desired, drained] = [`${dir}/cib-live.xml`, `${dir}/cib-simulated.xml`, `${dir}/cib-drained.xml`];
  const standby = (file: string) => `CIB_file=${file} crm_attribute -N "$n" -n standby -l forever --update=on >/dev/null`;
  const leaving = `leaving=$(for n in $(CIB_file=${live} cibadmin -Q --xpath '//nodes/node' 2>/dev/null | sed -n 's/.* uname="\\([^"]*\\)".*/\\1/p'); do case ${shq(` ${nodes.join(" ")} `)} in *" $n "*) ;; *) echo "$n";; esac; done)`;
  const drain = [
    `if [ -n "$leaving" ]; then cp ${live} ${drained}; for n in $leaving; do ${standby(drained)}; ${standby(desired)}; done`,
    `echo '${DRAIN}'`,
    `crm_simulate -x ${drained} -S -O ${dir}/cib-drained-after.xml --output-as=xml`,
    `CIB_file=${dir}/cib-drained-after.xml cibadmin -Q -o status > ${dir}/status-drained.xml`,
    `CIB_file=${desired} cibadmin --replace -o status --xml-file ${dir}/status-drained.xml; fi`,
  ].join("; ");
  const keep = inPlace ? [keepLiveNodeListScript(inPlace, live, desired)] : [];
  return [`cp ${dir}/cib-desired.xml ${desired}`, leaving, ...keep, `crm_simulate -x ${live} -S --output-as=xml`, drain, `echo '${MARK}'`, `crm_simulate -x ${desired} -S --output-as=xml`].join("\n");
}

/** Reads simulateScript's output into the change's consequences: the drain's and the desired CIB's actions. Pure. */
export function predictionOf(out: string, postgresql: string): Prediction {
  const at = out.indexOf(MARK);
  if (at < 0) throw new Error("crm_simulate's output is incomplete");
  const drainAt = out.indexOf(DRAIN);
  const live = out.slice(0, drainAt >= 0 && drainAt < at ? drainAt : at);
  const steps = [...(drainAt >= 0 && drainAt < at ? [out.slice(drainAt + DRAIN.length, at)] : []), out.slice(at + MARK.length)];
  return predict(steps.flatMap(parseSimulation), parseSimulation(live), { postgresql, primary: primaryOf(live, postgresql) });
}

/** The flag hint and the plan, as one message. */
export function describePlan(p: Prediction, missing: string[]): string {
  const head = (p.lines.length ? `Pacemaker would: ${p.lines.join("; ")}` : "Pacemaker would change nothing that runs") + (p.rolls ? `; ${ROLLED}` : "");
  return missing.length ? `${head}. Not applied: this needs ${missing.join(" and ")}` : head;
}

export async function crmPredict(ctx: RunCtx, h: HostCtx): Promise<TaskResult> {
  // Both transitions in the same command as the desired CIB, whose scratch files go when it ends.
  const simulate = `if [ -s "$t"/cib.patch ]; then echo '${SIMULATION}'; ${simulateScript('"$t"', nodeListResource(ctx.model), ctx.model.nodes.map((n) => n.name)).replace(/\n/g, "; ")}; fi`;
  const cib = desiredCib(ctx.rendered, (b) => Boolean(h.facts.binaries[b]), { clear: ctx.clear, then: simulate });
  const out = await must(ctx, h, cib.script, cib.stdin);
  if (!/^CHANGED$/m.test(out)) {
    ctx.cibPlan = { changed: false };
    return { changed: false };
  }
  // A node the spec drops changes the CIB too (its fence device, node_list): the primary's is refused here.
  const refusal = removedPrimaryRefusal(ctx.model, await clusterStatus(ctx, h));
  if (refusal) throw new TaskError(h.node.name, refusal);
  const prediction = predictionOf(out.slice(out.indexOf(SIMULATION) + SIMULATION.length), ctx.model.resourceIds.postgresql);
  ctx.cibPlan = { changed: true, prediction };
  const missing = missingFlags(prediction, ctx.allow ?? []);
  if (missing.length && !ctx.check) throw new TaskError(h.node.name, describePlan(prediction, missing));
  // As crm_load says when it applies: with the desired CIB in maintenance mode, Pacemaker acts on nothing of this until it ends.
  const later = truthy(/^maintenance-mode=(.*)$/m.exec(out)?.[1] ?? "") ? "; maintenance-mode is on: Pacemaker acts on this change only when maintenance mode ends" : "";
  return { changed: true, msg: describePlan(prediction, missing) + later, detail: { prediction: { ...prediction, missingFlags: missing } } };
}

type Fails = Map<string, number>;
const failsOf = (s: ClusterStatus | undefined): Fails => new Map((s?.nodes ?? []).flatMap((n) => n.failcounts.map((f) => [`${f.resource} on ${n.name}`, f.count] as const)));

/** What differs between the cluster before a CIB change and after it settled, against the plan. Pure. */
export function surprises(before: ClusterStatus | undefined, after: ClusterStatus | undefined, postgresql: string, plan: Prediction | undefined): string[] {
  const out: string[] = [];
  const was = runningPrimary(before, postgresql);
  const now = runningPrimary(after, postgresql);
  if (was && now !== was && !plan?.disruptions.includes("move-primary")) {
    out.push(
      now
        ? `the primary moved from ${was} to ${now}, which the plan did not say; ${was} must be rebuilt as a standby of ${now} before it rejoins (pgha recover ${was})`
        : `the primary on ${was} stopped and no node was promoted, which the plan did not say: the cluster has no primary now (pgha status shows why)`,
    );
  }
  const old = failsOf(before);
  const fresh = [...failsOf(after)].filter(([k, n]) => n > (old.get(k) ?? 0)).map(([k, n]) => `${k} (${n})`);
  if (fresh.length) out.push(`new fail counts: ${fresh.join(", ")}`);
  return out;
}

/**
 * After the patch: waits until Pacemaker has run every transition it scheduled (crm_resource --wait),
 * then checks that nothing happened that the plan did not say. A surprise is an error, never a success.
 */
export async function settleAndVerify(ctx: RunCtx, h: HostCtx, before: ClusterStatus | undefined, timeout = 300): Promise<void> {
  const wait = await exec(ctx, h, `crm_resource --wait --timeout=${timeout}s`);
  if (wait.code !== 0) throw new TaskError(h.node.name, `the cluster did not settle within ${timeout}s after the CIB change: ${(wait.stderr || wait.stdout).trim().split("\n")[0]}`);
  const after = await clusterStatus(ctx, h);
  const found = surprises(before, after, ctx.model.resourceIds.postgresql, ctx.cibPlan?.prediction);
  if (found.length) throw new TaskError(h.node.name, `after the CIB change: ${found.join("; ")}`);
}
