// pgha import of a cluster built by hand (issue 15), not by pgha: corosync.conf, the authkey and PostgreSQL
// (initdb, the manuals' edits to postgresql.conf, a pg_hba.conf of the operator's own, pg_basebackup) set up
// with shell commands, and the Pacemaker configuration written the Linux-HA Japan way (msPostgresql,
// prmApPostgreSQLDB, grpPostgreSQLDB, clnPingCheck, STONITH groups grpStonithN, rsc_* constraint ids,
// default_ping_set) loaded with `crm configure load update`. pgha import maps all of it; the CIB needs no
// change; the hand-written files are rewritten once into pgha's layout with the same settings, which the
// import announces: a reload only (CIB epoch and postmaster start times unchanged). After that, diff exits 0
// and apply is a no-op; then one change in the imported spec (a pg_hba rule, migration-threshold) is applied
// online, and only that changes.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { pgpassField } from "../../src/model/postgresql.js";
import type { Spec } from "../../src/spec-types.js";
import { connect, hostAddr, labSh, sh } from "./lab-helpers.js";
import { clusterOn, onHost, PASSWORD, pgha, psqlOn, until, where } from "./pgha-helpers.js";

const INVENTORY = "inventories/sr-pgsql-2node/hosts.yml";
const NODES = ["pg1", "pg2"] as const;
const PGDATA = "/var/lib/pgsql/15/data";
const BIN = "/usr/lib/postgresql/15/bin";
const pgCmd = (cmd: string) => `cd / && runuser -u postgres -- ${cmd}`;

// /etc/corosync/corosync.conf as an operator writes it (Debian's sample, edited): its own order and comments.
const COROSYNC_CONF = `# Please read the corosync.conf.5 manual page
totem {
\tversion: 2
\tcluster_name: pgcluster
\t# crypto: a shared authkey (corosync-keygen), copied to every node
\tcrypto_cipher: aes256
\tcrypto_hash: sha256
\ttransport: knet
\ttoken: 3000
\ttoken_retransmits_before_loss_const: 10
\tinterface {
\t\tlinknumber: 0
\t\tknet_link_priority: 1
\t}
\tinterface {
\t\tlinknumber: 1
\t\tknet_link_priority: 2
\t}
}

logging {
\tfileline: off
\tto_stderr: no
\tto_logfile: yes
\tlogfile: /var/log/corosync/corosync.log
\tto_syslog: yes
\tdebug: off
\ttimestamp: on
}

quorum {
\tprovider: corosync_votequorum
\ttwo_node: 1
}

nodelist {
${NODES.map((n, i) => `\tnode {\n\t\tname: ${n}\n\t\tnodeid: ${i + 1}\n\t\tring0_addr: ${hostAddr(n, 1)}\n\t\tring1_addr: ${hostAddr(n, 2)}\n\t}`).join("\n")}
}
`;

// Appended to initdb's postgresql.conf, as the Linux-HA Japan manuals have the operator edit it.
const POSTGRESQL_CONF = `
#------------------------------------------------------------------------------
# Streaming replication under Pacemaker (pgsql RA, rep_mode=sync)
#------------------------------------------------------------------------------
listen_addresses = '*'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = 512MB
wal_log_hints = on
hot_standby = on
hot_standby_feedback = on
wal_sender_timeout = 5s
wal_receiver_timeout = 10s
archive_mode = on
archive_command = 'test ! -f /var/lib/pgsql/15/archive/%f && cp %p /var/lib/pgsql/15/archive/%f'
restart_after_crash = off
logging_collector = on
log_line_prefix = '%t [%p] '
`;

const PG_HBA = `# TYPE  DATABASE        USER            ADDRESS                 METHOD
local   all             postgres                                peer
# replication between the two nodes (interconnect)
host    replication     repl            10.117.2.0/24           scram-sha-256
host    postgres        repl            10.117.2.0/24           scram-sha-256
# applications on the service LAN
host    all             all             10.117.1.0/24           scram-sha-256
`;

// The Pacemaker configuration, in the Linux-HA Japan sheets' style and names. Three things pgha's render does
// not reproduce are left out, since each is a CIB change (the epoch moves once, nothing runs differently):
// comment lines (crmsh keeps them as XML comments of the next element), the STONITH groups after the
// service group, and a rule without $id (crmsh then writes its score before its id).
const CRM = `
property \\
    no-quorum-policy="ignore" \\
    startup-fencing="false" \\
    stonith-timeout="120s" \\
    priority-fencing-delay="10s" \\
    stonith-enabled="true"

rsc_defaults \\
    resource-stickiness="INFINITY" \\
    migration-threshold="1"

group grpStonith1 \\
    prmStonith1-1

group grpStonith2 \\
    prmStonith2-1

group grpPostgreSQLDB \\
    prmIpMaster \\
    prmIpRep \\
    meta priority="1"

ms msPostgresql prmApPostgreSQLDB \\
    meta master-max="1" master-node-max="1" clone-max="2" clone-node-max="1" notify="true"

clone clnPingCheck prmPingCheck

primitive prmIpMaster ocf:heartbeat:IPaddr2 \\
    params ip="10.117.1.100" nic="eth1" cidr_netmask="24" \\
    op start interval="0s" timeout="60s" on-fail="restart" \\
    op monitor interval="10s" timeout="60s" on-fail="restart" \\
    op stop interval="0s" timeout="60s" on-fail="fence"

primitive prmIpRep ocf:heartbeat:IPaddr2 \\
    params ip="10.117.2.100" nic="eth2" cidr_netmask="24" \\
    op start interval="0s" timeout="60s" on-fail="restart" \\
    op monitor interval="10s" timeout="60s" on-fail="restart" \\
    op stop interval="0s" timeout="60s" on-fail="fence"

primitive prmApPostgreSQLDB ocf:heartbeat:pgsql \\
    params pgctl="${BIN}/pg_ctl" psql="${BIN}/psql" pgdata="${PGDATA}" config="${PGDATA}/postgresql.conf" \\
        pgdba="postgres" pgport="5432" socketdir="/var/run/postgresql" logfile="/var/lib/pgsql/15/pgstartup.log" \\
        rep_mode="sync" node_list="pg1 pg2" master_ip="10.117.2.100" repuser="repl" \\
        primary_conninfo_opt="keepalives_idle=60 keepalives_interval=5 keepalives_count=5" \\
        restart_on_promote="false" check_wal_receiver="true" tmpdir="/var/lib/pgsql/tmp" \\
        restore_command="cp /var/lib/pgsql/15/archive/%f %p" replication_slot_name="pgha" \\
    op start interval="0s" timeout="300s" on-fail="restart" \\
    op monitor interval="10s" timeout="60s" on-fail="restart" role="Slave" \\
    op monitor interval="9s" timeout="60s" on-fail="restart" role="Master" \\
    op promote interval="0s" timeout="300s" on-fail="restart" \\
    op demote interval="0s" timeout="300s" on-fail="fence" \\
    op stop interval="0s" timeout="300s" on-fail="fence" \\
    op notify interval="0s" timeout="90s"

primitive prmPingCheck ocf:pacemaker:ping \\
    params name="default_ping_set" host_list="10.117.1.1 10.117.1.2" multiplier="100" attempts="2" timeout="2" \\
    op start interval="0s" timeout="60s" on-fail="restart" \\
    op monitor interval="10s" timeout="60s" on-fail="restart" \\
    op stop interval="0s" timeout="60s" on-fail="ignore"

primitive prmStonith1-1 stonith:fence_pgha_lab \\
    params plug="pg1" pcmk_host_list="pg1" \\
    op start interval="0s" timeout="60s" on-fail="restart" \\
    op monitor interval="3600s" timeout="60s" on-fail="restart" \\
    op stop interval="0s" timeout="60s" on-fail="ignore"

primitive prmStonith2-1 stonith:fence_pgha_lab \\
    params plug="pg2" pcmk_host_list="pg2" \\
    op start interval="0s" timeout="60s" on-fail="restart" \\
    op monitor interval="3600s" timeout="60s" on-fail="restart" \\
    op stop interval="0s" timeout="60s" on-fail="ignore"

location rsc_location-grpStonith1-1 grpStonith1 \\
    rule $id="rsc_location-grpStonith1-1-rule" -INFINITY: #uname eq pg1
location rsc_location-grpStonith2-1 grpStonith2 \\
    rule $id="rsc_location-grpStonith2-1-rule" -INFINITY: #uname eq pg2
location rsc_location-msPostgresql-1 msPostgresql \\
    rule $id="rsc_location-msPostgresql-1-rule" -INFINITY: not_defined default_ping_set or default_ping_set lt 100

colocation rsc_colocation-msPostgresql-clnPingCheck-1 INFINITY: msPostgresql clnPingCheck
colocation rsc_colocation-grpPostgreSQLDB-msPostgresql-2 INFINITY: grpPostgreSQLDB msPostgresql:Master

order rsc_order-clnPingCheck-msPostgresql-1 0: clnPingCheck msPostgresql
order rsc_order-msPostgresql-grpPostgreSQLDB-2 0: msPostgresql:promote grpPostgreSQLDB:start symmetrical=false
order rsc_order-msPostgresql-grpPostgreSQLDB-3 0: msPostgresql:demote grpPostgreSQLDB:stop symmetrical=false
`;

/** Writes CONTENT to PATH on HOST through stdin (never on a command line: the authkey and .pgpass are secrets). */
async function put(host: string, path: string, content: string | Buffer, mode: string, owner = "root"): Promise<void> {
  const ssh = await connect(hostAddr(host));
  try {
    const b64 = Buffer.from(content).toString("base64");
    await sh(ssh, `umask 077 && base64 -d > '${path}' && chown ${owner}: '${path}' && chmod ${mode} '${path}'`, b64);
  } finally {
    ssh.dispose();
  }
}

async function buildByHand(): Promise<void> {
  labSh(["up", "--nodes", "2"]);
  // Corosync: the same file and authkey on both nodes.
  onHost("pg1", "corosync-keygen -l -k /tmp/authkey >/dev/null 2>&1 || corosync-keygen -k /tmp/authkey >/dev/null");
  const ssh = await connect(hostAddr("pg1"));
  const key = Buffer.from((await sh(ssh, "base64 -w0 /tmp/authkey && rm -f /tmp/authkey")).trim(), "base64");
  ssh.dispose();
  for (const h of NODES) {
    await put(h, "/etc/corosync/authkey", key, "400");
    await put(h, "/etc/corosync/corosync.conf", COROSYNC_CONF, "644");
    await put(h, "/var/lib/postgresql/.pgpass", `*:5432:replication:repl:${pgpassField(PASSWORD)}\n*:5432:postgres:repl:${pgpassField(PASSWORD)}\n`, "600", "postgres");
    onHost(h, `install -d -o postgres -g postgres -m 700 /var/lib/pgsql/15 /var/lib/pgsql/tmp /var/lib/pgsql/15/archive`);
  }
  // PostgreSQL: initdb and the manuals' edits on pg1, a base backup on pg2; Pacemaker starts it from here on.
  onHost("pg1", pgCmd(`${BIN}/initdb -D ${PGDATA} -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 >/dev/null`));
  await put("pg1", `${PGDATA}/pg_hba.conf`, PG_HBA, "600", "postgres");
  onHost("pg1", `cat >> ${PGDATA}/postgresql.conf <<'EOF'\n${POSTGRESQL_CONF}EOF`);
  onHost("pg1", pgCmd(`${BIN}/pg_ctl -D ${PGDATA} -l /var/lib/pgsql/15/pgstartup.log -w start >/dev/null`));
  // The password through stdin: psql's \\password would ask a terminal.
  const ssh1 = await connect(hostAddr("pg1"));
  await sh(ssh1, pgCmd(`psql -X -q -v ON_ERROR_STOP=1`), `CREATE ROLE repl REPLICATION LOGIN PASSWORD '${PASSWORD.replace(/'/g, "''")}';\n`);
  ssh1.dispose();
  onHost("pg2", pgCmd(`${BIN}/pg_basebackup -h ${hostAddr("pg1", 2)} -U repl -D ${PGDATA} -X stream -c fast -w`));
  onHost("pg1", pgCmd(`${BIN}/pg_ctl -D ${PGDATA} -m fast -w stop >/dev/null`));
  // The cluster, then its configuration.
  for (const h of NODES) onHost(h, "systemctl start corosync && systemctl start pacemaker");
  await until("both nodes online", () => clusterOn("pg1").nodes.filter((n) => n.online).length === 2, 120_000);
  await put("pg1", "/root/pgsql.crm", CRM, "600");
  onHost("pg1", "crm configure load update /root/pgsql.crm");
  await until(
    "pg1 primary, pg2 HS:sync",
    () => {
      const s = clusterOn("pg1");
      return where(s, "prmApPostgreSQLDB", "Promoted").length === 1 && s.nodes.some((n) => n.attributes["prmApPostgreSQLDB-status"] === "HS:sync");
    },
    180_000,
  );
}

const epoch = () => /<cib [^>]*\bepoch="(\d+)"/.exec(onHost("pg1", "cibadmin -Q"))![1];
const started = () => NODES.map((h) => psqlOn(h, "SELECT pg_postmaster_start_time()"));

describe("pgha import of a cluster built by hand, the Linux-HA Japan way", () => {
  const out = join(mkdtempSync(join(tmpdir(), "pgha-e2e-import-hand-")), "imported");
  const args = () => ["-i", join(out, "hosts.yml"), "-s", join(out, "cluster.yml")];
  beforeAll(buildByHand, 300_000);

  it("import keeps the Linux-HA Japan names, needs no CIB change and announces the one rewrite of the hand-written files", async () => {
    const [e, s] = [epoch(), started()];
    const r = await pgha(["import", "-i", INVENTORY, "-o", out, "--inventory-out"]);
    expect(r.output).not.toContain(PASSWORD);
    expect(readFileSync(join(out, "cluster.yml"), "utf8")).not.toContain(PASSWORD);
    expect([epoch(), started()]).toEqual([e, s]);
    const spec = readFileSync(join(out, "cluster.yml"), "utf8");
    for (const id of ["msPostgresql", "prmApPostgreSQLDB", "grpPostgreSQLDB", "clnPingCheck", "prmPingCheck", "grpStonith1", "prmStonith2-1", "rsc_location-msPostgresql-1", "rsc_order-msPostgresql-grpPostgreSQLDB-3"]) expect(spec).toContain(id);
    expect(spec).toContain("syntax: ms");
    // Nothing in the CIB differs: only the hand-written files, each with the same settings.
    expect(r.stdout).not.toContain("--- CIB");
    expect(r.stdout).not.toContain("--- Pacemaker would");
    for (const h of NODES) expect(r.stdout).toContain(`${h}:${PGDATA}/postgresql.conf: the same settings in pgha's layout: PostgreSQL reloads, nothing restarts`);
    // pgha's own rules (never replicate from the node itself, each node's addresses) come ahead of the cluster's.
    expect(r.stdout).toContain(`pg1:${PGDATA}/pg_hba.conf: pgha's layout, and it changes 11 rule(s) added`);
    expect(r.stdout).not.toMatch(/postgresql\.conf: pgha sets|leaves .* at PostgreSQL's default/);
    expect(r.stdout).not.toContain("cib-bootstrap-options: pgha writes");
    expect(r.stdout).toContain("pg1:/etc/corosync/corosync.conf: the same settings in pgha's layout: corosync already runs these settings, nothing reloads");
  });

  it("the one apply rewrites the files without a restart; then diff exits 0 and apply is a no-op", async () => {
    const [e, s] = [epoch(), started()];
    const a = await pgha(["apply", ...args()]);
    expect(a.code, a.output).toBe(0);
    expect([epoch(), started()]).toEqual([e, s]);
    const d = await pgha(["diff", ...args()]);
    expect(d.code, d.output).toBe(0);
    const again = await pgha(["apply", ...args()]);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toMatch(/ok: nothing changed/);
    expect([epoch(), started()]).toEqual([e, s]);
  });

  it("one change in the imported spec (a pg_hba rule, migration-threshold) is applied online, and only that changes", async () => {
    const spec = parse(readFileSync(join(out, "cluster.yml"), "utf8")) as Spec;
    expect(spec.pacemaker?.rsc_defaults?.["migration-threshold"]).toBe(1);
    spec.pacemaker!.rsc_defaults!["migration-threshold"] = 2;
    spec.postgresql.hba = [...(spec.postgresql.hba ?? []), { type: "host", database: "postgres", user: "all", address: "10.117.1.50/32", method: "scram-sha-256", comment: "a report server" }];
    const changed = join(out, "changed.yml");
    writeFileSync(changed, stringify(spec));
    const changedArgs = ["-i", join(out, "hosts.yml"), "-s", changed];
    const files = (h: string) => onHost(h, `sha256sum ${PGDATA}/postgresql.conf /etc/corosync/corosync.conf`);
    const hba = (h: string) => onHost(h, `cat ${PGDATA}/pg_hba.conf`).split("\n");
    const config = () => onHost("pg1", "cibadmin -Q -o configuration").split("\n");
    const before = { files: NODES.map(files), hba: NODES.map(hba), config: config(), started: started() };

    const a = await pgha(["apply", ...changedArgs]);
    expect(a.code, a.output).toBe(0);
    expect(started()).toEqual(before.started);
    expect(NODES.map(files)).toEqual(before.files);
    // pg_hba.conf: the one rule (and its comment) added at the end, and PostgreSQL reloaded it.
    NODES.forEach((h, i) => expect(hba(h)).toEqual([...before.hba[i]!.slice(0, -1), "# a report server", "host postgres all 10.117.1.50/32 scram-sha-256", ""]));
    for (const h of NODES) expect(psqlOn(h, "SELECT count(*) FROM pg_hba_file_rules WHERE address = '10.117.1.50'")).toBe("1");
    // The CIB: only migration-threshold.
    const after = config();
    expect(after.filter((l) => !before.config.includes(l))).toEqual([expect.stringMatching(/<nvpair [^>]*name="migration-threshold" value="2"/)]);
    expect(before.config.filter((l) => !after.includes(l))).toEqual([expect.stringMatching(/<nvpair [^>]*name="migration-threshold" value="1"/)]);
    const d = await pgha(["diff", ...changedArgs]);
    expect(d.code, d.output).toBe(0);
  });
});
