// Read facts first: a connection to every node, then each node's facts in one remote command. Nothing
// here changes a host; apply and diff plan from what this returns.
import { factsScript, parseFacts, type HostFacts } from "./facts.js";
import type { ClusterModel } from "./model/types.js";
import { parseCrmMon, type ClusterStatus } from "./status.js";
import { connect, type Connection, type TransportOptions } from "./transport.js";

export type Connections = Map<string, Connection>;

export class GatherError extends Error {
  override name = "GatherError";
}

/** Why a node could not be reached (its connect error, which names it). */
export interface Unreachable {
  node: string;
  error: string;
}
/** Connections to the nodes that answered, and why each other node did not. */
export type Reached = Connections & { unreachable: Unreachable[] };

/** Opens a connection to every node it can; the others are listed, not thrown (apply decides about them). */
export async function connectReachable(model: ClusterModel, opts: TransportOptions): Promise<Reached> {
  const results = await Promise.allSettled(model.nodes.map((n) => connect(n, opts)));
  const conns: Reached = Object.assign(new Map<string, Connection>(), { unreachable: [] as Unreachable[] });
  results.forEach((r, i) => (r.status === "fulfilled" ? conns.set(model.nodes[i]!.name, r.value) : conns.unreachable.push({ node: model.nodes[i]!.name, error: (r.reason as Error).message })));
  return conns;
}

export const unreachableMessage = (unreachable: Unreachable[]) => `cannot reach every node, nothing was changed:\n  ${unreachable.map((u) => u.error).join("\n  ")}`;

/** The nodes `conns` holds no connection to, and why (from connectReachable, where it opened them). */
export const unreachableIn = (model: ClusterModel, conns: Connections): Unreachable[] =>
  model.nodes.filter((n) => !conns.has(n.name)).map((n) => (conns as Partial<Reached>).unreachable?.find((u) => u.node === n.name) ?? { node: n.name, error: `${n.name}: not connected` });

/** Opens every connection first; if any host is unreachable, none is used. */
export async function connectAll(model: ClusterModel, opts: TransportOptions): Promise<Connections> {
  const conns = await connectReachable(model, opts);
  if (conns.unreachable.length) {
    conns.forEach((c) => c.close());
    throw new GatherError(unreachableMessage(conns.unreachable));
  }
  return conns;
}

/** Every node's facts: a node out of reach is an error here (diff compares every node). */
export async function gatherFacts(model: ClusterModel, conns: Connections): Promise<Record<string, HostFacts>> {
  const unreachable = unreachableIn(model, conns);
  if (unreachable.length) throw new GatherError(unreachableMessage(unreachable));
  return (await gatherFactsWith(model, conns)).facts;
}

const FACTS_END = "--pgha-facts-end--";

/**
 * Each connected node's facts and, in the same command, what `probe` reads there (its output by node):
 * one round trip per host for both. The facts' own exit status stands, whatever the probe's.
 */
export async function gatherFactsWith(model: ClusterModel, conns: Connections, probe?: (node: string, index: number) => string): Promise<{ facts: Record<string, HostFacts>; probes: Record<string, string> }> {
  const entries = await Promise.all(
    model.nodes.filter((n) => conns.has(n.name)).map(async (n) => {
      const i = model.nodes.indexOf(n);
      const facts = factsScript(model, model.files[n.name] ?? [], model.directories);
      const r = await conns.get(n.name)!.exec("sh -s", { stdin: probe ? `${facts}rc=$?\necho ${FACTS_END}\n${probe(n.name, i)}\nexit $rc\n` : facts });
      if (r.code !== 0) throw new GatherError(`${n.name}: gathering facts failed: ${r.stderr.trim()}`);
      const at = probe ? r.stdout.indexOf(`${FACTS_END}\n`) : -1;
      return [n.name, parseFacts(at < 0 ? r.stdout : r.stdout.slice(0, at)), at < 0 ? "" : r.stdout.slice(at + FACTS_END.length + 1)] as const;
    }),
  );
  return { facts: Object.fromEntries(entries.map(([n, f]) => [n, f])), probes: Object.fromEntries(entries.map(([n, , p]) => [n, p])) };
}

/** crm_mon's view from the first connected node whose Pacemaker runs (undefined: none answers). */
export async function clusterView(conns: Connections, facts: Record<string, HostFacts>): Promise<ClusterStatus | undefined> {
  for (const [node, conn] of conns) {
    if (facts[node]?.services.pacemaker !== "active") continue;
    const r = await conn.exec("crm_mon -1 --output-as=xml");
    if (r.code !== 0) continue;
    try {
      return parseCrmMon(r.stdout);
    } catch {
      continue; // not crm_mon's XML: ask the next node
    }
  }
  return undefined;
}

/**
 * Runs `use` over connections that are opened here, or over `opened` (connections the caller started
 * opening earlier, so the handshakes overlap its own work) which then stay the caller's to close.
 */
export async function withConnections<T>(
  model: ClusterModel,
  opts: TransportOptions & { connections?: Promise<Connections> },
  use: (conns: Connections) => Promise<T>,
  open: (model: ClusterModel, opts: TransportOptions) => Promise<Connections> = connectAll,
): Promise<T> {
  const conns = await (opts.connections ?? open(model, opts));
  try {
    return await use(conns);
  } finally {
    if (!opts.connections) conns.forEach((c) => c.close());
  }
}
