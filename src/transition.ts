// What Pacemaker would do with a CIB: the actions of crm_simulate's transition (its XML output), read into
// what they mean for the database, and which of them an operator must agree to first. Pure: the node
// runs crm_simulate on copies of the live and the desired CIB, and this module compares the two.
import { XMLParser } from "fast-xml-parser";
import { DISRUPTION_FLAGS, type Disruption } from "./disruptions.js";

export interface PlannedAction {
  /** Pacemaker's word: start, stop, restart, recover, reload, move, migrate, promote, demote, fence. */
  action: string;
  /** The resource, without a clone instance number (pgsql:0 is pgsql). */
  resource?: string;
  /** Where it happens; for a move, where the resource leaves. */
  node?: string;
  /** For a move or migration, where the resource goes. */
  to?: string;
  /** The role before the action (Promoted, Unpromoted, Started), and after it for a promote or demote. */
  role?: string;
  nextRole?: string;
  reason?: string;
}


export interface Prediction {
  /** The actions the change causes: the desired CIB's transition less what the live CIB would do anyway. */
  actions: PlannedAction[];
  disruptions: Disruption[];
  /** One line per action, for people, with what it means for PostgreSQL. */
  lines: string[];
  /**
   * The primary's restart comes only from PostgreSQL's own resource definition (a parameter of the
   * agent): apply --allow-primary-restart rolls it instead (tasks/cib-rolled.ts), standbys first.
   */
  rolls?: boolean;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (name) => ["rsc_action", "node_action"].includes(name) });

type X = Record<string, string | undefined>;

/** The planned actions of `crm_simulate -S --output-as=xml` (the summary, not every notify and monitor). */
export function parseSimulation(xml: string): PlannedAction[] {
  const doc = parser.parse(xml) as { "pacemaker-result"?: { actions?: { rsc_action?: X[]; node_action?: X[] } | string } };
  const acts = doc["pacemaker-result"]?.actions;
  if (acts === undefined) throw new Error("crm_simulate printed no <actions> section");
  if (typeof acts === "string") return [];
  const fences = (acts.node_action ?? []).map((a): PlannedAction => ({ action: /^Fence/.test(a.task ?? "") ? "fence" : (a.task ?? "").toLowerCase(), node: a.node, reason: a.reason }));
  const rscs = (acts.rsc_action ?? []).map((a): PlannedAction => {
    const moving = a.dest !== undefined;
    return {
      action: a.action ?? "",
      resource: a.resource?.replace(/:\d+$/, ""),
      node: a.node ?? a.source,
      to: moving ? a.dest : undefined,
      role: a.role,
      nextRole: a["next-role"],
      reason: a.reason,
    };
  });
  return [...fences, ...rscs].map((a) => Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as unknown as PlannedAction);
}

const PROMOTED = new Set(["Promoted", "Master"]);

const statusParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (name) => ["resource", "clone", "group", "node"].includes(name) });

/** The node that runs the primary in a crm_simulate (or crm_mon) XML status: the promoted instance, or the started one. */
export function primaryOf(xml: string, postgresql: string): string | undefined {
  const found: { role: string; node: string }[] = [];
  const walk = (o: unknown): void => {
    if (Array.isArray(o)) return o.forEach(walk);
    if (!o || typeof o !== "object") return;
    const r = o as Record<string, unknown>;
    for (const res of (r.resource as X[] | undefined) ?? []) {
      const nodes = (res as unknown as { node?: X[] }).node ?? [];
      if (res.id === postgresql && nodes[0]?.name) found.push({ role: res.role ?? "", node: nodes[0].name });
    }
    Object.entries(r).filter(([k]) => k !== "resource").forEach(([, v]) => walk(v));
  };
  walk((statusParser.parse(xml) as { "pacemaker-result"?: { cluster_status?: unknown } })["pacemaker-result"]?.cluster_status);
  return (found.find((f) => PROMOTED.has(f.role)) ?? found.find((f) => f.role === "Started"))?.node;
}
const key = (a: PlannedAction) => JSON.stringify([a.action, a.resource, a.node, a.to, a.role, a.nextRole]);

/**
 * Compares the transitions of the desired and the live CIB. `postgresql` is the PostgreSQL resource's id and
 * `primary` the node that runs the primary (the promoted instance, or the shared-disk group's node).
 */
export function predict(desired: PlannedAction[], live: PlannedAction[], ids: { postgresql: string; primary?: string }): Prediction {
  const anyway = new Set(live.map(key));
  const actions = desired.filter((a) => !anyway.has(key(a)));
  const disruptions = new Set<Disruption>();
  const lines = actions.map((a) => {
    const pg = a.resource === ids.postgresql;
    const onPrimary = pg && a.node !== undefined && a.node === ids.primary && (a.role === undefined || PROMOTED.has(a.role) || a.role === "Started");
    let meaning = "";
    if (a.action === "fence") {
      disruptions.add("fence");
      meaning = "the node is fenced";
    } else if (onPrimary && ["stop", "demote", "move", "migrate"].includes(a.action)) {
      disruptions.add("move-primary");
      meaning = "the primary stops there: a failover";
    } else if (onPrimary && ["restart", "recover"].includes(a.action)) {
      disruptions.add("restart-primary");
      meaning = "the primary's PostgreSQL restarts: writes fail meanwhile, and the pgsql agent may promote a standby instead";
    } else if (pg && a.action === "promote" && a.node !== ids.primary) {
      disruptions.add("move-primary");
      meaning = "a new primary: a failover";
    } else if (pg && ["restart", "recover", "stop"].includes(a.action)) {
      meaning = "a standby restarts or stops";
    }
    const where = a.to ? `${a.node} -> ${a.to}` : (a.node ?? "?");
    const role = a.nextRole ? ` (${a.role} -> ${a.nextRole})` : a.role ? ` (${a.role})` : "";
    return `${where}: ${a.action} ${a.resource ?? ""}${role}`.trimEnd() + (a.reason ? `, due to ${a.reason}` : "") + (meaning ? `: ${meaning}` : "");
  });
  const own = actions.filter((a) => /definition change/.test(a.reason ?? ""));
  const rolls = disruptions.size === 1 && disruptions.has("restart-primary") && own.length > 0 && own.every((a) => a.resource === ids.postgresql);
  return { actions, disruptions: [...disruptions], lines, ...(rolls ? { rolls } : {}) };
}

/** What apply does instead of the restart Pacemaker would make, when it rolls the change. */
export const ROLLED = "apply --allow-primary-restart rolls it instead: the standbys stop, the CIB changes under maintenance mode, the standbys start with it, then a switchover and the old primary restarts as a standby";

/** The flags a prediction needs that the user did not pass. */
export function missingFlags(p: Prediction, allowed: readonly Disruption[]): string[] {
  return p.disruptions.filter((d) => !allowed.includes(d)).map((d) => DISRUPTION_FLAGS[d]);
}
