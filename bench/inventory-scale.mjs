#!/usr/bin/env node
// Inventory validation time against inventory size (issue 14, item 6): `pgha validate` of the sr-pgsql-2node
// spec against generated inventories whose cluster group holds the two nodes and whose other groups hold
// N hosts each with variables, as a large site's inventory would. Run after `npm run build`; imports only
// from dist/. Prints JSON: per size, the median wall time of validate (in process, so Node's start-up is
// not counted) and of loading the inventory alone, the time per host, which stays flat when the work is linear,
// and the process's resident memory after the size's runs.
//
//   node bench/inventory-scale.mjs [--hosts 10000,100000] [--samples 3]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const { main } = await import(join(ROOT, "dist", "cli.js"));
const { loadInventory } = await import(join(ROOT, "dist", "inventory.js"));

const { values } = parseArgs({ options: { hosts: { type: "string", default: "10000,100000" }, samples: { type: "string", default: "3" } } });
const sizes = values.hosts.split(",").map(Number);
const samples = Number(values.samples);

/** N hosts in 100 groups under a parent, each with its own variables, plus the cluster's group. */
function inventory(n) {
  const lines = ["all:", "  vars:", "    ansible_user: root", "  children:", "    pgsql:", "      hosts:", "        pg1: { ansible_host: 10.117.1.11 }", "        pg2: { ansible_host: 10.117.1.12 }", "    site:", "      children:"];
  const perGroup = Math.ceil(n / 100);
  for (let g = 0; g < 100 && g * perGroup < n; g++) {
    lines.push(`        rack${g}:`, "          vars: { ansible_port: 22 }", "          hosts:");
    for (let i = g * perGroup; i < Math.min(n, (g + 1) * perGroup); i++) {
      lines.push(`            h${i}: { ansible_host: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}, rack: ${g} }`);
    }
  }
  return lines.join("\n") + "\n";
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (f) => {
  const t = performance.now();
  await f();
  return performance.now() - t;
};

const dir = mkdtempSync(join(tmpdir(), "pgha-inventory-scale-"));
process.env.PGHA_REPL_PASSWORD ??= "bench-only";
const spec = join(dir, "cluster.yml");
writeFileSync(spec, readFileSync(join(ROOT, "inventories", "sr-pgsql-2node", "cluster.yml")));
const results = [];
try {
  for (const n of sizes) {
    const hosts = join(dir, `hosts-${n}.yml`);
    const text = inventory(n);
    writeFileSync(hosts, text);
    const validate = [];
    const load = [];
    for (let s = 0; s < samples; s++) {
      const out = [];
      validate.push(
        await time(async () => {
          const code = await main(["validate", "-i", hosts, "-s", spec], { out: (l) => out.push(l), err: (l) => out.push(l) });
          if (code !== 0) throw new Error(`validate failed on ${n} hosts: ${out.join("\n")}`);
        }),
      );
      load.push(await time(() => loadInventory(hosts)));
    }
    const v = median(validate);
    results.push({ hosts: n, bytes: text.length, validateMs: Math.round(v), loadInventoryMs: Math.round(median(load)), validateUsPerHost: Math.round((v * 1000) / n), rssMB: Math.round(process.memoryUsage().rss / 2 ** 20), samples });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ benchmark: "inventory-scale", node: process.version, results }, null, 2));
