// Cluster state from Pacemaker's own XML (crm_mon --output-as=xml, cibadmin -Q): parsed here, purely, so
// status, wait_for and diff's runtime warnings read the cluster the same way.
import { XMLParser } from "fast-xml-parser";

export interface NodeStatus {
  name: string;
  online: boolean;
  standby: boolean;
  maintenance: boolean;
  unclean: boolean;
  attributes: Record<string, string>;
  failcounts: { resource: string; count: number }[];
}

export interface ResourceStatus {
  id: string;
  agent: string;
  role: string;
  nodes: string[];
  failed: boolean;
  /** False when Pacemaker leaves it alone (is-managed=false, maintenance, maintenance-mode). */
  managed: boolean;
  /** The target-role it is held at, its clone's or group's included, when one is set. */
  targetRole?: string;
  /** The clone or group it belongs to, if any. */
  parent?: string;
}

export interface ClusterStatus {
  quorum: boolean;
  dc?: string;
  maintenanceMode: boolean;
  nodes: NodeStatus[];
  resources: ResourceStatus[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  isArray: (name) => ["node", "resource", "clone", "group", "attribute", "resource_history", "rsc_location", "primitive", "instance_attributes", "nvpair"].includes(name),
});

export type X = Record<string, unknown>;
/** fast-xml-parser gives one child as an object and several as an array: always an array. */
export const arr = (v: unknown): X[] => (Array.isArray(v) ? (v as X[]) : v ? [v as X] : []);
const bool = (v: unknown) => v === "true";

export function parseCrmMon(xml: string): ClusterStatus {
  const root = (parser.parse(xml) as X)["pacemaker-result"] as X | undefined;
  if (!root) throw new Error("not crm_mon XML output");
  const summary = (root.summary ?? {}) as X;
  const dc = summary.current_dc as X | undefined;
  const options = (summary.cluster_options ?? {}) as X;
  const attrs = new Map<string, Record<string, string>>();
  for (const n of arr((root.node_attributes as X | undefined)?.node)) {
    attrs.set(String(n.name), Object.fromEntries(arr(n.attribute).map((a) => [String(a.name), String(a.value)])));
  }
  const fails = new Map<string, { resource: string; count: number }[]>();
  for (const n of arr((root.node_history as X | undefined)?.node)) {
    const list = arr(n.resource_history)
      .filter((h) => h["fail-count"] !== undefined && Number(h["fail-count"]) > 0)
      .map((h) => ({ resource: String(h.id), count: Number(h["fail-count"]) }));
    fails.set(String(n.name), list);
  }
  const nodes = arr((root.nodes as X | undefined)?.node).map((n) => ({
    name: String(n.name),
    online: bool(n.online),
    standby: bool(n.standby),
    maintenance: bool(n.maintenance),
    unclean: bool(n.unclean),
    attributes: attrs.get(String(n.name)) ?? {},
    failcounts: fails.get(String(n.name)) ?? [],
  }));
  const resources: ResourceStatus[] = [];
  const addResources = (list: X[], parent?: string) => {
    for (const r of list) {
      resources.push({ id: String(r.id), agent: String(r.resource_agent ?? ""), role: String(r.role ?? ""), nodes: arr(r.node).map((n) => String(n.name)), failed: bool(r.failed), managed: r.managed !== "false", targetRole: r.target_role === undefined ? undefined : String(r.target_role), parent });
    }
  };
  const res = (root.resources ?? {}) as X;
  addResources(arr(res.resource));
  for (const g of arr(res.group)) addResources(arr(g.resource), String(g.id));
  for (const c of arr(res.clone)) {
    addResources(arr(c.resource), String(c.id));
    for (const g of arr(c.group)) addResources(arr(g.resource), String(c.id));
  }
  return {
    quorum: bool(dc?.with_quorum),
    dc: dc && bool(dc.present) ? String(dc.name) : undefined,
    maintenanceMode: bool(options["maintenance-mode"]),
    nodes,
    resources,
  };
}

/** Constraints `crm_resource --move/--ban` leave behind: they silently block the next failover. */
export function leftoverMoveConstraints(cibXml: string): string[] {
  const ids: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, child] of Object.entries(v as X)) {
        if (k === "rsc_location") for (const l of arr(child)) if (/^cli-(ban|prefer)-/.test(String(l.id))) ids.push(String(l.id));
        walk(child);
      }
    }
  };
  walk(parser.parse(cibXml));
  return ids.sort();
}

/** The node where `pgId` is promoted (a promotable clone's primary), if any. */
export const promotedNode = (s: ClusterStatus | undefined, pgId: string): string | undefined =>
  s?.resources.find((r) => r.id === pgId && /^(Promoted|Master)$/.test(r.role))?.nodes[0];

/**
 * One line per node for a terminal: where PostgreSQL is primary (promoted, or simply started when it is
 * not a clone, as on a shared disk), where it is a standby, and which VIPs the node holds.
 */
export function statusTable(s: ClusterStatus, pgId: string, vipIds: string[], statusAttr: string): string[][] {
  return s.nodes.map((n) => {
    const pg = s.resources.filter((r) => r.id === pgId && r.nodes.includes(n.name));
    const promoted = pg.some((r) => /^(Promoted|Master|Started)$/.test(r.role));
    const unpromoted = pg.some((r) => /^(Unpromoted|Slave)$/.test(r.role));
    const vips = s.resources.filter((r) => vipIds.includes(r.id) && r.nodes.includes(n.name)).map((r) => r.id);
    const state = !n.online ? "OFFLINE" : n.standby ? "standby" : n.maintenance ? "maintenance" : "online";
    return [n.name, state, promoted ? "primary" : unpromoted ? "standby" : "-", n.attributes[statusAttr] ?? "-", vips.join(",") || "-", n.failcounts.map((f) => `${f.resource}=${f.count}`).join(",") || "-"];
  });
}

/** Permanent node attributes (the CIB's <nodes> section), such as pgsql-data-status, by node name. */
export function permanentNodeAttributes(nodesXml: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  const doc = parser.parse(nodesXml) as X;
  const nodes = arr(((doc.nodes as X | undefined) ?? (((doc.cib as X)?.configuration as X)?.nodes as X | undefined))?.node);
  for (const n of nodes) {
    const pairs = arr(n.instance_attributes).flatMap((set) => arr(set.nvpair));
    if (pairs.length) out[String(n.uname)] = Object.fromEntries(pairs.map((p) => [String(p.name), String(p.value)]));
  }
  return out;
}
