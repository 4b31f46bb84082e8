// Read facts first: a connection to every node, then each node's facts in one remote command. Nothing
// here changes a host; apply and diff plan from what this returns.
import { factsScript, parseFacts, type HostFacts } from "./facts.js";
import type { ClusterModel } from "./model/types.js";
import { connect, type Connection, type TransportOptions } from "./transport.js";

export type Connections = Map<string, Connection>;

export class GatherError extends Error {
  override name = "GatherError";
}

/** Opens every connection first; if any host is unreachable, none is used. */
export async function connectAll(model: ClusterModel, opts: TransportOptions): Promise<Connections> {
  const results = await Promise.allSettled(model.nodes.map((n) => connect(n, opts)));
  const conns: Connections = new Map();
  const failures: string[] = [];
  results.forEach((r, i) => (r.status === "fulfilled" ? conns.set(model.nodes[i]!.name, r.value) : failures.push((r.reason as Error).message)));
  if (failures.length) {
    conns.forEach((c) => c.close());
    throw new GatherError(`cannot reach every node, nothing was changed:\n  ${failures.join("\n  ")}`);
  }
  return conns;
}

export async function gatherFacts(model: ClusterModel, conns: Connections): Promise<Record<string, HostFacts>> {
  return (await gatherFactsWith(model, conns)).facts;
}

const FACTS_END = "--pgha-facts-end--";

/**
 * Each node's facts and, in the same command, what `probe` reads there (its output by node): one round
 * trip per host for both. The facts' own exit status stands, whatever the probe's.
 */
export async function gatherFactsWith(model: ClusterModel, conns: Connections, probe?: (node: string, index: number) => string): Promise<{ facts: Record<string, HostFacts>; probes: Record<string, string> }> {
  const entries = await Promise.all(
    model.nodes.map(async (n, i) => {
      const facts = factsScript(model, model.files[n.name] ?? [], model.directories);
      const r = await conns.get(n.name)!.exec("sh -s", { stdin: probe ? `${facts}rc=$?\necho ${FACTS_END}\n${probe(n.name, i)}\nexit $rc\n` : facts });
      if (r.code !== 0) throw new GatherError(`${n.name}: gathering facts failed: ${r.stderr.trim()}`);
      const at = probe ? r.stdout.indexOf(`${FACTS_END}\n`) : -1;
      return [n.name, parseFacts(at < 0 ? r.stdout : r.stdout.slice(0, at)), at < 0 ? "" : r.stdout.slice(at + FACTS_END.length + 1)] as const;
    }),
  );
  return { facts: Object.fromEntries(entries.map(([n, f]) => [n, f])), probes: Object.fromEntries(entries.map(([n, , p]) => [n, p])) };
}

/**
 * Runs `use` over connections that are opened here, or over `opened` (connections the caller started
 * opening earlier, so the handshakes overlap its own work) which then stay the caller's to close.
 */
export async function withConnections<T>(model: ClusterModel, opts: TransportOptions & { connections?: Promise<Connections> }, use: (conns: Connections) => Promise<T>): Promise<T> {
  const conns = await (opts.connections ?? connectAll(model, opts));
  try {
    return await use(conns);
  } finally {
    if (!opts.connections) conns.forEach((c) => c.close());
  }
}
