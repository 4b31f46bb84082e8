// apply: connect -> gather facts (one command per host) -> decide -> run the playbook's tasks in order,
// hosts in parallel within a task -> run notified handlers -> report. Nothing runs before every host has
// answered and every fact is in, so bad input or an unreachable host touches nothing, except a node the
// running cluster has as down (degraded.ts): the others are worked on and the run ends naming it.
import type { Disruption } from "./disruptions.js";
import { Listr, type ListrTask } from "listr2";

// listr2 types its renderers generically; pgha picks one at run time.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Task = ListrTask<unknown, any, any>;
import type { RuntimeState } from "./cib-script.js";
import { clusterStatusTable, reuse, settled, statusFromProbes, statusProbe, statusView, type StatusView } from "./cluster-status.js";
import type { HostFacts } from "./facts.js";
import { clusterView, connectAll, connectReachable, GatherError, gatherFactsWith, unreachableIn, unreachableMessage, withConnections, type Connections } from "./gather.js";
import { degradedMessage, downNodes } from "./degraded.js";
import type { ClusterModel, ClusterNode } from "./model/types.js";
import { PlainLines } from "./plain-lines.js";
import { holds, type Playbook, type PlaybookTask } from "./playbook.js";
import type { RenderedCluster } from "./render.js";
import { maskSecrets } from "./secrets.js";
import { joiningNodes } from "./node-join.js";
import { MODULE_IMPLS, TaskError, type HostCtx, type RunCtx, type TaskResult } from "./tasks.js";
import { connect, type Connection, type HostKeyPolicy } from "./transport.js";

export interface ApplyOptions {
  check: boolean;
  verbose: boolean;
  /** Only these nodes (--limit); cluster-wide steps still see every node. */
  limit?: string[];
  hostKeyPolicy?: HostKeyPolicy;
  connectTimeoutMs: number;
  /** Connections the caller already started opening (and closes); else apply opens and closes its own. */
  connections?: Promise<Connections>;
  /** listr2 renderer: the live view on a terminal, plain timestamped lines otherwise. */
  renderer: "default" | "simple" | "silent";
  pollSeconds?: number;
  /** Runtime state the operator set by hand that this run removes (kept by default). */
  clear?: readonly RuntimeState[];
  /** Restart PostgreSQL where parameters wait for a restart: standbys one by one, then a switchover. */
  rollingRestart?: boolean;
  /** What a CIB change may make Pacemaker do; anything else it would do stops the run before it changes anything. */
  allow?: readonly Disruption[];
  /** The node a job is about (recover NODE, switchover --to NODE). */
  target?: string;
  /** How to reach a host of the inventory that the spec does not name: a node that leaves (tasks/node-leave.ts). */
  outsider?: (name: string) => ClusterNode["connection"] | undefined;
  /** A job on a built cluster (recover, switchover): never a build, whatever state the nodes are in. */
  built?: boolean;
  log: (line: string) => void;
}

export interface TaskReport {
  task: string;
  node: string;
  status: "ok" | "changed" | "skipped" | "failed";
  msg?: string;
  detail?: Record<string, unknown>;
}

export interface ApplyResult {
  changed: number;
  reports: TaskReport[];
  bootstrap: boolean;
  /** The name of the playbook that ran. */
  playbook: string;
  facts: Record<string, HostFacts>;
  /** The cluster as it is after the run, read over the run's own connections (not in check mode). */
  status?: StatusView;
}

export class ApplyError extends Error {
  constructor(message: string, readonly reports: TaskReport[] = []) {
    super(message);
    this.name = "ApplyError";
  }
}

/**
 * Whether the cluster still has to be built. Stopping Pacemaker everywhere and clearing the CIB is only
 * safe while no node holds a configured cluster, running or stopped (a stopped node's cib.xml keeps the
 * permanent node attributes, pgsql-data-status among them: which node holds the latest data). A cluster
 * that is configured somewhere but not running everywhere is left for the operator to start, never torn
 * down by a build; only nodes without a configuration of their own (new, or back empty) join it.
 */
export function decideBootstrap(model: ClusterModel, facts: Record<string, HostFacts>, down: string[] = []): boolean {
  // A node that is down (the running cluster says so: degraded.ts) is neither stopped here nor new.
  const nodes = model.nodes.filter((n) => !down.includes(n.name));
  const running = nodes.filter((n) => facts[n.name]?.services.pacemaker === "active");
  const configured = nodes.filter((n) => (facts[n.name]?.cib?.primitives ?? 0) > 0);
  if (configured.length === 0) return true;
  if (running.length === nodes.length) return false;
  // New nodes (or ones that came back empty) join the running cluster: reconfigure.yml's node_join.
  const joining = joiningNodes(model, facts);
  const stopped = nodes.filter((n) => !running.includes(n) && !joining.includes(n.name)).map((n) => n.name);
  if (!stopped.length) return false;
  const names = (pred: (n: (typeof model.nodes)[number]) => boolean) => configured.filter(pred).map((n) => n.name).join(", ");
  const live = names((n) => running.includes(n));
  const onDisk = names((n) => !running.includes(n));
  throw new ApplyError(
    `the cluster is configured${live ? ` and running on ${live}` : ""}${live && onDisk ? ", and" : ""}${onDisk ? ` in the CIB files of ${onDisk}` : ""}, but Pacemaker is stopped on ${stopped.join(", ")}; ` +
      `start it there first (systemctl start pacemaker), pgha will not stop a live cluster or clear a configured CIB to rebuild it`,
  );
}

function targets(task: PlaybookTask, hosts: HostCtx[], limit?: string[]): HostCtx[] {
  let t = hosts.filter((h) => task.hosts === "all" || (task.hosts === "primary") === h.node.isPrimary);
  if (limit && !task.run_once) t = t.filter((h) => limit.includes(h.node.name));
  return task.run_once ? t.slice(0, 1) : t;
}

/** `choose` picks the playbook once the facts say whether the cluster still has to be built. */
export async function apply(model: ClusterModel, rendered: RenderedCluster, choose: Playbook | ((bootstrap: boolean) => Playbook), opts: ApplyOptions): Promise<ApplyResult> {
  // A job on a built cluster (recover, switchover) needs every node; apply may go on without one that is down.
  return withConnections(model, opts, async (conns) => {
    // The status table is read with the facts too: after a run that changes nothing, that is the table.
    const { facts, probes } = await gatherFactsWith(model, conns, opts.check ? undefined : (_, i) => statusProbe(model, i === 0));
    const unreachable = unreachableIn(model, conns);
    if (unreachable.length && opts.built) throw new GatherError(unreachableMessage(unreachable));
    // Only a cluster that runs somewhere while a configured node is out of it is asked which nodes are down.
    const stopped = [...conns.keys()].filter((n) => facts[n]!.services.pacemaker !== "active" && (facts[n]!.cib?.primitives ?? 0) > 0);
    const asked = !opts.built && (unreachable.length > 0 || (stopped.length > 0 && stopped.length < conns.size));
    const downs = asked ? downNodes(unreachable, stopped, await clusterView(conns, facts), opts.limit) : [];
    const down = downs.map((d) => d.node);
    const bootstrap = opts.built ? false : decideBootstrap(model, facts, down);
    const playbook = typeof choose === "function" ? choose(bootstrap) : choose;
    const state = { bootstrap, rollingRestart: opts.rollingRestart ?? false };
    const hosts: HostCtx[] = model.nodes.filter((n) => conns.has(n.name)).map((n) => ({ node: n, conn: conns.get(n.name)!, facts: facts[n.name]! }));
    const reports: TaskReport[] = [];
    const read = statusFromProbes(model, probes);
    const early = read && { cluster: read.cluster, streaming: Object.keys(read.replication).filter((n) => read.replication[n]!.startsWith("streaming/")) };
    const ctx: RunCtx = {
      model,
      rendered,
      hosts,
      check: opts.check,
      pollSeconds: opts.pollSeconds ?? 2,
      clear: opts.clear,
      target: opts.target,
      allow: opts.allow,
      down,
      trace: (node, line) => opts.verbose && opts.log(`${node}: ${line}`),
      early: () => (reports.some((r) => r.status === "changed") ? undefined : early),
      reach: async (name) => {
        const connection = opts.outsider?.(name);
        if (!connection) return "it is not in the inventory";
        try {
          const c = await connect({ name, id: 0, links: [], connection, isPrimary: false }, opts);
          outsiders.push(c);
          return c;
        } catch (e) {
          return (e as Error).message;
        }
      },
      // A module may wait through another node (recover polls via the primary): its own task shows it.
      progress: (node, line) => {
        const t = running.get(node) ?? [...running.values()].at(-1);
        if (t) t.output = maskSecrets(line, model.secrets);
      },
    };
    const running = new Map<string, { output?: string }>();
    const outsiders: Connection[] = [];
    const notified = new Set<string>();
    const runTask = (task: PlaybookTask): Task => ({
      title: task.name,
      skip: () => !holds(task.when, state),
      task: (_, t) =>
        t.newListr(
          targets(task, hosts, opts.limit).map((h) => ({
            title: h.node.name,
            task: async (_c, ht) => {
              let r: TaskResult;
              running.set(h.node.name, ht);
              try {
                r = await MODULE_IMPLS[task.module](ctx, h, task.args);
              } catch (e) {
                const msg = maskSecrets((e as Error).message, model.secrets);
                reports.push({ task: task.name, node: h.node.name, status: "failed", msg });
                throw new ApplyError(`task '${task.name}' failed on ${h.node.name}: ${msg}`, reports);
              } finally {
                running.delete(h.node.name);
              }
              reports.push({ task: task.name, node: h.node.name, status: r.skipped ? "skipped" : r.changed ? "changed" : "ok", msg: r.msg, ...(r.detail ? { detail: r.detail } : {}) });
              if (r.changed) task.notify.forEach((n) => notified.add(n));
              ht.title = `${h.node.name}: ${r.skipped ? "skipped" : r.changed ? (opts.check ? "would change" : "changed") : "ok"}${r.msg ? ` (${maskSecrets(r.msg, model.secrets)})` : ""}`;
            },
          })),
          { concurrent: true, exitOnError: true },
        ),
    });
    const handlers: Task = {
      title: "handlers",
      task: (_, t) => t.newListr(playbook.handlers.filter((h) => notified.has(h.name)).map(runTask), { concurrent: false, exitOnError: true }),
    };
    const list = new Listr<unknown, "default" | "silent" | typeof PlainLines, typeof PlainLines>([...playbook.tasks.map(runTask), handlers], {
      concurrent: false,
      exitOnError: true,
      renderer: opts.renderer === "simple" ? PlainLines : opts.renderer,
      fallbackRenderer: PlainLines,
      rendererOptions: (opts.renderer === "default" ? { collapseSubtasks: false } : {}) as object,
    });
    try {
      await list.run();
    } catch (e) {
      if (e instanceof ApplyError || e instanceof TaskError) throw e instanceof ApplyError ? e : new ApplyError(e.message, reports);
      throw new ApplyError(maskSecrets((e as Error).message, model.secrets), reports);
    } finally {
      outsiders.forEach((c) => c.close());
    }
    for (const t of playbook.tasks) if (!holds(t.when, state)) reports.push({ task: t.name, node: "-", status: "skipped" });
    const changed = reports.filter((r) => r.status === "changed").length;
    if (down.length) throw new ApplyError(maskSecrets(degradedMessage(downs, changed, reports.filter((r) => r.status === "skipped" && r.node !== "-"), opts.check), model.secrets), reports);
    const status = opts.check ? undefined : changed === 0 && read && settled(model, read) ? statusView(model, read) : await clusterStatusTable(model, reuse(conns)).catch(() => undefined);
    return { changed, reports, bootstrap, playbook: playbook.name, facts, status };
  }, opts.built ? connectAll : connectReachable);
}
