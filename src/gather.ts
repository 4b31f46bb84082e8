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
  const entries = await Promise.all(
    model.nodes.map(async (n) => {
      const r = await conns.get(n.name)!.exec("sh -s", { stdin: factsScript(model, model.files[n.name] ?? [], model.directories) });
      if (r.code !== 0) throw new GatherError(`${n.name}: gathering facts failed: ${r.stderr.trim()}`);
      return [n.name, parseFacts(r.stdout)] as const;
    }),
  );
  return Object.fromEntries(entries);
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
