// The pgsql agent's node_list, set in place when nodes join or leave (see nodeListResource in
// node-join.ts), under maintenance mode (maintenance.ts), so that no instance restarts for it. crm_load
// calls this before it patches the rest.
import { nodeListResource } from "../node-join.js";
import { shq } from "../shell.js";
import { exec, must, type HostCtx, type RunCtx } from "../tasks.js";
import { underMaintenance } from "./maintenance.js";

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
  await underMaintenance(ctx, h, rsc, `setting ${change}`, timeout, () => must(ctx, h, `crm_resource -r ${shq(rsc)} -p node_list -v ${shq(String(want))}`));
  return change;
}
