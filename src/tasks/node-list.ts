// The pgsql agent's node_list, set in place when nodes join or leave (see nodeListResource in
// node-join.ts): with maintenance-mode on, Pacemaker acts on nothing; the parameter is set and the
// resource's history refreshed, so its probes record the new parameters and nothing looks changed once
// maintenance mode is back as the operator had it. crm_load calls this before it patches the rest.
import { nodeListResource } from "../node-join.js";
import { shq } from "../shell.js";
import { exec, must, TaskError, type HostCtx, type RunCtx } from "../tasks.js";

/** Sets the spec's node_list on the live resource when it differs; returns the change made, if any. */
export async function nodeListInPlace(ctx: RunCtx, h: HostCtx, timeout = 120): Promise<string | undefined> {
  const rsc = nodeListResource(ctx.model);
  const want = ctx.model.crm.primitives.find((p) => p.id === rsc)?.params.find((kv) => kv.key === "node_list")?.value;
  if (!rsc || want === undefined) return undefined;
  const r = await exec(ctx, h, `crm_resource -r ${shq(rsc)} -g node_list`);
  const live = r.stdout.trim();
  // No resource yet (a CIB being built) or no node_list: the patch sets it, with nothing to restart.
  if (r.code !== 0 || !live || live === want) return undefined;
  const change = `${rsc} node_list ${live} -> ${want} (in place, no restart)`;
  if (ctx.check) return change;
  const mm = "crm_attribute -t crm_config -n maintenance-mode";
  const before = (await exec(ctx, h, `${mm} -G -q`)).stdout.trim();
  await must(ctx, h, `${mm} --update=true`);
  try {
    await must(ctx, h, `crm_resource -r ${shq(rsc)} -p node_list -v ${shq(String(want))}`);
    await must(ctx, h, `crm_resource --refresh -r ${shq(rsc)}`);
    await must(ctx, h, `crm_resource --wait --timeout=${timeout}s`);
  } catch (e) {
    // Leaving maintenance mode half-way could restart the primary for the new parameter: the operator decides.
    throw new TaskError(h.node.name, `setting ${change}: ${(e as Error).message}; maintenance-mode is left on (pgha status shows the cluster)`);
  }
  await must(ctx, h, before ? `${mm} --update=${shq(before)}` : `${mm} --delete`);
  return change;
}
