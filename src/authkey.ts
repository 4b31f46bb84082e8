// The corosync authkey: one key, the same on every node, root:root 0400. pgha generates it once (on the
// first node, when no node has one) and copies it over its own SSH connections: read into memory, sent
// on stdin, never in a command line, a trace, a message or a diff. The facts carry only its sha256, to
// compare nodes, and that is never printed either.
import { createHash } from "node:crypto";
import type { FileDrift } from "./diff.js";
import { COROSYNC_AUTHKEY, type HostFacts } from "./facts.js";
import type { ClusterModel } from "./model/types.js";
import { shq } from "./shell.js";
import { TaskError, type HostCtx, type RunCtx, type TaskResult } from "./tasks.js";

/** corosync-keygen(8): the key is 128 to 4096 bytes. */
export const KEY_BYTES = { min: 128, max: 4096 };

export interface AuthkeyPlan {
  /** The node whose key every node gets; `generate`: a new key is made there first. */
  source: string;
  generate: boolean;
  /** Nodes that get the source's key (none, a broken one, or, on a build, a different one). */
  push: string[];
  /** Of those, nodes that had another usable key. */
  replaced: string[];
  /** Nodes that hold the key but with the wrong owner or mode. */
  fix: string[];
}

type Key = HostFacts["authkey"];
const usable = (k: Key): k is NonNullable<Key> & { sha256: string } => !!k?.sha256 && k.size >= KEY_BYTES.min && k.size <= KEY_BYTES.max;

/**
 * Which key wins. Nodes that disagree are refused on a built cluster (corosync there runs one of the
 * keys, and only the operator knows which); `replaceDisagreeing` (the build) takes the key most nodes
 * hold, the first node's on a tie. Pure.
 */
export function planAuthkey(nodes: { name: string; key: Key }[], replaceDisagreeing: boolean): AuthkeyPlan | { refuse: string } {
  const groups = new Map<string, string[]>();
  for (const n of nodes) if (usable(n.key)) groups.set(n.key.sha256, [...(groups.get(n.key.sha256) ?? []), n.name]);
  if (groups.size > 1 && !replaceDisagreeing) {
    const who = [...groups.values()].map((g) => g.join(", ")).join("; ");
    return {
      refuse:
        `the nodes hold different ${COROSYNC_AUTHKEY} files (${who}), and corosync nodes with different keys cannot talk; ` +
        `copy the key the running cluster uses to every node (install -o root -g root -m 0400), then run apply again`,
    };
  }
  const winners = [...groups.values()].sort((a, b) => b.length - a.length)[0];
  if (!winners) return { source: nodes[0]!.name, generate: true, push: nodes.slice(1).map((n) => n.name), replaced: [], fix: [] };
  const push = nodes.filter((n) => !winners.includes(n.name));
  const fix = nodes.filter((n) => winners.includes(n.name) && (n.key!.owner !== "root" || n.key!.group !== "root" || n.key!.mode !== "0400"));
  return { source: winners[0]!, generate: false, push: push.map((n) => n.name), replaced: push.filter((n) => usable(n.key)).map((n) => n.name), fix: fix.map((n) => n.name) };
}

/** What `diff` says about the authkey: where apply would write it or fix its mode, never its content. */
export function authkeyDrifts(model: ClusterModel, facts: Record<string, HostFacts>): FileDrift[] {
  if (!model.corosyncAuthkey) return [];
  const nodes = model.nodes.map((n) => ({ name: n.name, key: facts[n.name]?.authkey }));
  const plan = planAuthkey(nodes, false);
  const drift = (node: string, action: FileDrift["action"], reason: string): FileDrift => ({ node, path: COROSYNC_AUTHKEY, action, reasons: [reason] });
  if ("refuse" in plan) return nodes.filter((n) => n.key).map((n) => drift(n.name, "update", "the nodes hold different keys (apply refuses until they agree)"));
  return nodes.flatMap((n) => {
    if (plan.fix.includes(n.name)) return [drift(n.name, "attributes", `owner ${n.key!.owner}:${n.key!.group} mode ${n.key!.mode} -> root:root 0400`)];
    if (plan.generate && n.name === plan.source) return [drift(n.name, "create", "no node has one: generated here")];
    if (!plan.push.includes(n.name)) return [];
    return [n.key ? drift(n.name, "update", `unusable (${n.key.size} bytes): replaced by ${plan.source}'s`) : drift(n.name, "create", `missing: copied from ${plan.source}`)];
  });
}

/** Writes stdin (the key in base64) to the authkey beside it, atomically, root:root 0400 from the start. */
const WRITE_KEY = [
  "umask 077",
  `t=$(mktemp ${shq(`${COROSYNC_AUTHKEY}.pgha-XXXXXX`)})`,
  `if base64 -d > "$t" && chown root:root "$t" && chmod 0400 "$t" && mv -f "$t" ${shq(COROSYNC_AUTHKEY)}; then :; else rm -f "$t"; exit 1; fi`,
].join(" && ");
const GENERATE_KEY = [
  "umask 077",
  `t=$(mktemp ${shq(`${COROSYNC_AUTHKEY}.pgha-XXXXXX`)})`,
  `if corosync-keygen -k "$t" > /dev/null && chown root:root "$t" && chmod 0400 "$t" && mv -f "$t" ${shq(COROSYNC_AUTHKEY)}; then :; else rm -f "$t"; exit 1; fi`,
].join(" && ");

/** Runs a command whose input or output is the key: the trace shows the command only. */
async function quiet(ctx: RunCtx, h: HostCtx, cmd: string, stdin?: string): Promise<string> {
  ctx.trace(h.node.name, `$ ${cmd.split("\n")[0]} (output not shown: ${COROSYNC_AUTHKEY})`);
  const r = await h.conn.exec(cmd, { stdin });
  // stderr only: stdout may be the key.
  if (r.code !== 0) throw new TaskError(h.node.name, `exit ${r.code} handling ${COROSYNC_AUTHKEY}: ${r.stderr.trim().split("\n").at(-1) ?? ""}`);
  return r.stdout;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/**
 * The module: nothing while crypto is off; else one agreed key on every node. args.replace_disagreeing
 * (build.yml): nodes with a different key get the chosen one. Where that happens under a running
 * corosync, corosync_apply restarts the cluster (ctx.authkeyReplaced).
 */
export async function corosyncAuthkey(ctx: RunCtx, h: HostCtx, args: Record<string, unknown>): Promise<TaskResult> {
  if (!ctx.model.corosyncAuthkey) return { changed: false };
  const plan = planAuthkey(ctx.hosts.map((x) => ({ name: x.node.name, key: x.facts.authkey })), args.replace_disagreeing === true);
  if ("refuse" in plan) throw new TaskError(h.node.name, plan.refuse);
  const host = (name: string) => ctx.hosts.find((x) => x.node.name === name)!;
  ctx.authkeyReplaced = plan.replaced.filter((n) => host(n).facts.services.corosync === "active");
  const msg = [
    ...(plan.generate ? [`generated on ${plan.source}`] : []),
    ...(plan.push.length ? [`copied from ${plan.source} to ${plan.push.join(", ")}${plan.replaced.length ? ` (replacing a different key on ${plan.replaced.join(", ")})` : ""}`] : []),
    ...(plan.fix.length ? [`owner root:root, mode 0400 on ${plan.fix.join(", ")}`] : []),
  ].join("; ");
  if (!msg) return { changed: false };
  if (ctx.check) return { changed: true, msg: `would be ${msg}` };
  const src = host(plan.source);
  if (plan.generate) await quiet(ctx, src, GENERATE_KEY);
  if (plan.push.length) {
    const key = Buffer.from((await quiet(ctx, src, `base64 -w0 ${shq(COROSYNC_AUTHKEY)}`)).trim(), "base64");
    if (key.length < KEY_BYTES.min || key.length > KEY_BYTES.max || (!plan.generate && sha256(key) !== src.facts.authkey?.sha256)) {
      throw new TaskError(src.node.name, `${COROSYNC_AUTHKEY} changed or is not ${KEY_BYTES.min} to ${KEY_BYTES.max} bytes while it was read`);
    }
    const b64 = key.toString("base64");
    ctx.model.secrets.push(b64);
    await Promise.all(plan.push.map((n) => quiet(ctx, host(n), WRITE_KEY, b64)));
  }
  for (const n of plan.fix) await quiet(ctx, host(n), `chown root:root ${shq(COROSYNC_AUTHKEY)} && chmod 0400 ${shq(COROSYNC_AUTHKEY)}`);
  return { changed: true, msg: `${COROSYNC_AUTHKEY} ${msg}` };
}
