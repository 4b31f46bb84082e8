// A CIB change that Pacemaker must not act on: made under maintenance mode, then the resource's history
// is refreshed, so its probes record the new definition and nothing looks changed once maintenance mode
// is back as the operator had it. Used for node_list set in place (node-list.ts) and for a PostgreSQL
// parameter rolled around the primary (cib-rolled.ts).
import { truthy } from "../runtime-switches.js";
import { shq } from "../shell.js";
import { exec, must, TaskError, type HostCtx, type RunCtx } from "../tasks.js";

const MM = "crm_attribute -t crm_config -n maintenance-mode";

/** Whether the live cluster is in maintenance mode now (then Pacemaker acts on a change later, and nothing is rolled). */
export async function maintenanceOn(ctx: RunCtx, h: HostCtx): Promise<boolean> {
  return truthy((await exec(ctx, h, `${MM} -G -q`)).stdout.trim());
}

/** Runs `change` under maintenance mode, refreshes `rsc` and waits for the cluster to settle; `what` names the change in an error. */
export async function underMaintenance(ctx: RunCtx, h: HostCtx, rsc: string, what: string, timeout: number, change: () => Promise<unknown>): Promise<void> {
  const before = (await exec(ctx, h, `${MM} -G -q`)).stdout.trim();
  await must(ctx, h, `${MM} --update=true`);
  try {
    await change();
    await must(ctx, h, `crm_resource --refresh -r ${shq(rsc)}`);
    await must(ctx, h, `crm_resource --wait --timeout=${timeout}s`);
  } catch (e) {
    // Ending maintenance mode half-way could restart the primary for the new definition: the operator decides.
    throw new TaskError(h.node.name, `${what}: ${(e as Error).message}; maintenance-mode is left on (pgha status shows the cluster)`);
  }
  await must(ctx, h, before ? `${MM} --update=${shq(before)}` : `${MM} --delete`);
}
