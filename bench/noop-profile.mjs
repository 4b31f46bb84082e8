#!/usr/bin/env node
// Where a no-op's time goes (issue 16), step by step in one process, in the order `pgha apply` takes them:
// module loading, spec parsing and schema validation, the inventory, the model, rendering, the SSH module,
// the handshakes, the facts command (with the status read in it), the apply module (listr2, tasks) and the
// status table. Node's own start-up is not in here (bench/run.mjs times `node -e 0`). Prints JSON: ms per step.
//
//   node bench/noop-profile.mjs -i HOSTS -s SPEC
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

const DIST = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const { values } = parseArgs({ options: { inventory: { type: "string", short: "i" }, spec: { type: "string", short: "s" } } });
const steps = {};
const step = async (name, f) => {
  const t = performance.now();
  const v = await f();
  steps[name] = Math.round((performance.now() - t) * 10) / 10;
  return v;
};
const m = (name) => import(join(DIST, name));

const [{ loadSpec }, { loadInventory }, { buildModel }, { secretResolver }] = await step("load the CLI's modules (yaml, the schema validator, the model)", () =>
  Promise.all([m("spec.js"), m("inventory.js"), m("model/build.js"), m("secrets.js")]),
);
const spec = await step("spec: parse and schema validation", () => loadSpec(values.spec));
const inventory = await step("inventory: parse", () => loadInventory(values.inventory));
const model = await step("model: semantic checks", () => buildModel({ spec, inventory, resolveSecret: secretResolver(process.env, dirname(values.spec)) }));
await step("render (Handlebars runtime, templates compiled by the build)", async () => {
  const { loadTemplates, renderCluster } = await m("render.js");
  return renderCluster(model, loadTemplates());
});
const { connectAll, gatherFactsWith } = await step("load the SSH module (ssh2)", () => m("gather.js"));
const conns = await step("SSH handshakes, every host at once", () => connectAll(model, { connectTimeoutMs: 15_000 }));
try {
  const { statusFromProbes, statusProbe, statusView } = await step("load the status module (fast-xml-parser)", () => m("cluster-status.js"));
  const { probes } = await step("facts command with the status read, every host at once", () => gatherFactsWith(model, conns, (_, i) => statusProbe(model, i === 0)));
  await step("load apply (listr2, tasks, playbooks)", () => Promise.all([m("apply.js"), m("playbook.js")]));
  await step("status table from that read", () => statusView(model, statusFromProbes(model, probes)));
} finally {
  conns.forEach((c) => c.close());
}
process.stdout.write(JSON.stringify(steps) + "\n");
