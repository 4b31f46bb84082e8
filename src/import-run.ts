// `pgha import -i INVENTORY -o DIR`: reads a running cluster (one facts command per node, nothing
// changed anywhere), writes DIR/cluster.yml (and DIR/hosts.yml with --inventory-out) without replacing
// any file, then compares the cluster with the written spec as `pgha diff` does.
import { constants, mkdirSync, openSync, closeSync, writeSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { InputError } from "./diagnostics.js";
import { importCluster, type ImportReport } from "./import.js";
import { importFactsScript, parseImportFacts, type NodeImportFacts } from "./import-facts.js";
import { hostsOfGroup, type Inventory } from "./inventory.js";
import type { ClusterNode } from "./model/types.js";
import { connect, type Connection, type TransportOptions } from "./transport.js";

export interface ImportRun {
  spec: object;
  report: ImportReport;
  written: string[];
  /** The connections, still open, for the comparison that follows; the caller closes them. */
  connections: Map<string, Connection>;
  /** A configuration file as import read it on a node (corosync.conf, postgresql.conf, pg_hba.conf). */
  liveFile: (node: string, path: string) => string | undefined;
}

/** A file that must not exist yet (O_EXCL, no link followed), readable by its owner only. */
function writeNew(path: string, content: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "EEXIST" ? "the file exists (pgha import never overwrites one)" : (e as Error).message;
    throw new InputError([{ code: "import-output", severity: "error", file: path, message: `cannot write: ${why}` }]);
  }
  try {
    const buf = Buffer.from(content);
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
  } finally {
    closeSync(fd);
  }
}

/** An inventory of the imported nodes with the connection settings they were reached with. */
export function inventoryText(inv: Inventory, group: string): string {
  const hosts: Record<string, Record<string, unknown>> = {};
  for (const name of hostsOfGroup(inv, group)) {
    const c = inv.hosts.get(name)!.connection;
    hosts[name] = {
      ansible_host: c.host,
      ...(c.port !== 22 ? { ansible_port: c.port } : {}),
      ...(c.user ? { ansible_user: c.user } : {}),
      ...(c.privateKeyFile ? { ansible_ssh_private_key_file: c.privateKeyFile } : {}),
      ...(c.sshCommonArgs ? { ansible_ssh_common_args: c.sshCommonArgs } : {}),
      ...(c.become ? { ansible_become: true } : {}),
      ...(c.becomeUser ? { ansible_become_user: c.becomeUser } : {}),
    };
  }
  return `# Written by pgha import.\n${stringify({ all: { children: { [group]: { hosts } } } })}`;
}

export async function runImport(inv: Inventory, group: string, out: string, inventoryOut: boolean, transport: TransportOptions): Promise<ImportRun> {
  const names = hostsOfGroup(inv, group);
  if (names.length < 2) throw new InputError([{ code: "import", severity: "error", file: inv.file, message: `group '${group}' has ${names.length} host(s); a cluster has two or more` }]);
  // Only name and connection matter to the transport.
  const nodes = names.map((name, i): ClusterNode => ({ name, id: i + 1, links: [], connection: inv.hosts.get(name)!.connection, isPrimary: false }));
  const results = await Promise.allSettled(nodes.map((n) => connect(n, transport)));
  const connections = new Map<string, Connection>();
  results.forEach((r, i) => r.status === "fulfilled" && connections.set(names[i]!, r.value));
  const failed = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).message] : []));
  try {
    if (failed.length) throw new InputError([{ code: "import", severity: "error", message: `cannot reach every node, nothing was read:\n  ${failed.join("\n  ")}` }]);
    const facts: NodeImportFacts[] = await Promise.all(
      names.map(async (name) => {
        const r = await connections.get(name)!.exec("sh -s", { stdin: importFactsScript() });
        // stderr only: the output holds the CIB, fence passwords included.
        if (r.code !== 0) throw new InputError([{ code: "import", severity: "error", message: `${name}: reading the cluster failed: ${r.stderr.trim()}` }]);
        return parseImportFacts(name, r.stdout);
      }),
    );
    const asked = facts.find((f) => f.cib);
    if (!asked) throw new InputError([{ code: "import", severity: "error", message: "no node gave its CIB (cibadmin -Q): is Pacemaker running?" }]);
    const { spec, report } = importCluster({ cib: asked.cib!, crmShow: asked.crmShow, hosts: facts.map((f) => f.host), group });
    mkdirSync(out, { recursive: true, mode: 0o755 });
    const written = [join(out, "cluster.yml")];
    writeNew(written[0]!, `# Written by pgha import from the running cluster; see the report it printed.\n${stringify(spec, { lineWidth: 0 })}`);
    if (inventoryOut) {
      written.push(join(out, "hosts.yml"));
      writeNew(written[1]!, inventoryText(inv, group));
    }
    const liveFile = (node: string, path: string) => {
      const h = facts.find((x) => x.host.name === node)?.host;
      if (path === "/etc/corosync/corosync.conf") return h?.corosyncConf || undefined;
      return path.endsWith("/pg_hba.conf") ? h?.pgHba : h?.postgresqlConf.find((c) => c.path === path)?.text;
    };
    return { spec, report, written, connections, liveFile };
  } catch (e) {
    connections.forEach((c) => c.close());
    throw e;
  }
}

/** The report a person reads: no value of any secret, only where each must come from. */
export function formatReport(r: ImportReport): string[] {
  const section = (title: string, lines: string[]) => (lines.length ? [title, ...lines.map((l) => `  ${l}`)] : []);
  return [
    ...section("mapped:", r.mapped),
    ...section("kept verbatim in pacemaker.extra_crm:", r.kept),
    ...section("secrets to fill in:", r.secrets),
    ...section("notes:", r.notes),
  ];
}
