// corosync.conf as sections of key/value lines; the template only prints them.
import type { Spec } from "../spec-types.js";
import type { ClusterNode, KeyValue } from "./types.js";

export interface CorosyncView {
  totem: KeyValue[];
  interfaces: KeyValue[][];
  nodes: KeyValue[][];
  quorum: KeyValue[];
  logging: KeyValue[];
}

const kv = (key: string, value: string | number | boolean): KeyValue => ({
  key,
  value: typeof value === "boolean" ? (value ? "yes" : "no") : String(value),
});

export function twoNode(spec: Spec, nodeCount: number): boolean {
  const q = spec.corosync.quorum?.two_node ?? "auto";
  return q === "auto" ? nodeCount === 2 : q;
}

/**
 * Totem crypto as corosync.conf gets it: aes256 + sha256 unless the spec says otherwise (pcs's default
 * too). corosync 3 has crypto only on knet, so udp/udpu run without.
 */
export function corosyncCrypto(spec: Spec): { cipher: string; hash: string } {
  if ((spec.corosync.transport ?? "knet") !== "knet") return { cipher: "none", hash: "none" };
  return { cipher: spec.corosync.crypto?.cipher ?? "aes256", hash: spec.corosync.crypto?.hash ?? "sha256" };
}

/** Whether corosync reads /etc/corosync/authkey: any cipher or hash (corosync.conf(5)). */
export const needsAuthkey = (crypto: { cipher: string; hash: string }): boolean => crypto.cipher !== "none" || crypto.hash !== "none";

export function corosyncView(spec: Spec, nodes: ClusterNode[]): CorosyncView {
  const c = spec.corosync;
  const transport = c.transport ?? "knet";
  const totem: KeyValue[] = [kv("version", 2), kv("cluster_name", spec.cluster.name), kv("transport", transport)];
  if (transport === "knet") {
    const crypto = corosyncCrypto(spec);
    totem.push(kv("crypto_cipher", crypto.cipher), kv("crypto_hash", crypto.hash));
  }
  for (const [k, v] of Object.entries(c.totem ?? {}).sort(([a], [b]) => a.localeCompare(b))) totem.push(kv(k, v));

  const interfaces = c.links.map((l, i) => {
    const s = [kv("linknumber", i)];
    if (l.priority !== undefined) s.push(kv("knet_link_priority", l.priority));
    if (l.mcastaddr !== undefined) s.push(kv("mcastaddr", l.mcastaddr));
    if (l.port !== undefined) s.push(kv("mcastport", l.port));
    return s;
  });

  const nodeSections = nodes.map((n) => [kv("name", n.name), kv("nodeid", n.id), ...n.links.map((a, i) => kv(`ring${i}_addr`, a))]);

  const q = c.quorum ?? {};
  const quorum = [kv("provider", "corosync_votequorum")];
  if (twoNode(spec, nodes.length)) quorum.push(kv("two_node", 1));
  if (q.wait_for_all !== undefined) quorum.push(kv("wait_for_all", q.wait_for_all ? 1 : 0));
  if (q.last_man_standing !== undefined) quorum.push(kv("last_man_standing", q.last_man_standing ? 1 : 0));
  if (q.expected_votes !== undefined) quorum.push(kv("expected_votes", q.expected_votes));

  const lg = c.logging ?? {};
  const logfile = lg.logfile === undefined ? "/var/log/corosync/corosync.log" : lg.logfile;
  const logging = [kv("fileline", "off"), kv("to_stderr", "no"), kv("to_syslog", lg.to_syslog ?? true)];
  logging.push(kv("to_logfile", logfile !== null));
  if (logfile !== null) logging.push(kv("logfile", logfile));
  logging.push(kv("timestamp", "on"), kv("debug", lg.debug ? "on" : "off"));

  return { totem, interfaces, nodes: nodeSections, quorum, logging };
}
