// The validated model of one cluster: everything render, plan and the tasks need, computed once.
import type { Diagnostic } from "../diagnostics.js";
import type { InventoryHost } from "../inventory.js";

export interface KeyValue {
  key: string;
  value: string;
  /** The value is a secret (a fence device's secret_params): outputs mask it by this position, old and new. */
  secret?: true;
}

export interface ClusterNode {
  name: string;
  id: number;
  /** Address on each corosync link, in link order. */
  links: string[];
  connection: InventoryHost["connection"];
  /** The sudo password, read from where the inventory's become password says: transport sends it on sudo's stdin only. */
  becomePassword?: string;
  isPrimary: boolean;
}

/** A file pgha owns on a node. `view` is everything its template needs; templates hold no logic. */
export interface ManagedFile {
  path: string;
  template: string;
  view: object;
  owner: string;
  group: string;
  mode: string;
  /** Content holds a secret: never shown in a diff or log. */
  secret: boolean;
  /**
   * Lines a resource agent appends to this file at run time (pgsql's `include ... # added by pgsql RA`).
   * pgha keeps them when it rewrites the file and ignores them when it compares.
   */
  agentLines?: RegExp;
}

export interface ManagedDirectory {
  path: string;
  owner: string;
  group: string;
  mode: string;
}

export interface PostgresFacts {
  version: number;
  agent: "pgsql" | "pgsqlms";
  bindir: string;
  dataDirectory: string;
  configDirectory: string;
  configFile: string;
  port: number;
  osUser: string;
  osGroup: string;
  home: string;
  socketDirectory: string;
  /** The pgsql agent's tmpdir (PGSQL.lock, rep_mode.conf, its own recovery.conf). */
  tmpdir?: string;
  archiveDirectory?: string;
  /** Where standby recovery settings come from: the agent writes them, or pgha renders them. */
  recovery: "agent" | "recovery.conf" | "standby.signal" | "none";
  replication?: { mode: "sync" | "async"; user: string; upstreamHost: string };
}

export interface CrmOp {
  id: string;
  name: string;
  interval: string;
  timeout: string;
  role?: string;
  onFail?: string;
}

export interface CrmPrimitive {
  id: string;
  agent: string;
  params: KeyValue[];
  meta: KeyValue[];
  ops: CrmOp[];
  paramsId: string;
  metaId: string;
}

export interface CrmRule {
  id: string;
  score: string;
  expression: string;
}

export interface CrmModel {
  properties: { id: string; pairs: KeyValue[] };
  rscDefaults: { id: string; pairs: KeyValue[] };
  opDefaults?: { id: string; pairs: KeyValue[] };
  primitives: CrmPrimitive[];
  groups: { id: string; members: string[]; meta: KeyValue[]; metaId: string }[];
  clones: { id: string; keyword: "clone" | "ms"; child: string; meta: KeyValue[]; metaId: string }[];
  locations: { id: string; resource: string; score?: string; node?: string; rules: CrmRule[] }[];
  colocations: { id: string; score: string; resources: string[] }[];
  /** asymmetric: the order holds one way only (symmetrical=false). */
  orders: { id: string; kind: string; first: string; then: string; asymmetric: boolean }[];
  extra?: string;
}

/** Ids of the resources pgha creates (defaults follow the Linux-HA Japan naming). */
export interface ResourceIds {
  postgresql: string;
  clone: string;
  group: string;
  vipMaster: string;
  vipReplication: string;
  vipReadonly: string;
  ping: string;
  pingClone: string;
  filesystem: string;
  sfex: string;
  diskMonitor: string;
  diskClone: string;
  /** Constraint ids; a location's rules are named after it (<id>-rule...). */
  locationPing: string;
  locationDisk: string;
  locationVipReadonly: string;
  colocationVipReadonly: string;
  colocationPing: string;
  colocationDisk: string;
  orderPing: string;
  orderDisk: string;
  colocationVips: string;
  orderPromote: string;
  orderDemote: string;
}

export interface ClusterModel {
  name: string;
  topology: "shared-disk" | "streaming-replication";
  nodes: ClusterNode[];
  primary: string;
  postgresql: PostgresFacts;
  /** The NIC of each corosync link, in link order. */
  linkInterfaces: string[];
  /** corosync and Pacemaker start at boot (pacemaker.start_on_boot; default off). */
  startOnBoot: boolean;
  /** corosync.conf turns crypto on, so every node needs the same /etc/corosync/authkey. */
  corosyncAuthkey: boolean;
  sharedDisk?: { device: string; mountpoint: string };
  resourceIds: ResourceIds;
  crm: CrmModel;
  /** Node name -> files pgha renders for that node. */
  files: Record<string, ManagedFile[]>;
  /** Directories every node needs before PostgreSQL can start (same on every node). */
  directories: ManagedDirectory[];
  /** For creating the replication role at bootstrap; never printed. */
  replicationPassword?: string;
  /** Every secret value, so outputs can mask them. */
  secrets: string[];
  warnings: Diagnostic[];
}
