// TypeScript view of schema/pgha-spec.schema.json (the schema is the source of truth).
export type Scalar = string | number | boolean;
export type NvPairs = Record<string, Scalar>;
export type SecretSource = string | { env: string } | { file: string };

export interface SpecMember {
  id: number;
  links: string[];
  parameters?: NvPairs;
}

export interface SpecLink {
  interface: string;
  subnet: string;
  port?: number;
  priority?: number;
  mcastaddr?: string;
}

export interface SpecVip {
  ip: string;
  cidr_netmask?: number;
  nic?: string;
}

export interface SpecFenceDevice {
  agent: string;
  params?: NvPairs;
  secret_params?: Record<string, SecretSource>;
  monitor_interval?: string;
  id?: string;
  location_id?: string;
  group?: string;
}

export interface SpecOp {
  interval?: string;
  timeout?: string;
  on_fail?: string;
}

export type OpName = "start" | "stop" | "monitor" | "monitor_promoted" | "promote" | "demote" | "notify";

export interface HbaRule {
  type: string;
  database: string;
  user: string;
  address?: string;
  method: string;
  options?: string;
  comment?: string;
}

export type SpecIdKey =
  | "postgresql" | "clone" | "group" | "vip_master" | "vip_replication" | "vip_readonly" | "ping" | "filesystem" | "sfex"
  | "ping_clone" | "disk_monitor" | "disk_monitor_clone" | "location_ping" | "location_disk" | "location_vip_readonly" | "colocation_vip_readonly"
  | "colocation_ping" | "colocation_disk" | "order_ping" | "order_disk" | "colocation_vips" | "order_promote" | "order_demote";

export interface Spec {
  cluster: {
    name: string;
    topology: "shared-disk" | "streaming-replication";
    nodes: { group: string; members: Record<string, SpecMember> };
  };
  corosync: {
    transport?: "knet" | "udpu" | "udp";
    crypto?: { cipher?: string; hash?: string };
    links: SpecLink[];
    totem?: Partial<Record<"token" | "token_retransmits_before_loss_const" | "consensus" | "join" | "max_messages" | "send_join", number>>;
    quorum?: { two_node?: "auto" | boolean; wait_for_all?: boolean; last_man_standing?: boolean; expected_votes?: number };
    logging?: { to_syslog?: boolean; logfile?: string | null; debug?: boolean };
  };
  pacemaker?: {
    syntax?: "promotable" | "ms";
    ids?: Partial<Record<SpecIdKey, string>>;
    properties?: NvPairs;
    rsc_defaults?: NvPairs;
    op_defaults?: NvPairs;
    stonith?: { enabled: boolean; devices?: Record<string, SpecFenceDevice> };
    start_on_boot?: boolean;
    vips?: { master?: SpecVip; replication?: SpecVip; readonly?: SpecVip };
    ping?: { hosts: string[]; attribute?: string; multiplier?: number; min_score?: number; interval?: string; attempts?: number; timeout?: number };
    disk_monitor?: { agent: string; params?: NvPairs; attribute: string; fail_value: string; interval?: string };
    extra_crm?: string;
  };
  postgresql: {
    version: number;
    agent: "pgsql" | "pgsqlms";
    primary: string;
    bindir?: string;
    data_directory?: string;
    config_directory?: string;
    port?: number;
    os_user?: string;
    os_group?: string;
    home?: string;
    socket_directory?: string;
    parameters?: NvPairs;
    hba?: HbaRule[];
    replication?: { mode?: "sync" | "async"; user: string; password: SecretSource; hba_method?: string; slots?: boolean };
    archive?: { archive_command?: string; restore_command?: string; archive_cleanup_command?: string; directory?: string; keep_segments?: number };
    agent_params?: NvPairs;
    ops?: Partial<Record<OpName, SpecOp>>;
  };
  shared_disk?: {
    device: string;
    mountpoint?: string;
    fstype?: string;
    options?: string;
    sfex?: { device: string; index?: number; collision_timeout?: number; monitor_interval?: number; lock_timeout?: number };
  };
}
