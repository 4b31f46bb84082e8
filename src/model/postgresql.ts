// PostgreSQL settings per node: the agent-, version- and topology-dependent rules live here.
import { posix } from "node:path";
import type { Spec, Scalar, HbaRule } from "../spec-types.js";
import type { ClusterNode, KeyValue, PostgresFacts } from "./types.js";
import { shq } from "../shell.js";

/** Parameters pgha sets from other parts of the spec; setting them under `parameters` is an error. */
export const RESERVED_PARAMETERS: Record<string, string> = {
  data_directory: "set postgresql.data_directory",
  hba_file: "pgha manages pg_hba.conf in postgresql.config_directory",
  ident_file: "pgha manages pg_ident.conf in postgresql.config_directory",
  config_file: "set postgresql.config_directory",
  port: "set postgresql.port",
  unix_socket_directories: "set postgresql.socket_directory",
};

export function postgresFacts(spec: Spec, upstreamHost: string | undefined): PostgresFacts {
  const pg = spec.postgresql;
  const v = pg.version;
  const dataDirectory = pg.data_directory ?? `/var/lib/postgresql/${v}/pgha`;
  const configDirectory = pg.config_directory ?? `/etc/postgresql/${v}/pgha`;
  const streaming = spec.cluster.topology === "streaming-replication";
  const recovery: PostgresFacts["recovery"] = !streaming
    ? "none"
    : pg.agent === "pgsql"
      ? "agent"
      : v >= 12
        ? "standby.signal"
        : "recovery.conf";
  return {
    version: v,
    agent: pg.agent,
    bindir: pg.bindir ?? `/usr/lib/postgresql/${v}/bin`,
    dataDirectory,
    configDirectory,
    configFile: posix.join(configDirectory, "postgresql.conf"),
    port: pg.port ?? 5432,
    osUser: pg.os_user ?? "postgres",
    osGroup: pg.os_group ?? "postgres",
    home: pg.home ?? "/var/lib/postgresql",
    socketDirectory: pg.socket_directory ?? "/var/run/postgresql",
    tmpdir: pg.agent === "pgsql" ? String(pg.agent_params?.tmpdir ?? "/var/lib/postgresql/tmp") : undefined,
    archiveDirectory: pg.archive?.directory,
    recovery,
    replication:
      streaming && pg.replication && upstreamHost
        ? { mode: pg.replication.mode ?? "sync", user: pg.replication.user, upstreamHost }
        : undefined,
  };
}

/**
 * Replication slots keep the WAL a stopped standby needs, so it catches up by itself. Only the pgsql agent
 * manages them (replication_slot_name: it drops them at start and creates one per peer at promote);
 * PAF does not (ClusterLabs/PAF#140), so PAF clusters rely on wal_keep_size. On by default from
 * PostgreSQL 13, where max_slot_wal_keep_size bounds what a slot keeps.
 */
export function replicationSlots(spec: Spec): boolean {
  const pg = spec.postgresql;
  return spec.cluster.topology === "streaming-replication" && (pg.replication?.slots ?? (pg.agent === "pgsql" && pg.version >= 13));
}

/** The prefix of the pgsql agent's slots: it names them <prefix>_<node>. */
export const SLOT_PREFIX = "pgha";
/** The slot the pgsql agent creates for NODE (its `tr 'A-Z.-' 'a-z__'`). */
export const slotName = (node: string): string => `${SLOT_PREFIX}_${node.toLowerCase().replace(/[.-]/g, "_")}`;

/**
 * pgha's archive_command for archive.keep_segments: copy the segment in (through a temporary name, so a
 * crash never leaves a short file under the real one; a segment already there with the same content is
 * success), then keep the newest N segments with pg_archivecleanup, which orders segments by position
 * whatever their timeline. A failed clean-up never fails the archiving.
 */
export function retainingArchiveCommand(dir: string, keep: number, bindir: string): string {
  const oldestKept = `ls "$d" | grep -E '^[0-9A-F]{24}$' | LC_ALL=C sort -k1.9 | tail -n ${keep} | head -n 1`;
  return (
    `d=${shq(dir)}; { test ! -f "$d/%f" || cmp -s %p "$d/%f"; } && cp %p "$d/%f.tmp" && mv -f "$d/%f.tmp" "$d/%f" && ` +
    `{ ${oldestKept} | xargs -r ${shq(`${bindir}/pg_archivecleanup`)} "$d" || true; }`
  );
}

/** Quotes a value the way postgresql.conf wants it: numbers and booleans bare, strings in single quotes. */
export function pgValue(v: Scalar): string {
  if (typeof v === "boolean") return v ? "on" : "off";
  if (typeof v === "number") return String(v);
  return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/** PostgreSQL's reading of a boolean setting (on, true, yes, 1 and their prefixes are on). */
export function pgBoolIsOn(v: Scalar | undefined): boolean {
  return v === true || v === 1 || (typeof v === "string" && /^(on|true|yes|1)$/i.test(v.trim()));
}

export function primaryConninfo(facts: PostgresFacts, node: string): string {
  const r = facts.replication!;
  return `host=${r.upstreamHost} port=${facts.port} user=${r.user} application_name=${node}`;
}

/** The recovery settings of a standby that pgha (not the agent) is responsible for. */
export function recoverySettings(spec: Spec, facts: PostgresFacts, node: string): Record<string, Scalar> {
  const a = spec.postgresql.archive;
  const out: Record<string, Scalar> = {
    primary_conninfo: primaryConninfo(facts, node),
    recovery_target_timeline: "latest",
  };
  if (a?.restore_command) out.restore_command = a.restore_command;
  if (a?.archive_cleanup_command) out.archive_cleanup_command = a.archive_cleanup_command;
  return out;
}

/** Every server parameter for one node, in a stable order: locations first, then alphabetical. */
export function serverParameters(spec: Spec, facts: PostgresFacts, node: ClusterNode): KeyValue[] {
  const pg = spec.postgresql;
  const keep = pg.archive?.keep_segments;
  const archiveCommand = pg.archive?.archive_command ?? (keep && facts.archiveDirectory ? retainingArchiveCommand(facts.archiveDirectory, keep, facts.bindir) : undefined);
  const streaming = spec.cluster.topology === "streaming-replication";
  const defaults: Record<string, Scalar> = {
    listen_addresses: "*",
    max_connections: 100,
    wal_level: "replica",
    max_wal_senders: 10,
    max_replication_slots: 10,
    wal_log_hints: true,
    hot_standby: true,
    hot_standby_feedback: true,
    archive_mode: archiveCommand !== undefined,
    logging_collector: true,
    log_directory: "log",
    log_filename: "postgresql-%a.log",
    log_truncate_on_rotation: true,
    log_rotation_age: "1d",
    log_line_prefix: "%m [%p] %q%u@%d ",
    ...(facts.version >= 13 ? { wal_keep_size: "512MB" } : { wal_keep_segments: 32 }),
    ...(archiveCommand ? { archive_command: archiveCommand } : {}),
    // A standby that dies is noticed when its walsender times out; only then does the pgsql agent
    // switch a sync standby to async and let commits go on (60 s by default). 5 s plus the agent's
    // 9 s monitor keeps a blocked commit under about 15 s; the walsender asks for a reply after
    // half of it, so a live standby never trips it. The standby notices a vanished primary as fast.
    ...(streaming ? { wal_sender_timeout: "5s", wal_receiver_timeout: "10s" } : {}),
    // A slot of a standby that never comes back must not fill the primary's disk.
    ...(replicationSlots(spec) && facts.version >= 13 ? { max_slot_wal_keep_size: "2GB" } : {}),
  };
  const recovery = facts.recovery === "standby.signal" ? recoverySettings(spec, facts, node.name) : {};
  const merged: Record<string, Scalar> = {
    ...defaults,
    ...recovery,
    ...pg.parameters,
    ...spec.cluster.nodes.members[node.name]?.parameters,
    // The cluster manager restarts PostgreSQL, never PostgreSQL itself.
    restart_after_crash: false,
  };
  const locations: KeyValue[] = [
    { key: "data_directory", value: pgValue(facts.dataDirectory) },
    { key: "hba_file", value: pgValue(posix.join(facts.configDirectory, "pg_hba.conf")) },
    { key: "ident_file", value: pgValue(posix.join(facts.configDirectory, "pg_ident.conf")) },
    { key: "port", value: String(facts.port) },
    { key: "unix_socket_directories", value: pgValue(facts.socketDirectory) },
  ];
  const rest = Object.keys(merged)
    .filter((k) => !(k in RESERVED_PARAMETERS))
    .sort()
    .map((k) => ({ key: k, value: pgValue(merged[k]!) }));
  return [...locations, ...rest];
}

export interface HbaLine {
  type: string;
  database: string;
  user: string;
  address: string;
  method: string;
  options: string;
  comment?: string;
}

/** pgha's own rules (local admin access, replication between nodes) come before the user's. */
export function hbaLines(spec: Spec, facts: PostgresFacts, nodes: ClusterNode[], node: ClusterNode): HbaLine[] {
  const line = (r: HbaRule): HbaLine => ({
    type: r.type,
    database: r.database,
    user: r.user,
    address: r.address ?? "",
    method: r.method,
    options: r.options ?? "",
    comment: r.comment,
  });
  const own: HbaRule[] = [
    { type: "local", database: "all", user: facts.osUser, method: "peer", comment: "pgha: the OS user administers the server" },
  ];
  const rep = spec.postgresql.replication;
  if (facts.replication && rep) {
    const method = rep.hba_method ?? "scram-sha-256";
    const addresses = [...new Set(nodes.flatMap((n) => n.links))];
    // A node must never replicate from itself (PAF's configuration guide): a connection from its own
    // address, or from the VIP the standbys replicate from when it holds it, is refused before the
    // rules that admit the cluster's nodes.
    [...node.links, facts.replication.upstreamHost].forEach((a, i) =>
      own.push({ type: "host", database: "replication", user: rep.user, address: `${a}/32`, method: "reject", comment: i === 0 ? "pgha: never replicate from this node itself" : undefined }),
    );
    // pg_rewind connects to a normal database as the replication user, too.
    for (const database of ["replication", "postgres"]) {
      addresses.forEach((a, i) =>
        own.push({ type: "host", database, user: rep.user, address: `${a}/32`, method, comment: i === 0 ? `pgha: ${database} connections between cluster nodes` : undefined }),
      );
    }
  }
  return [...own, ...(spec.postgresql.hba ?? [])].map(line);
}

/** .pgpass fields escape ':' and '\'. */
export function pgpassField(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
}
