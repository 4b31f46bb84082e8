// Command line: parse arguments, call the pipeline, print reports. No cluster logic here.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { formatDiagnostic, InputError, type Diagnostic } from "./diagnostics.js";
import type { Agent, Topology } from "./init.js";
import { loadInventory, type Inventory } from "./inventory.js";
import { buildModel } from "./model/build.js";
import type { Connections } from "./gather.js";
import type { ClusterModel } from "./model/types.js";
import { RUNTIME_STATE, type RuntimeState } from "./cib-script.js";
import { DISRUPTION_FLAGS, DISRUPTIONS, type Disruption } from "./disruptions.js";
import type { RenderedCluster } from "./render.js";
import { maskSecrets, secretResolver } from "./secrets.js";
import { writeOutput } from "./render-out.js";
import { loadSpec } from "./spec.js";
import { SCHEMA } from "./spec-validator.js";

const USAGE = `Usage: pgha <command> [options]

Commands:
  validate   check the inventory and spec, print warnings
  render     write every node's files, cluster.crm and cluster.pcs to a directory
  apply      build the cluster, or bring it to the spec (idempotent)
  diff       desired against actual: every managed file, the live CIB, runtime leftovers (exit 2 if any)
  status     nodes, roles, replication, VIPs, fail counts, leftover move constraints
  recover NODE
             bring a failed node back as a streaming standby (--check: the plan only, exit 2)
  switchover move the primary to a caught-up standby through Pacemaker (--to NODE; --check)
  init       write a commented starting spec for an inventory, with placeholders to fill (-o FILE, else stdout)
  import     read a running cluster built by hand (or by pgha) into DIR/cluster.yml (-o DIR), changing
             nothing, then compare it as diff does (exit 2 if something would still change)
  schema     print the spec's JSON Schema (for editors)

Options:
  -i, --inventory FILE   Ansible inventory (YAML or INI)
  -s, --spec FILE        cluster spec (YAML)
  -o, --out DIR          output directory (render, import); the spec file to write (init)
      --inventory-out    import: also write DIR/hosts.yml for the cluster's nodes
  -t, --templates DIR    templates that override the built-in ones
  -p, --playbook FILE    playbook for apply (default: build.yml, or reconfigure.yml on a built cluster)
      --check            apply: show what would change, change nothing (exit 2 if something would)
      --diff             apply: print the differences first (as pgha diff does)
      --rebuild-cib      apply: stop Pacemaker everywhere, clear the CIB, start, load (keeps the primary)
      --clear-move-constraints
                         apply: also remove cli-ban/cli-prefer leftovers of crm_resource --move/--ban
      --clear-runtime-switches
                         apply: also remove what was set by hand: maintenance-mode, a resource's
                         target-role, is-managed and maintenance, node standby and maintenance
      --rolling-restart  apply: restart PostgreSQL where parameters wait for a restart: the standbys one
                         by one, then a switchover and the old primary
      --allow-primary-restart, --allow-failover, --allow-fencing
                         apply: let a CIB change restart the primary's PostgreSQL, move the primary, or
                         fence a node, when crm_simulate predicts it (without the flag: nothing changes)
      --limit NODES      apply: only these nodes (comma-separated) for per-node tasks
      --to NODE          switchover: the standby to promote (default: the caught-up one)
      --host-key POLICY  strict (default: known_hosts must hold the key) or accept-new
      --topology T       init: streaming-replication (default) or shared-disk
      --agent A          init: pgsql (default) or pgsqlms (PAF)
      --group NAME       init, import: the inventory group of the cluster's hosts (default: the only group with them)
      --json             machine-readable output
  -v, --verbose          more detail
  -h, --help             this help
  -V, --version          pgha's version

Exit codes: 0 ok / no changes, 2 changes (diff, --check), 1 error.`;

const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export const EXIT = { ok: 0, error: 1, changes: 2 } as const;

/** --clear-move-constraints, --clear-runtime-switches: runtime state that apply removes only when asked. */
type ClearFlags = Record<`clear-${RuntimeState}`, boolean>;
const clearFlags = <T>(value: T) => Object.fromEntries(RUNTIME_STATE.map((s) => [`clear-${s}`, value])) as Record<`clear-${RuntimeState}`, T>;

/** --allow-primary-restart, --allow-failover, --allow-fencing: what a CIB change may make Pacemaker do. */
type AllowFlag = (typeof DISRUPTION_FLAGS)[Disruption] extends `--${infer F}` ? F : never;
const allowFlags = <T>(value: T) => Object.fromEntries(DISRUPTIONS.map((d) => [DISRUPTION_FLAGS[d].slice(2), value])) as Record<AllowFlag, T>;

interface Options extends ClearFlags, Partial<Record<AllowFlag, boolean>> {
  inventory?: string;
  spec?: string;
  out?: string;
  templates?: string;
  playbook?: string;
  check: boolean;
  diff: boolean;
  "rolling-restart": boolean;
  "rebuild-cib": boolean;
  to?: string;
  /** recover NODE */
  node?: string;
  limit?: string;
  "host-key"?: string;
  topology?: string;
  agent?: string;
  group?: string;
  "inventory-out"?: boolean;
  json: boolean;
  verbose: boolean;
}

class UsageError extends Error {}

/** Error classes of the modules loaded on demand (apply, transport, tasks), by name. */
const HOST_ERRORS: Record<string, string> = { ApplyError: "apply", GatherError: "transport", TransportError: "transport", TaskError: "task" };

function parse(argv: string[]): { command: string; opts: Options } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        inventory: { type: "string", short: "i" },
        spec: { type: "string", short: "s" },
        out: { type: "string", short: "o" },
        templates: { type: "string", short: "t" },
        playbook: { type: "string", short: "p" },
        check: { type: "boolean", default: false },
        diff: { type: "boolean", default: false },
        ...clearFlags({ type: "boolean", default: false } as const),
        "rolling-restart": { type: "boolean", default: false },
        ...allowFlags({ type: "boolean", default: false } as const),
        "rebuild-cib": { type: "boolean", default: false },
        to: { type: "string" },
        limit: { type: "string" },
        "host-key": { type: "string" },
        topology: { type: "string" },
        agent: { type: "string" },
        group: { type: "string" },
        "inventory-out": { type: "boolean", default: false },
        version: { type: "boolean", short: "V", default: false },
        json: { type: "boolean", default: false },
        verbose: { type: "boolean", short: "v", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: "help", opts: { json: false, verbose: false, check: false, diff: false, ...clearFlags(false), "rebuild-cib": false, "rolling-restart": false } };
  if (values.version) return { command: "version", opts: values as Options };
  const [command, ...extra] = positionals;
  if (!command) throw new UsageError("no command given");
  const operands = command === "recover" ? 1 : 0;
  if (extra.length > operands) throw new UsageError(`unexpected argument '${extra[operands]}'`);
  return { command, opts: { ...values, node: extra[0] } as Options };
}

function need(opts: Options, key: "inventory" | "spec" | "out", flag: string): string {
  const v = opts[key];
  if (!v) throw new UsageError(`missing ${flag}`);
  return v;
}

/** How apply and diff reach hosts: a bounded connect timeout and the --host-key policy. */
function connectionOptions(opts: Options): { connectTimeoutMs: number; hostKeyPolicy?: "strict" | "accept-new" } {
  const policy = opts["host-key"];
  if (policy !== undefined && policy !== "strict" && policy !== "accept-new") throw new UsageError("--host-key takes strict or accept-new");
  return { connectTimeoutMs: 15_000, hostKeyPolicy: policy };
}

/** inventory + spec -> model: every check of the input, before touching any host. */
function loadModel(opts: Options, secretsOptional = false, keep?: (inventory: Inventory) => void): ClusterModel {
  const specPath = need(opts, "spec", "-s/--spec");
  const spec = loadSpec(specPath);
  const inventory = loadInventory(need(opts, "inventory", "-i/--inventory"));
  keep?.(inventory);
  const model = buildModel({ spec, inventory, resolveSecret: secretResolver(process.env, dirname(resolve(specPath))), secretsOptional });
  return model;
}

/**
 * model -> rendered files. Its module (Handlebars) loads only here: validate and status do not need it,
 * and apply and diff render while their SSH handshakes run.
 */
async function renderOf(model: ClusterModel, opts: Options): Promise<RenderedCluster> {
  const { loadTemplates, renderCluster } = await import("./render.js");
  return renderCluster(model, loadTemplates(opts.templates));
}

/** Bundled playbooks by name; the playbook module (with its schema compiler) loads only for the commands that run one. */
async function playbooks() {
  const { loadPlaybook } = await import("./playbook.js");
  return { loadPlaybook, bundled: (name: string) => loadPlaybook(join(PROJECT_ROOT, "playbooks", `${name}.yml`)) };
}

/**
 * Opens the connections once the input is known to be good, so the SSH handshakes run while the
 * command's own modules load; `use` gets them (and must not close them), they close after it.
 */
async function connected<T>(model: ClusterModel, opts: Options, io: Io, use: (c: ReturnType<typeof connectionOptions> & { connections: Promise<Connections> }) => Promise<T>, reach: "all" | "reachable" = "all"): Promise<T> {
  const { connectAll, connectReachable } = await import("./gather.js");
  const transport = connectionOptions(opts);
  // apply decides itself about a node it cannot reach (degraded.ts); the other commands need every node.
  const connections = io.connect ? io.connect(model) : (reach === "all" ? connectAll : connectReachable)(model, transport);
  connections.catch(() => undefined); // awaited inside `use`; this only keeps Node from reporting it unhandled meanwhile
  try {
    return await use({ ...transport, connections });
  } finally {
    await connections.then((cs) => cs.forEach((c) => c.close()), () => undefined);
  }
}

/** cluster.crm and cluster.pcs carry the fence devices' passwords: only their owner reads them. */
function writeOut(dir: string, rendered: RenderedCluster): string[] {
  return writeOutput(dir, [
    { path: "cluster.crm", content: rendered.crm, mode: 0o600 },
    // The pcs form, for hosts with pcs and no crmsh (a spec without one is said so at apply time).
    ...("script" in rendered.pcs ? [{ path: "cluster.pcs", content: rendered.pcs.script, mode: 0o700 }] : []),
    ...rendered.files.map((f) => ({ path: `${f.node}/${f.path}`, content: f.content, mode: f.secret ? 0o600 : 0o644 })),
  ]);
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** How hosts are reached (tests answer for them); default: SSH to every node. */
  connect?: (model: ClusterModel) => Promise<Connections>;
}

/** What a job's last task said (recover, switchover): its plan, or what it did. */
const lastMessage = (reports: { msg?: string }[]) => reports.filter((r) => r.msg).at(-1)?.msg ?? "nothing to do";

function printWarnings(io: Io, warnings: Diagnostic[]): void {
  for (const w of warnings) io.err(formatDiagnostic(w));
}

export async function main(argv: string[], io: Io = { out: (s) => process.stdout.write(s + "\n"), err: (s) => process.stderr.write(s + "\n") }): Promise<number> {
  let json = argv.includes("--json");
  let secrets: string[] = [];
  try {
    const { command, opts } = parse(argv);
    json = opts.json;
    switch (command) {
      case "help":
        io.out(USAGE);
        return EXIT.ok;
      case "version":
        io.out((JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version);
        return EXIT.ok;
      case "schema":
        io.out(readFileSync(SCHEMA, "utf8").trimEnd());
        return EXIT.ok;
      case "init": {
        const { AGENTS, initSpec, TOPOLOGIES } = await import("./init.js");
        const choice = <T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T => {
          if (!allowed.includes((value ?? allowed[0]) as T)) throw new UsageError(`--${flag} takes ${allowed.join(" or ")}`);
          return (value ?? allowed[0]) as T;
        };
        const inventoryPath = need(opts, "inventory", "-i/--inventory");
        const text = initSpec({
          inventory: loadInventory(inventoryPath),
          topology: choice<Topology>("topology", opts.topology, TOPOLOGIES),
          agent: choice<Agent>("agent", opts.agent, AGENTS),
          group: opts.group,
          schemaPath: SCHEMA,
          inventoryPath,
        });
        if (!opts.out) io.out(text.trimEnd());
        else {
          try {
            writeFileSync(opts.out, text, { flag: "wx" }); // never over a spec the user has already edited
          } catch (e) {
            throw new InputError([{ code: "init", severity: "error", file: opts.out, message: `cannot write the spec: ${(e as NodeJS.ErrnoException).code === "EEXIST" ? "the file exists (pgha init never overwrites one)" : (e as Error).message}` }]);
          }
          io.out(`wrote ${opts.out}: fill in its "<FILL: ...>" values, then pgha validate -i ${inventoryPath} -s ${opts.out}`);
        }
        return EXIT.ok;
      }
      case "import": {
        const out = need(opts, "out", "-o/--out");
        const inventory = loadInventory(need(opts, "inventory", "-i/--inventory"));
        const { pickGroup } = await import("./init.js");
        const { formatReport, runImport } = await import("./import-run.js");
        const run = await runImport(inventory, pickGroup(inventory, opts.group), out, opts["inventory-out"] ?? false, connectionOptions(opts));
        try {
          if (!json) {
            io.out(`wrote ${run.written.join(", ")}`);
            for (const l of formatReport(run.report)) io.out(l);
          }
          // The same comparison as pgha diff, of the spec just written against the cluster it came from.
          const specPath = run.written[0]!;
          const model = buildModel({ spec: loadSpec(specPath), inventory, resolveSecret: secretResolver(process.env, dirname(resolve(specPath))), secretsOptional: true });
          secrets = model.secrets;
          const rendered = await renderOf(model, opts);
          const { diffCluster, formatDiff } = await import("./diff.js");
          const result = await diffCluster(model, rendered, { ...connectionOptions(opts), connections: Promise.resolve(run.connections) });
          // Files written by hand: the first apply rewrites them into pgha's layout; say whether any setting changes.
          const { layoutRewrites } = await import("./import-layout.js");
          const layout = layoutRewrites(
            result.files.filter((d) => d.action === "update").flatMap((d) => {
              const live = run.liveFile(d.node, d.path);
              const r = rendered.files.find((x) => x.node === d.node && x.path === d.path);
              return live !== undefined && r ? [{ node: d.node, path: d.path, live, rendered: r.content }] : [];
            }),
          );
          if (!json && layout.length) {
            io.out("written by hand: apply rewrites each once into pgha's layout (then diff finds no difference):");
            for (const l of layout) io.out(`  ${l}`);
          }
          if (json) io.out(maskSecrets(JSON.stringify({ ok: true, written: run.written, report: run.report, layout, diff: result }, null, 2), secrets));
          else if (result.differences === 0) io.out("diff: no differences");
          else {
            io.out(`diff: ${result.differences} difference(s) would still change on apply:`);
            for (const l of formatDiff(result, opts.verbose)) io.out(maskSecrets(l, secrets));
          }
          return result.differences > 0 ? EXIT.changes : EXIT.ok;
        } finally {
          run.connections.forEach((c) => c.close());
        }
      }
      case "validate": {
        const model = loadModel(opts);
        secrets = model.secrets;
        // The built-in templates render every valid model (the golden tests); a user's own are tried here.
        if (opts.templates) await renderOf(model, opts);
        if (json) io.out(JSON.stringify({ ok: true, cluster: model.name, nodes: model.nodes.map((n) => n.name), diagnostics: model.warnings }, null, 2));
        else {
          printWarnings(io, model.warnings);
          io.out(`ok: cluster ${model.name} (${model.topology}, ${model.nodes.length} nodes, ${model.postgresql.agent}): inventory and spec are valid${model.warnings.length ? `, ${model.warnings.length} warning(s)` : ""}`);
        }
        return EXIT.ok;
      }
      case "render": {
        const dir = need(opts, "out", "-o/--out");
        const model = loadModel(opts);
        const rendered = await renderOf(model, opts);
        secrets = model.secrets;
        const written = writeOut(dir, rendered);
        if (json) io.out(JSON.stringify({ ok: true, files: written, diagnostics: model.warnings }, null, 2));
        else {
          printWarnings(io, model.warnings);
          if (opts.verbose) for (const w of written) io.out(`wrote ${w}`);
          io.out(`rendered ${written.length} files for ${model.nodes.length} nodes into ${dir}`);
        }
        return EXIT.ok;
      }
      case "apply": {
        let inventory: Inventory | undefined;
        const model = loadModel(opts, false, (inv) => (inventory = inv));
        secrets = model.secrets;
        printWarnings(io, model.warnings);
        const limit = opts.limit?.split(",").map((x) => x.trim()).filter(Boolean);
        const unknown = (limit ?? []).filter((l) => !model.nodes.some((n) => n.name === l));
        if (unknown.length) throw new UsageError(`--limit names unknown nodes: ${unknown.join(", ")}`);
        if (opts["rebuild-cib"] && opts.playbook) throw new UsageError("--rebuild-cib runs playbooks/rebuild-cib.yml; it does not combine with -p");
        const { loadPlaybook, bundled } = await playbooks();
        // Checked before anything connects: a broken playbook is bad input like a broken spec.
        const playbook = opts.playbook ? loadPlaybook(opts.playbook) : opts["rebuild-cib"] ? bundled("rebuild-cib") : { build: bundled("build"), reconfigure: bundled("reconfigure") };
        const allow = DISRUPTIONS.filter((d) => opts[DISRUPTION_FLAGS[d].slice(2) as AllowFlag]);
        const { result, planned } = await connected(model, opts, io, async (connection) => {
          const rendered = await renderOf(model, opts);
          const { apply } = await import("./apply.js");
          const { diffCluster, formatDiff } = await import("./diff.js");
          // The comparison pgha diff makes, for --diff and for --check's plan per node (with this run's flags).
          const compared = opts.diff || opts.check ? diffCluster(model, rendered, { ...connection, allow, rollingRestart: opts["rolling-restart"] }) : undefined;
          // --check alone also runs on a degraded cluster, which diff (every node compared) refuses: the plan is then left out.
          const planned = opts.diff ? await compared : await compared?.catch((e: Error) => void io.err(maskSecrets(`plan per node not available: ${e.message}`, model.secrets)));
          if (opts.diff && !json) for (const l of formatDiff(planned!, opts.verbose)) io.out(l);
          const result = await apply(model, rendered, "tasks" in playbook ? playbook : (bootstrap) => (bootstrap ? playbook.build : playbook.reconfigure), {
            check: opts.check,
            verbose: opts.verbose,
            limit,
            ...connection,
            clear: RUNTIME_STATE.filter((s) => opts[`clear-${s}`]),
            rollingRestart: opts["rolling-restart"],
            // A node the spec drops is reached, to drain it, as the inventory says (node-leave.ts).
            outsider: (name) => inventory?.hosts.get(name)?.connection,
            allow,
            renderer: json ? "silent" : process.stdout.isTTY && !process.env.CI ? "default" : "simple",
            log: (l) => io.err(maskSecrets(l, model.secrets)),
          });
          return { result, planned: opts.check && planned?.differences ? planned : undefined };
        }, opts.diff ? "all" : "reachable");
        const status = result.status;
        const { formatNodePlans } = await import("./node-plan.js");
        if (json) io.out(maskSecrets(JSON.stringify({ ok: true, check: opts.check, changed: result.changed, bootstrap: result.bootstrap, tasks: result.reports, status: status?.status, ...(planned ? { nodes: planned.nodes } : {}) }, null, 2), secrets));
        else {
          if (status) io.out(status.text);
          // With --diff, the diff above ends with it already.
          if (planned && !opts.diff) for (const l of formatNodePlans(planned.nodes)) io.out(maskSecrets(l, secrets));
          io.out(
            result.changed === 0
              ? `ok: nothing ${opts.check ? "would change" : "changed"} (${model.nodes.length} nodes, ${result.playbook})`
              : `${opts.check ? "check: " : ""}${result.changed} task(s) ${opts.check ? "would change" : "changed"} (${model.nodes.length} nodes, ${result.playbook})`,
          );
        }
        return opts.check && result.changed > 0 ? EXIT.changes : EXIT.ok;
      }
      case "diff": {
        const model = loadModel(opts);
        secrets = model.secrets;
        printWarnings(io, model.warnings);
        const { result, formatDiff } = await connected(model, opts, io, async (connection) => {
          const rendered = await renderOf(model, opts);
          const { diffCluster, formatDiff } = await import("./diff.js");
          return { result: await diffCluster(model, rendered, connection), formatDiff };
        });
        if (json) io.out(maskSecrets(JSON.stringify({ ok: true, ...result }, null, 2), secrets));
        else for (const l of formatDiff(result, opts.verbose)) io.out(l);
        return result.differences > 0 ? EXIT.changes : EXIT.ok;
      }
      case "recover":
      case "switchover": {
        const model = loadModel(opts);
        const rendered = await renderOf(model, opts);
        secrets = model.secrets;
        printWarnings(io, model.warnings);
        const target = command === "recover" ? opts.node : opts.to;
        if (command === "recover" && !target) throw new UsageError("recover needs the node: pgha recover NODE");
        const playbook = (await playbooks()).bundled(command);
        // The plan first (what was found, what will be done), then the run.
        const { plan, result } = await connected(model, opts, io, async (connection) => {
          const { apply } = await import("./apply.js");
          const run = (check: boolean) =>
            apply(model, rendered, playbook, {
              check,
              verbose: opts.verbose,
              ...connection,
              target,
              built: true,
              renderer: json || check ? "silent" : process.stdout.isTTY && !process.env.CI ? "default" : "simple",
              log: (l) => io.err(maskSecrets(l, model.secrets)),
            });
          const plan = await run(true);
          if (!json && plan.changed && !opts.check) io.out(maskSecrets(lastMessage(plan.reports), secrets));
          return { plan, result: opts.check || !plan.changed ? plan : await run(false) };
        });
        if (json) io.out(maskSecrets(JSON.stringify({ ok: true, check: opts.check, changed: result.changed, plan: lastMessage(plan.reports), tasks: result.reports }, null, 2), secrets));
        else io.out(maskSecrets(`${opts.check && result.changed ? "check: " : ""}${lastMessage(result.reports)}`, secrets));
        return opts.check && result.changed > 0 ? EXIT.changes : EXIT.ok;
      }
      case "status": {
        const { clusterStatusTable, connectWith } = await import("./cluster-status.js");
        const model = loadModel(opts, true);
        secrets = model.secrets;
        const st = await clusterStatusTable(model, connectWith(connectionOptions(opts)));
        if (json) io.out(JSON.stringify(st.status, null, 2));
        else io.out(st.text);
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    // Errors from hosts (apply, transport, tasks) carry their own clear message; only a bug is "internal".
    const code = e instanceof UsageError ? "usage" : (HOST_ERRORS[(e as Error).name] ?? "internal");
    const diagnostics: Diagnostic[] = e instanceof InputError ? e.diagnostics : [{ code, severity: "error", message: (e as Error).message }];
    if (json) io.out(maskSecrets(JSON.stringify({ ok: false, diagnostics }, null, 2), secrets));
    else {
      for (const d of diagnostics) io.err(maskSecrets(formatDiagnostic(d), secrets));
      if (e instanceof UsageError) io.err("Run 'pgha --help' for usage.");
    }
    return EXIT.error;
  }
}
