// The plan per node: what a change will do on each node, in the order apply does it, from Pacemaker's
// predicted transition (crm_simulate, transition.ts) and the consequences pgha itself brings about with
// the files it writes (PostgreSQL reload or a restart left pending, corosync reload or coordinated
// restart, nodes that join or leave). Pure: it names parameters, keys, paths and resources, never a value.
import { classifyCorosyncChange } from "./corosync-change.js";
import { DISRUPTION_FLAGS, type Disruption } from "./disruptions.js";
import { COROSYNC_AUTHKEY, COROSYNC_CONF } from "./facts.js";
import type { LeavingNode } from "./node-leave.js";
import { canonicalSettings } from "./postgresql-conf.js";
import type { PlannedAction, Prediction } from "./transition.js";

export type NodeRole = "primary" | "standby" | "no instance" | "joins" | "leaves";

export interface NodeStep {
  /** Who acts: pgha on the membership, corosync, Pacemaker (its transition), or pgha on PostgreSQL. */
  kind: "membership" | "corosync" | "pacemaker" | "postgresql";
  what: string;
  why: string;
}

export interface NodePlan {
  role: NodeRole;
  actions: NodeStep[];
  /** One line: what happens there, and what does not (restart, move), with the flag apply needs. */
  verdict: string;
}

/**
 * A managed file that changes; `before` ("" for a new file) and `after` only where both are known and the
 * content may be shown (no secret, no symbolic link).
 */
export interface PlanFile {
  node: string;
  path: string;
  before?: string;
  after?: string;
}

export interface NodePlanInput {
  nodes: string[];
  /** The node that runs the primary now, every node where PostgreSQL runs, and where corosync runs. */
  primary?: string;
  running: string[];
  corosyncRunning: string[];
  files: PlanFile[];
  /** The path of postgresql.conf, and the parameters only a restart applies (`postgres --describe-config`). */
  postgresqlConf: string;
  restartParameters: ReadonlySet<string>;
  /** The PostgreSQL resource's id in the CIB. */
  postgresql: string;
  prediction?: Prediction;
  joining: string[];
  leaving: LeavingNode[];
  /** What the operator allowed (apply --allow-...), and whether apply rolls pending restarts (--rolling-restart). */
  allowed?: readonly Disruption[];
  rollingRestart?: boolean;
  /** A shared-disk cluster: one instance, which no rolling restart can restart without a failover. */
  singleInstance?: boolean;
}

/** The parameters whose context is postmaster in `postgres --describe-config` (name TAB context ...). */
export function restartParameters(describeConfig: string): Set<string> {
  return new Set(describeConfig.split("\n").map((l) => l.split("\t")).filter((f) => f[1] === "postmaster").map((f) => f[0]!.toLowerCase()));
}

const changedKeys = (a: Map<string, string>, b: Map<string, string>) => [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();

const PROMOTED = /^(Promoted|Master)$/;

interface Effects {
  steps: NodeStep[];
  pgRestart: boolean;
  otherRestart: boolean;
  moves: boolean;
  disruptions: Set<Disruption>;
}

/** One predicted action, seen from `node` (for a move: where it leaves, or where it arrives). */
function pacemakerStep(a: PlannedAction, node: string, input: NodePlanInput, e: Effects): void {
  const why = a.reason ? `Pacemaker's transition: ${a.reason}` : "Pacemaker's transition";
  const pg = a.resource === input.postgresql;
  const isPrimary = node === input.primary;
  const push = (what: string): void => void e.steps.push({ kind: "pacemaker", what, why });
  if (a.action === "fence") {
    e.disruptions.add("fence");
    return push("fenced by its fence device");
  }
  const arriving = a.to === node;
  if (!pg) {
    if (a.to) return push(arriving ? `${a.resource} arrives from ${a.node}` : `${a.resource} moves to ${a.to}`);
    if (["restart", "recover"].includes(a.action)) e.otherRestart = true;
    return push(`${a.action} ${a.resource}`);
  }
  const promoted = a.role !== undefined && PROMOTED.test(a.role);
  const primaryMoves = () => {
    e.moves = true;
    e.disruptions.add("move-primary");
  };
  switch (a.action) {
    case "restart":
    case "recover":
      e.pgRestart = true;
      if (isPrimary) e.disruptions.add("restart-primary");
      return push(isPrimary ? `PostgreSQL restarts: ${promoted ? "demoted and stopped, started and promoted again" : "stopped and started"} (writes fail meanwhile)` : "PostgreSQL restarts");
    case "stop":
      e.pgRestart = true;
      if (isPrimary) primaryMoves();
      return push(isPrimary ? "PostgreSQL stops: the primary leaves this node" : "PostgreSQL stops");
    case "start":
      return push("PostgreSQL starts");
    case "demote":
      if (isPrimary) primaryMoves();
      return push("PostgreSQL is demoted: no longer the primary");
    case "promote":
      if (!isPrimary) primaryMoves();
      return push("PostgreSQL is promoted: the new primary");
    case "move":
    case "migrate":
      e.pgRestart = true;
      if (isPrimary || arriving) primaryMoves();
      return push(arriving ? `PostgreSQL arrives from ${a.node}` : `PostgreSQL moves to ${a.to}`);
    case "reload":
      return push("PostgreSQL's resource reloads its parameters (no restart)");
    default:
      return push(`PostgreSQL: ${a.action}`);
  }
}

/** Every node's plan, in the spec's order and then the nodes that leave. */
export function nodePlans(input: NodePlanInput): Record<string, NodePlan> {
  const allowed = input.allowed ?? [];
  const leaving = (n: string) => input.leaving.find((l) => l.name === n);
  const member = (n: string) => !input.joining.includes(n) && !leaving(n);
  // corosync: a key that cannot change at run time on any node is a restart of the whole cluster.
  // A node where corosync does not run (a build, a stopped node) starts with the new file: nothing to reload.
  const corosync = input.files.filter((f) => f.path === COROSYNC_CONF && member(f.node) && input.corosyncRunning.includes(f.node));
  const classified = corosync.map((f) => ({ node: f.node, ...(f.before !== undefined && f.after !== undefined ? classifyCorosyncChange(f.before, f.after) : { apply: "unknown", changed: [], needRestart: [] }) }));
  const rekeyed = input.files.some((f) => f.path === COROSYNC_AUTHKEY && input.corosyncRunning.includes(f.node)) ? ["authkey"] : [];
  const needRestart = [...new Set([...classified.flatMap((c) => c.needRestart), ...rekeyed])];
  const rolled = input.prediction?.rolls === true && allowed.includes("restart-primary");

  const plan = (n: string): NodePlan => {
    const role: NodeRole = leaving(n) ? "leaves" : input.joining.includes(n) ? "joins" : n === input.primary ? "primary" : input.running.includes(n) ? "standby" : "no instance";
    const e: Effects = { steps: [], pgRestart: false, otherRestart: false, moves: false, disruptions: new Set() };
    const runs = input.running.includes(n);
    if (role === "leaves") {
      const what = leaving(n)!.online ? "leaves the cluster: standby until nothing runs there, then Pacemaker and corosync stop" : "leaves the cluster (offline): the others forget it";
      e.steps.push({ kind: "membership", what: `${what}; its data directory stays`, why: "the spec no longer names it" });
    }
    if (needRestart.length && member(n)) {
      e.steps.push({ kind: "corosync", what: "coordinated restart of the whole cluster: Pacemaker stops (standbys first, the primary last), corosync restarts, the same primary is promoted again", why: `${needRestart.join(", ")} cannot change at run time` });
      if (runs) e.pgRestart = true;
    } else {
      const c = classified.find((x) => x.node === n);
      if (c?.apply === "reload") e.steps.push({ kind: "corosync", what: "corosync reload (corosync-cfgtool -R)", why: `changed: ${c.changed.join(", ")}` });
      else if (c?.apply === "unknown") e.steps.push({ kind: "corosync", what: "corosync.conf is rewritten: reload or coordinated restart, as apply finds it", why: "its current content could not be compared" });
      else if (member(n) && input.files.some((f) => f.node === n && f.path === COROSYNC_CONF && !input.corosyncRunning.includes(n))) {
        e.steps.push({ kind: "corosync", what: "corosync.conf changes; corosync does not run here: it starts with it", why: "corosync.conf changes" });
      }
    }
    if (role === "joins") e.steps.push({ kind: "membership", what: "joins: its replication slot on the primary, a base backup from the primary, Pacemaker started", why: "new in the spec" });
    for (const a of input.prediction?.actions ?? []) if (a.node === n || a.to === n) pacemakerStep(a, n, input, e);
    if (rolled && runs && e.pgRestart) {
      e.moves = true;
      e.steps.push({
        kind: "pacemaker",
        what: n === input.primary ? "rolled instead of restarted in place: a switchover to a standby, then PostgreSQL restarts here as a standby" : "rolled: PostgreSQL stops before the CIB changes and starts with it; the switchover may promote it",
        why: "apply --allow-primary-restart rolls a change of PostgreSQL's own resource definition",
      });
    }
    const pgFiles = input.files.filter((f) => f.node === n && f.path !== COROSYNC_CONF && f.path !== COROSYNC_AUTHKEY);
    if (pgFiles.length && role !== "leaves" && role !== "joins") {
      const names = pgFiles.map((f) => f.path.split("/").at(-1)).join(", ");
      if (!runs) e.steps.push({ kind: "postgresql", what: "configuration files change; PostgreSQL does not run here: they apply when it starts", why: `${names} change` });
      else {
        e.steps.push({ kind: "postgresql", what: "PostgreSQL reload", why: `${names} change` });
        const conf = pgFiles.find((f) => f.path === input.postgresqlConf);
        const pending = conf?.before === undefined || conf.after === undefined ? [] : changedKeys(canonicalSettings(conf.path, conf.before), canonicalSettings(conf.path, conf.after)).filter((k) => input.restartParameters.has(k));
        if (pending.length && input.rollingRestart && !input.singleInstance) {
          e.pgRestart = true;
          if (n === input.primary) e.moves = true;
          e.steps.push({ kind: "postgresql", what: n === input.primary ? `rolling restart for ${pending.join(", ")}: a switchover first, then PostgreSQL restarts here as a standby` : `rolling restart for ${pending.join(", ")}: PostgreSQL restarts through Pacemaker, the standbys one at a time`, why: "apply --rolling-restart" });
        } else if (pending.length) {
          const how = input.singleInstance ? "a restart of the single instance is a failover: crm resource restart" : "apply --rolling-restart applies it";
          e.steps.push({ kind: "postgresql", what: `restart pending for ${pending.join(", ")} (${how})`, why: "only a restart applies these parameters; pgha never restarts PostgreSQL behind Pacemaker's back" });
        }
      }
    }
    const not = role === "leaves" ? [] : [e.pgRestart ? undefined : e.otherRestart ? "no PostgreSQL restart" : "no restart", role === "primary" && !e.moves ? "no move" : undefined].filter(Boolean);
    const needs = [...e.disruptions].filter((d) => !allowed.includes(d)).map((d) => DISRUPTION_FLAGS[d]);
    const effects = [...new Set(e.steps.map((s) => s.what))];
    const verdict = `${n} (${role}): ${effects.length ? effects.join("; ") : "nothing changes"}${not.length ? `; ${not.join(", ")}` : ""}${needs.length ? `; apply needs ${needs.join(" and ")}` : ""}`;
    return { role, actions: e.steps, verdict };
  };
  return Object.fromEntries([...input.nodes, ...input.leaving.map((l) => l.name).filter((n) => !input.nodes.includes(n))].map((n) => [n, plan(n)]));
}

/** The "plan per node" section of diff and apply --check. */
export function formatNodePlans(plans: Record<string, NodePlan>): string[] {
  const out = ["--- plan per node:"];
  for (const p of Object.values(plans)) {
    out.push(`    ${p.verdict}`);
    out.push(...p.actions.map((a) => `      ${a.kind}: ${a.what} (${a.why})`));
  }
  return out;
}
