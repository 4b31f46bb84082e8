// The Pacemaker configuration as data. Ids are explicit and derived from the spec, so loading the same
// file twice never duplicates an element, and a diff names elements the operator recognises.
import type { NvPairs, OpName, Spec, SpecOp } from "../spec-types.js";
import type { ClusterNode, CrmModel, CrmOp, CrmPrimitive, KeyValue, PostgresFacts, ResourceIds } from "./types.js";
import { replicationSlots, SLOT_PREFIX } from "./postgresql.js";

export function resourceIds(spec: Spec): ResourceIds {
  const o = spec.pacemaker?.ids ?? {};
  const shared = spec.cluster.topology === "shared-disk";
  const ping = o.ping ?? (shared ? "prmPing" : "ping");
  const pingClone = o.ping_clone ?? (shared ? "clnPing" : `${ping}-clone`);
  const clone = o.clone ?? (spec.pacemaker?.syntax === "ms" ? "msPostgresql" : "pgsql-clone");
  const group = o.group ?? (shared ? "grpPostgreSQLDB" : "master-group");
  const vipReadonly = o.vip_readonly ?? "vip-slave";
  const diskClone = o.disk_monitor_clone ?? "clnDiskd";
  // What the network and disk guards constrain: the promotable clone, or the shared-disk group.
  const guarded = shared ? group : clone;
  const pg = spec.pacemaker?.ping;
  return {
    postgresql: o.postgresql ?? (shared ? "prmApPostgreSQLDB" : "pgsql"),
    clone,
    group,
    vipMaster: o.vip_master ?? (shared ? "prmIpPostgreSQLDB" : "vip-master"),
    vipReplication: o.vip_replication ?? "vip-rep",
    vipReadonly,
    ping,
    pingClone,
    filesystem: o.filesystem ?? "prmFsPostgreSQLDB",
    sfex: o.sfex ?? "prmExPostgreSQLDB",
    diskMonitor: o.disk_monitor ?? "prmDiskd",
    diskClone,
    locationPing: o.location_ping ?? `location-${guarded}-ping`,
    locationDisk: o.location_disk ?? `location-${guarded}-disk`,
    locationVipReadonly: o.location_vip_readonly ?? `location-${vipReadonly}`,
    colocationVipReadonly: o.colocation_vip_readonly ?? `colocation-${vipReadonly}-${clone}`,
    colocationPing: o.colocation_ping ?? `colocation-${guarded}-${pingClone}`,
    colocationDisk: o.colocation_disk ?? `colocation-${guarded}-${diskClone}`,
    // Shared-disk order ids carry their position among the guards.
    orderPing: o.order_ping ?? (shared ? `order-${pingClone}-${group}-0` : `order-${pingClone}-${clone}`),
    orderDisk: o.order_disk ?? (shared ? `order-${diskClone}-${group}-${pg ? 1 : 0}` : `order-${diskClone}-${clone}`),
    colocationVips: o.colocation_vips ?? `colocation-${group}-${clone}`,
    orderPromote: o.order_promote ?? `order-${clone}-promote-${group}`,
    orderDemote: o.order_demote ?? `order-${clone}-demote-${group}`,
  };
}

const pairs = (o: NvPairs | undefined): KeyValue[] => Object.entries(o ?? {}).map(([key, v]) => ({ key, value: String(v) }));

interface OpDefault {
  interval: string;
  timeout: string;
  onFail?: string;
  role?: "promoted" | "unpromoted";
}

function op(rsc: string, name: string, d: OpDefault, o: SpecOp | undefined, roles: Roles): CrmOp {
  const interval = o?.interval ?? d.interval;
  return {
    id: `${rsc}-${name}-${interval}`,
    name,
    interval,
    timeout: o?.timeout ?? d.timeout,
    // on-fail=fence without STONITH is a configuration error; block is the safe stand-in.
    onFail: o?.on_fail ?? (d.onFail === "fence" && !roles.fencing ? "block" : d.onFail),
    role: d.role ? roles[d.role] : undefined,
  };
}

/**
 * Linux-HA Japan's conventional operations for the pgsql agent (and PAF's recommended ones). A stop or
 * demote that fails leaves an instance that may still write, so with STONITH the node is fenced (their
 * current sample sheets; Pacemaker's own default for a failed stop): `block` would keep the primary
 * "FAILED (blocked)" with its VIPs down until a human steps in. `op` turns fence into block without STONITH.
 */
function postgresOps(spec: Spec, rsc: string, promotable: boolean, roles: Roles): CrmOp[] {
  const paf = spec.postgresql.agent === "pgsqlms";
  // The pgsql agent's metadata asks for a fenced failed promote when it restarts PostgreSQL to promote.
  const promoteOnFail = !paf && restartOnPromote(spec) ? "fence" : "restart";
  const table: [OpName, string, OpDefault][] = promotable
    ? [
        ["start", "start", { interval: "0s", timeout: paf ? "60s" : "300s", onFail: "restart" }],
        ["monitor", "monitor", { interval: "10s", timeout: "60s", onFail: "restart", role: "unpromoted" }],
        ["monitor_promoted", "monitor", { interval: "9s", timeout: "60s", onFail: "restart", role: "promoted" }],
        ["promote", "promote", { interval: "0s", timeout: paf ? "30s" : "300s", onFail: promoteOnFail }],
        ["demote", "demote", { interval: "0s", timeout: paf ? "120s" : "300s", onFail: roles.fencing ? "fence" : "stop" }],
        ["stop", "stop", { interval: "0s", timeout: paf ? "60s" : "300s", onFail: "fence" }],
        ["notify", "notify", { interval: "0s", timeout: "90s" }],
      ]
    : [
        ["start", "start", { interval: "0s", timeout: "300s", onFail: "restart" }],
        ["monitor", "monitor", { interval: "10s", timeout: "60s", onFail: "restart" }],
        ["stop", "stop", { interval: "0s", timeout: "300s", onFail: "fence" }],
      ];
  return table.map(([key, name, d]) => op(rsc, name, d, spec.postgresql.ops?.[key], roles));
}

/** Start, monitor and stop as the Linux-HA Japan configurations write them for plain resources. */
function basicOps(rsc: string, monitor: string, stopOnFail: "fence" | "ignore", roles: Roles, timeout = "60s"): CrmOp[] {
  return [
    op(rsc, "start", { interval: "0s", timeout, onFail: "restart" }, undefined, roles),
    op(rsc, "monitor", { interval: monitor, timeout, onFail: "restart" }, undefined, roles),
    op(rsc, "stop", { interval: "0s", timeout, onFail: stopOnFail }, undefined, roles),
  ];
}

function primitive(id: string, agent: string, params: KeyValue[], ops: CrmOp[], meta: KeyValue[] = []): CrmPrimitive {
  return { id, agent, params, meta, ops, paramsId: `${id}-instance_attributes`, metaId: `${id}-meta_attributes` };
}

/** How ops and roles are spelled: the role names of the chosen syntax, and whether fencing exists. */
interface Roles {
  promoted: string;
  unpromoted: string;
  fencing: boolean;
}

export function rolesFor(spec: Spec): Roles {
  const fencing = spec.pacemaker?.stonith?.enabled ?? false;
  return spec.pacemaker?.syntax === "ms" ? { promoted: "Master", unpromoted: "Slave", fencing } : { promoted: "Promoted", unpromoted: "Unpromoted", fencing };
}

/**
 * restart_on_promote kept the timeline before PostgreSQL 9.3, when a standby could not follow a new
 * timeline by streaming. Today it hides divergence: after an unclean failover both nodes stay on one
 * timeline and pg_rewind finds "no rewind required".
 */
export function restartOnPromote(spec: Spec): boolean {
  const v = spec.postgresql.agent_params?.restart_on_promote;
  return v === undefined ? spec.postgresql.version < 9.3 : String(v) === "true";
}

/** The delay before the primary's node may be fenced, unless the spec's devices carry one themselves. */
export const PRIORITY_FENCING_DELAY = "10s";

/**
 * Two nodes that lose each other both fence at once. The one that runs the primary must win
 * (Linux-HA Japan: "the Active side fences first"): priority-fencing-delay, with a priority on the
 * resources the primary runs, makes its peer wait. A device with pcmk_delay_base/max is the other way.
 */
export function fenceRace(spec: Spec, nodeCount: number): { defaultDelay: boolean; priority: boolean; guarded: boolean } {
  const st = spec.pacemaker?.stonith;
  if (!st?.enabled || nodeCount !== 2) return { defaultDelay: false, priority: false, guarded: true };
  const deviceDelay = Object.values(st.devices ?? {}).some((d) => ["pcmk_delay_base", "pcmk_delay_max"].some((k) => !/^0+[a-z]*$/.test(String(d.params?.[k] ?? "0"))));
  const own = spec.pacemaker?.properties?.["priority-fencing-delay"];
  const defaultDelay = own === undefined && !deviceDelay;
  const priority = defaultDelay || (own !== undefined && !/^0+[a-z]*$/.test(String(own)));
  return { defaultDelay, priority, guarded: priority || deviceDelay };
}

export interface CrmInputs {
  spec: Spec;
  nodes: ClusterNode[];
  pg: PostgresFacts;
  /** Resolved fence-device secret params, keyed by node. */
  fenceSecrets: Record<string, KeyValue[]>;
  /** The address standbys replicate from (vip-rep or master_ip). */
  masterIp?: string;
  vipNic: (ip: string, nic?: string) => { nic: string; cidr: number };
}

export function crmModel(inp: CrmInputs): CrmModel {
  const { spec, nodes } = inp;
  const ids = resourceIds(spec);
  const roles = rolesFor(spec);
  const pm = spec.pacemaker ?? {};
  const ms = pm.syntax === "ms";
  const streaming = spec.cluster.topology === "streaming-replication";
  const stonithOn = pm.stonith?.enabled ?? false;
  const race = fenceRace(spec, nodes.length);

  const model: CrmModel = {
    properties: {
      id: "cib-bootstrap-options",
      pairs: pairs({
        // With two_node the survivor keeps quorum (votequorum(5)); ignore would defeat wait_for_all.
        "no-quorum-policy": "stop",
        ...(race.defaultDelay ? { "priority-fencing-delay": PRIORITY_FENCING_DELAY } : {}),
        ...pm.properties,
        "stonith-enabled": stonithOn,
      }),
    },
    rscDefaults: { id: "rsc-options", pairs: pairs({ "resource-stickiness": "INFINITY", "migration-threshold": 1, ...pm.rsc_defaults }) },
    opDefaults: pm.op_defaults ? { id: "op-options", pairs: pairs(pm.op_defaults) } : undefined,
    primitives: [],
    groups: [],
    clones: [],
    locations: [],
    colocations: [],
    orders: [],
    extra: pm.extra_crm?.trimEnd() || undefined,
  };

  const vip = (id: string, v: { ip: string; nic?: string; cidr_netmask?: number }) => {
    const { nic, cidr } = inp.vipNic(v.ip, v.nic);
    return primitive(id, "ocf:heartbeat:IPaddr2", [{ key: "ip", value: v.ip }, { key: "nic", value: nic }, { key: "cidr_netmask", value: String(v.cidr_netmask ?? cidr) }], basicOps(id, "10s", "fence", roles));
  };

  // STONITH first: one device per node, never run by the node it fences.
  if (stonithOn) {
    for (const n of nodes) {
      const dev = pm.stonith!.devices?.[n.name];
      // buildModel refuses a node without its device; pgha import renders such a spec to compare.
      if (!dev) continue;
      const id = dev.id ?? `fence-${n.name}`;
      const params = [...pairs(dev.params), ...(inp.fenceSecrets[n.name] ?? [])];
      model.primitives.push(
        primitive(id, dev.agent, params, [
          op(id, "start", { interval: "0s", timeout: "60s", onFail: "restart" }, undefined, roles),
          op(id, "monitor", { interval: dev.monitor_interval ?? "3600s", timeout: "60s", onFail: "restart" }, undefined, roles),
          op(id, "stop", { interval: "0s", timeout: "60s", onFail: "ignore" }, undefined, roles),
        ]),
      );
      if (dev.group) {
        // Linux-HA Japan's STONITH group: the group, not the device, is kept off the node, by a rule.
        const loc = dev.location_id ?? `location-${dev.group}`;
        model.groups.push({ id: dev.group, members: [id], meta: [], metaId: `${dev.group}-meta_attributes` });
        model.locations.push({ id: loc, resource: dev.group, rules: [{ id: `${loc}-rule`, score: "-inf", expression: `#uname eq ${n.name}` }] });
      } else model.locations.push({ id: dev.location_id ?? `location-${id}`, resource: id, score: "-inf", node: n.name, rules: [] });
    }
  }

  // Network monitoring: every node pings, and a node that cannot reach enough targets may not run PostgreSQL.
  const ping = pm.ping;
  const pingAttr = ping?.attribute ?? "default_ping_set";
  if (ping) {
    const multiplier = ping.multiplier ?? 100;
    model.primitives.push(
      primitive(
        ids.ping,
        "ocf:pacemaker:ping",
        [
          { key: "name", value: pingAttr },
          { key: "host_list", value: ping.hosts.join(" ") },
          { key: "multiplier", value: String(multiplier) },
          { key: "attempts", value: String(ping.attempts ?? 2) },
          { key: "timeout", value: String(ping.timeout ?? 2) },
        ],
        basicOps(ids.ping, ping.interval ?? "10s", "ignore", roles),
      ),
    );
    model.clones.push({ id: ids.pingClone, keyword: "clone", child: ids.ping, meta: [], metaId: `${ids.pingClone}-meta_attributes` });
  }
  const disk = pm.disk_monitor;
  const diskId = ids.diskMonitor;
  if (disk) {
    model.primitives.push(primitive(diskId, disk.agent, pairs(disk.params), basicOps(diskId, disk.interval ?? "10s", "ignore", roles)));
    model.clones.push({ id: ids.diskClone, keyword: "clone", child: diskId, meta: [], metaId: `${ids.diskClone}-meta_attributes` });
  }

  // The resource that must only run where the network (and disk) are healthy.
  const guarded = streaming ? ids.clone : ids.group;
  const guards: [string, string][] = [];
  // One reachable target is enough by default: requiring all of them turns the loss of one gateway into
  // PostgreSQL stopped on every node.
  if (ping) guards.push([ids.locationPing, `not_defined ${pingAttr} or ${pingAttr} lt ${ping.min_score ?? ping.multiplier ?? 100}`]);
  if (disk) guards.push([ids.locationDisk, `${disk.attribute} eq ${disk.fail_value}`]);
  for (const [id, expression] of guards) model.locations.push({ id, resource: guarded, rules: [{ id: `${id}-rule`, score: "-inf", expression }] });

  if (streaming) {
    streamingResources(inp, model, ids, roles, ms);
  } else {
    sharedDiskResources(inp, model, ids, roles, vip);
  }
  if (streaming) {
    const v = spec.pacemaker!.vips!;
    model.primitives.push(vip(ids.vipMaster, v.master!));
    const members = [ids.vipMaster];
    if (v.replication) {
      model.primitives.push(vip(ids.vipReplication, v.replication));
      members.push(ids.vipReplication);
    }
    model.groups.push({ id: ids.group, members, meta: race.priority ? [{ key: "priority", value: "1" }] : [], metaId: `${ids.group}-meta_attributes` });
    if (v.readonly) {
      // Low stickiness so the read-only VIP moves back to a healthy standby instead of staying on the primary.
      const ro = vip(ids.vipReadonly, v.readonly);
      ro.meta.push({ key: "resource-stickiness", value: "1" });
      model.primitives.push(ro);
    }
    streamingConstraints(inp, model, ids, roles, Boolean(ping), Boolean(disk));
  } else {
    for (const [clone, colocation, order] of guardDeps(ids, Boolean(ping), Boolean(disk))) {
      model.colocations.push({ id: colocation, score: "inf", resources: [ids.group, clone] });
      model.orders.push({ id: order, kind: "0", first: clone, then: ids.group, asymmetric: false });
    }
  }
  return model;
}

/** The clones PostgreSQL depends on (ping, disk monitor), each with its colocation and order ids. */
function guardDeps(ids: ResourceIds, ping: boolean, disk: boolean): [string, string, string][] {
  return [
    ...(ping ? [[ids.pingClone, ids.colocationPing, ids.orderPing] as [string, string, string]] : []),
    ...(disk ? [[ids.diskClone, ids.colocationDisk, ids.orderDisk] as [string, string, string]] : []),
  ];
}

/** Where the pgsql agent finds PostgreSQL (Debian keeps the configuration outside the data directory). */
function pgsqlParams(pg: PostgresFacts): NvPairs {
  return {
    pgctl: `${pg.bindir}/pg_ctl`,
    psql: `${pg.bindir}/psql`,
    pgdata: pg.dataDirectory,
    config: pg.configFile,
    pgdba: pg.osUser,
    pgport: pg.port,
    socketdir: pg.socketDirectory,
    // The agent's default is /dev/null: pg_ctl's start-up errors would be lost.
    logfile: `/var/log/postgresql/postgresql-${pg.version}-${pg.dataDirectory.split("/").filter(Boolean).at(-1)}.log`,
  };
}

function streamingResources(inp: CrmInputs, model: CrmModel, ids: ResourceIds, roles: Roles, ms: boolean): void {
  const { spec, nodes, pg } = inp;
  const p = spec.postgresql;
  const rep = pg.replication!;
  let params: KeyValue[];
  if (p.agent === "pgsql") {
    const base: NvPairs = {
      ...pgsqlParams(pg),
      rep_mode: rep.mode,
      node_list: nodes.map((n) => n.name).join(" "),
      master_ip: inp.masterIp!,
      repuser: rep.user,
      primary_conninfo_opt: "keepalives_idle=60 keepalives_interval=5 keepalives_count=5",
      restart_on_promote: restartOnPromote(spec),
      check_wal_receiver: true,
      tmpdir: pg.tmpdir!,
      ...(p.archive?.restore_command ? { restore_command: p.archive.restore_command } : {}),
      ...(p.archive?.archive_cleanup_command ? { archive_cleanup_command: p.archive.archive_cleanup_command } : {}),
      ...(replicationSlots(spec) ? { replication_slot_name: SLOT_PREFIX } : {}),
    };
    params = pairs({ ...base, ...p.agent_params, node_list: base.node_list!, master_ip: base.master_ip! });
  } else {
    params = pairs({
      bindir: pg.bindir,
      pgdata: pg.configDirectory,
      datadir: pg.dataDirectory,
      pghost: pg.socketDirectory,
      pgport: pg.port,
      system_user: pg.osUser,
      ...(pg.recovery === "recovery.conf" ? { recovery_template: `${pg.configDirectory}/recovery.conf.pcmk` } : {}),
      ...p.agent_params,
    });
  }
  model.primitives.push(primitive(ids.postgresql, `ocf:heartbeat:${p.agent}`, params, postgresOps(spec, ids.postgresql, true, roles)));
  const count = String(nodes.length);
  const meta: KeyValue[] = ms
    ? [{ key: "master-max", value: "1" }, { key: "master-node-max", value: "1" }]
    : [{ key: "promotable", value: "true" }, { key: "promoted-max", value: "1" }, { key: "promoted-node-max", value: "1" }];
  meta.push({ key: "clone-max", value: count }, { key: "clone-node-max", value: "1" }, { key: "notify", value: "true" });
  model.clones.push({ id: ids.clone, keyword: ms ? "ms" : "clone", child: ids.postgresql, meta, metaId: `${ids.clone}-meta_attributes` });
}

function streamingConstraints(inp: CrmInputs, model: CrmModel, ids: ResourceIds, roles: Roles, ping: boolean, disk: boolean): void {
  const v = inp.spec.pacemaker!.vips!;
  const pgsqlAgent = inp.spec.postgresql.agent === "pgsql";
  const status = `${ids.postgresql}-status`;
  if (v.readonly) {
    const rules = pgsqlAgent
      ? [
          { id: `${ids.locationVipReadonly}-rule-sync`, score: "200", expression: `${status} eq HS:sync` },
          { id: `${ids.locationVipReadonly}-rule-primary`, score: "100", expression: `${status} eq PRI` },
          { id: `${ids.locationVipReadonly}-rule-undefined`, score: "-inf", expression: `not_defined ${status}` },
          { id: `${ids.locationVipReadonly}-rule-other`, score: "-inf", expression: `${status} ne HS:sync and ${status} ne PRI` },
        ]
      : [{ id: `${ids.locationVipReadonly}-rule-standby`, score: "-inf", expression: `not_defined master-${ids.postgresql}` }];
    model.locations.push({ id: ids.locationVipReadonly, resource: ids.vipReadonly, rules });
    if (!pgsqlAgent) model.colocations.push({ id: ids.colocationVipReadonly, score: "100", resources: [ids.vipReadonly, `${ids.clone}:${roles.unpromoted}`] });
  }
  for (const [d, colocation, order] of guardDeps(ids, ping, disk)) {
    model.colocations.push({ id: colocation, score: "inf", resources: [ids.clone, d] });
    model.orders.push({ id: order, kind: "0", first: d, then: ids.clone, asymmetric: false });
  }
  model.colocations.push({ id: ids.colocationVips, score: "inf", resources: [ids.group, `${ids.clone}:${roles.promoted}`] });
  // PAF's documentation: "we MUST keep the vIP on the primary during its demote", so Mandatory.
  const kind = pgsqlAgent ? "0" : "Mandatory";
  model.orders.push({ id: ids.orderPromote, kind, first: `${ids.clone}:promote`, then: `${ids.group}:start`, asymmetric: true });
  model.orders.push({ id: ids.orderDemote, kind, first: `${ids.clone}:demote`, then: `${ids.group}:stop`, asymmetric: true });
}

function sharedDiskResources(inp: CrmInputs, model: CrmModel, ids: ResourceIds, roles: Roles, vip: (id: string, v: { ip: string; nic?: string; cidr_netmask?: number }) => CrmPrimitive): void {
  const { spec, pg } = inp;
  const sd = spec.shared_disk!;
  const members: string[] = [];
  if (sd.sfex) {
    const params: NvPairs = { device: sd.sfex.device, index: sd.sfex.index ?? 1 };
    if (sd.sfex.collision_timeout) params.collision_timeout = sd.sfex.collision_timeout;
    if (sd.sfex.monitor_interval) params.monitor_interval = sd.sfex.monitor_interval;
    if (sd.sfex.lock_timeout) params.lock_timeout = sd.sfex.lock_timeout;
    model.primitives.push(primitive(ids.sfex, "ocf:heartbeat:sfex", pairs(params), basicOps(ids.sfex, "10s", "fence", roles, "90s")));
    members.push(ids.sfex);
  }
  // force_unmount=safe finds the processes that keep the mount busy through /proc: fuser can block on a
  // hung NFS mount, and a stop that hangs ends in fencing (the agent's default since RHEL 9).
  const fsParams: NvPairs = { device: sd.device, directory: sharedMountpoint(spec, pg), fstype: sd.fstype ?? "ext4", force_unmount: "safe" };
  if (sd.options) fsParams.options = sd.options;
  model.primitives.push(primitive(ids.filesystem, "ocf:heartbeat:Filesystem", pairs(fsParams), basicOps(ids.filesystem, "10s", "fence", roles)));
  members.push(ids.filesystem);
  model.primitives.push(vip(ids.vipMaster, spec.pacemaker!.vips!.master!));
  members.push(ids.vipMaster);
  const params = pairs({ ...pgsqlParams(pg), ...spec.postgresql.agent_params });
  model.primitives.push(primitive(ids.postgresql, "ocf:heartbeat:pgsql", params, postgresOps(spec, ids.postgresql, false, roles)));
  members.push(ids.postgresql);
  model.groups.push({ id: ids.group, members, meta: fenceRace(spec, inp.nodes.length).priority ? [{ key: "priority", value: "1" }] : [], metaId: `${ids.group}-meta_attributes` });
}

export function sharedMountpoint(spec: Spec, pg: PostgresFacts): string {
  return spec.shared_disk?.mountpoint ?? pg.dataDirectory.replace(/\/[^/]+\/?$/, "") ?? "/";
}

