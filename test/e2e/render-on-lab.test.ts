// The rendered corosync.conf is accepted by corosync itself on the node it was rendered for, reached the
// way pgha reaches hosts: its own SSH transport, the lab inventory, host keys checked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadInventory } from "../../src/inventory.js";
import { buildModel } from "../../src/model/build.js";
import type { ClusterModel } from "../../src/model/types.js";
import { loadTemplates, renderCluster, type RenderedCluster } from "../../src/render.js";
import { secretResolver } from "../../src/secrets.js";
import { loadSpec } from "../../src/spec.js";
import { connect, type Connection } from "../../src/transport.js";
import { labSh } from "./lab-helpers.js";

const env = { PGHA_REPL_PASSWORD: "e2e-render-secret" };

function renderFor(example: string): { model: ClusterModel; rendered: RenderedCluster } {
  const model = buildModel({
    spec: loadSpec(`inventories/${example}/cluster.yml`),
    // the example's own inventory: the lab's addresses, key and known_hosts
    inventory: loadInventory(`inventories/${example}/hosts.yml`),
    resolveSecret: secretResolver(env),
  });
  return { model, rendered: renderCluster(model, loadTemplates()) };
}

describe.each(["sr-pgsql-2node", "paf-3node"])("%s on the lab", (example) => {
  const { model, rendered } = renderFor(example);
  const conns = new Map<string, Connection>();

  beforeAll(async () => {
    labSh(["up", "--nodes", "3"]);
    for (const n of model.nodes) conns.set(n.name, await connect(n, { connectTimeoutMs: 10_000 }));
  });
  afterAll(() => conns.forEach((c) => c.close()));

  it.each(model.nodes.map((n) => n.name))("corosync -t accepts %s's corosync.conf on %s itself", async (node) => {
    const conn = conns.get(node)!;
    const file = rendered.files.find((f) => f.node === node && f.path === "/etc/corosync/corosync.conf")!;
    const tmp = "/tmp/pgha-render-check.conf";
    const key = "/tmp/pgha-render-check.key";
    // With crypto on corosync reads its key: a scratch one stands in for /etc/corosync/authkey, which only
    // apply creates. to_stderr so that any complaint is visible; the rest of the file is as rendered.
    const conf = file.content.replace(/^(\s*)crypto_hash: .*$/m, `$&\n$1keyfile: ${key}`).replace("to_stderr: no", "to_stderr: yes");
    expect((await conn.exec(`cat > ${tmp} && head -c 256 /dev/urandom > ${key}`, { stdin: conf })).code).toBe(0);
    const r = await conn.exec(`corosync -t -c ${tmp}; echo "rc=$?"; rm -f ${tmp} ${key}`);
    expect(r.stdout + r.stderr).toMatch(/rc=0/);
    expect(r.stderr).not.toMatch(/error|No valid name found/i);
  });

  it("the hosts are the nodes the spec names, with the links' interfaces and addresses", async () => {
    for (const n of model.nodes) {
      const r = await conns.get(n.name)!.exec("uname -n; ip -o -4 addr show");
      expect(r.stdout.split("\n")[0]).toBe(n.name);
      for (const [i, addr] of n.links.entries()) {
        const nic = ["eth1", "eth2"][i];
        expect(r.stdout).toContain(`${nic} `);
        expect(r.stdout).toContain(`inet ${addr}/`);
      }
    }
  });
});
