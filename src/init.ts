// `pgha init`: a commented starting spec for an inventory. Pure: inventory in, YAML text out. It writes
// what the inventory tells (nodes, their addresses), the choices pgha does not make for the user with a
// safe value (STONITH on, two heartbeat links, two ping targets), and a placeholder for each value only
// the user knows; what pgha already defaults (docs/safe-defaults.md) stays out.
import { InputError } from "./diagnostics.js";
import { hostsOfGroup, type Inventory } from "./inventory.js";
import { ipv4ToInt } from "./net.js";
import { placeholder } from "./placeholder.js";
import type { Spec } from "./spec-types.js";

export type Topology = Spec["cluster"]["topology"];
export type Agent = Spec["postgresql"]["agent"];
export const TOPOLOGIES: readonly Topology[] = ["streaming-replication", "shared-disk"];
export const AGENTS: readonly Agent[] = ["pgsql", "pgsqlms"];

export interface InitInput {
  inventory: Inventory;
  topology: Topology;
  agent: Agent;
  /** The inventory group whose hosts become the nodes; by default the one group that holds them. */
  group?: string;
  /** Where the spec schema is, for the editor's `$schema` line. */
  schemaPath: string;
  /** The inventory as the user named it, for the header and the validate command it suggests. */
  inventoryPath: string;
}

const PG_VERSION = 15;

const initError = (message: string, expected?: string) => new InputError([{ code: "init", severity: "error", message, expected }]);

/** A YAML scalar: plain when it reads back as the same string, else double-quoted (JSON is valid YAML). */
function y(s: string): string {
  return /^[A-Za-z_/][A-Za-z0-9_./-]*$/.test(s) && !/^(true|false|null|~)$/i.test(s) ? s : JSON.stringify(s);
}
const fill = (what: string) => JSON.stringify(placeholder(what));
const envName = (node: string) => `PGHA_FENCE_${node.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_PASSWORD`;

/** The group named, or the only group (besides all and ungrouped) with two hosts or more, or all. */
export function pickGroup(inv: Inventory, named?: string): string {
  if (named !== undefined) {
    if (!inv.groups.has(named)) throw initError(`inventory ${inv.file} has no group '${named}'`, `one of: ${[...inv.groups.keys()].join(", ")}`);
    return named;
  }
  const candidates = [...inv.groups.values()].filter((g) => g.name !== "all" && g.name !== "ungrouped" && g.hosts.length >= 2).map((g) => g.name);
  if (candidates.length > 1) throw initError(`inventory ${inv.file} has several groups that could be the cluster: ${candidates.join(", ")}`, "--group NAME");
  return candidates[0] ?? "all";
}

export function initSpec(input: InitInput): string {
  const { inventory: inv, topology, agent } = input;
  if (topology === "shared-disk" && agent !== "pgsql") throw initError("the shared-disk topology runs ocf:heartbeat:pgsql", "--agent pgsql");
  const group = pickGroup(inv, input.group);
  const nodes = hostsOfGroup(inv, group);
  if (nodes.length < 2) throw initError(`group '${group}' of inventory ${inv.file} has ${nodes.length} host(s); a cluster needs two or more`);
  const streaming = topology === "streaming-replication";
  const address = (node: string) => {
    const host = inv.hosts.get(node)!.connection.host;
    return ipv4ToInt(host) !== undefined ? host : fill(`${node}'s address on link 0 (its ansible_host ${host} is not an IPv4 address)`);
  };
  const firstAddress = inv.hosts.get(nodes[0]!)!.connection.host;
  const width = Math.max(...nodes.map((n) => y(n).length));
  const pad = (n: string) => `${y(n)}:`.padEnd(width + 1);
  const archive = `/var/lib/postgresql/${PG_VERSION}/archive`;
  const shared = `/var/lib/postgresql/${PG_VERSION}/shared`;
  const what = streaming ? `streaming replication with ${agent === "pgsql" ? "the pgsql agent (ocf:heartbeat:pgsql, Linux-HA Japan style)" : "PAF (ocf:heartbeat:pgsqlms)"}` : "one PostgreSQL on a shared disk (ocf:heartbeat:pgsql)";

  const lines = [
    `# yaml-language-server: $schema=${input.schemaPath}`,
    `# Written by pgha init for ${input.inventoryPath}: ${what}.`,
    `# Replace every "<FILL: ...>" with your value; pgha validate -i ${input.inventoryPath} -s <this file>`,
    `# names each one still to fill. What the spec leaves out, pgha sets to its safe defaults (a failed stop`,
    `# fences, no-quorum-policy=stop, a fence delay for two nodes, corosync crypto): see docs/safe-defaults.md.`,
    `cluster:`,
    `  name: pgcluster             # corosync's cluster_name: changing it later restarts the whole cluster`,
    `  topology: ${topology}`,
    `  nodes:`,
    `    group: ${y(group)}`,
    `    members:                  # one address per corosync link, in link order; link 0 is each host's ansible_host`,
    ...nodes.map((n, i) => `      ${pad(n)} { id: ${i + 1}, links: [${address(n)}, ${fill(`${n}'s address on link 1`)}] }`),
    ``,
    `corosync:`,
    `  links:                     # two heartbeat links, each on its own NIC; with one network only, drop link 1 and the second addresses`,
    `    - { interface: ${fill(`the NIC of link 0 (the network of ${firstAddress}), e.g. eth1`)}, subnet: ${fill("link 0's subnet, e.g. 192.168.1.0/24")}, priority: 1 }   # the service LAN: totem falls back to it`,
    `    - { interface: ${fill("the NIC of link 1, the interconnect, e.g. eth2")}, subnet: ${fill("link 1's subnet, e.g. 192.168.2.0/24")}, priority: 2 }   # knet sends over the highest priority`,
    ``,
    `pacemaker:`,
    `  properties:`,
    `    stonith-timeout: 120s     # a BMC can be slow to answer; Pacemaker's default is 60s`,
    ...(agent === "pgsqlms" ? [`  rsc_defaults:               # as in the paf-3node example`, `    resource-stickiness: 10`, `    migration-threshold: 3`] : []),
    `  stonith:`,
    `    enabled: true`,
    `    devices:                  # one fence device per node, never run by the node it fences; the password comes from the environment`,
    ...nodes.flatMap((n) => [
      `      ${y(n)}:`,
      `        agent: ${fill("the fence agent, e.g. stonith:fence_ipmilan")}`,
      `        params: { ip: ${fill(`${n}'s BMC address`)}, username: ${fill(`${n}'s BMC user`)}, lanplus: 1, pcmk_host_list: ${y(n)} }`,
      `        secret_params: { password: { env: ${envName(n)} } }   # or { file: /root/${n}-bmc-password }`,
    ]),
    `  vips:                      # the NIC and netmask are those of the link whose subnet holds the address`,
    `    master: { ip: ${fill(streaming ? "the master VIP, where applications reach the primary" : "the service VIP, where applications reach PostgreSQL")} }`,
    ...(!streaming
      ? []
      : agent === "pgsql"
        ? [`    replication: { ip: ${fill("the replication VIP, where standbys reach the primary (on the interconnect)")} }`]
        : [`    # replication: { ip: ... }  # where standbys reach the primary; without it they use the master VIP`]),
    ...(streaming ? [`    # readonly: { ip: ... }   # read-only traffic, on a healthy standby`] : []),
    `  ping:                      # a node that reaches none of these may not run the primary`,
    `    hosts: [${fill("a gateway on the service LAN")}, ${fill("a second target, e.g. another gateway")}]`,
    ``,
    ...(streaming
      ? []
      : [
          `shared_disk:`,
          `  device: ${fill("the shared block device, e.g. /dev/disk/by-id/...")}`,
          `  mountpoint: ${shared}`,
          `  # sfex: { device: /dev/disk/by-partlabel/pgsfex }   # an exclusive lock on a small partition of its own`,
          ``,
        ]),
    `postgresql:`,
    `  version: ${PG_VERSION}                 # the major version installed on every node`,
    `  agent: ${agent}`,
    `  primary: ${y(nodes[0]!)}                # where the cluster is first created (initdb)`,
    ...(streaming ? [] : [`  data_directory: ${shared}/data`]),
    `  hba:`,
    `    - { type: host, database: all, user: all, address: ${fill("your applications' network, e.g. 10.0.0.0/24")}, method: scram-sha-256 }`,
    ...(streaming
      ? [
          `  replication:`,
          `    user: repl`,
          `    password: { env: PGHA_REPL_PASSWORD }   # or { file: /root/pgha-repl-password }`,
        ]
      : []),
    ...(streaming && agent === "pgsql"
      ? [
          `  archive:                   # the pgsql agent in sync mode needs a restore_command; pgha prunes to keep_segments`,
          `    directory: ${archive}`,
          `    keep_segments: 64`,
          `    restore_command: "cp ${archive}/%f %p"`,
        ]
      : []),
    ...(streaming && agent === "pgsqlms"
      ? [`  # parameters:`, `  #   synchronous_standby_names: "ANY 1 (${nodes.join(", ")})"   # synchronous replication: PAF leaves it to you`]
      : []),
  ];
  return lines.join("\n") + "\n";
}
