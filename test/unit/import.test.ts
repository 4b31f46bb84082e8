// pgha import (issue 15): a cluster's live CIB (loaded by real crmsh into a scratch CIB) and its rendered
// files, imported, give a spec whose render is the original's, for every example; elements pgha does not
// model are kept in extra_crm in crmsh's own words and load back to the same XML.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { parseInventory } from "../../src/inventory.js";
import { buildModel } from "../../src/model/build.js";
import { secretResolver } from "../../src/secrets.js";
import { parseSpec } from "../../src/spec.js";
import { importCluster, parseXml, parseHba, type ImportFacts } from "../../src/import.js";
import { parsePostgresqlConf } from "../../src/postgresql-conf.js";
import type { ClusterModel } from "../../src/model/types.js";
import { loadTemplates, renderCluster, type RenderedCluster } from "../../src/render.js";
import { build, EXAMPLES, exampleText, renderExample } from "./helpers.js";
import { missingTools, run, scratchCib } from "./scratch-cib.js";
import { LHAJ_IDS } from "./lhaj-ids.js";

const noCrm = missingTools(["crm", "cibadmin"]).length > 0;

/** What the facts command would read on each node of a cluster rendered from `model`, with `crm` loaded. */
function factsOf(model: ClusterModel, rendered: RenderedCluster, crm = rendered.crm): ImportFacts {
  const { file } = scratchCib(crm, Object.fromEntries(model.nodes.map((n) => [n.name, n.name === model.primary ? { "pgsql-status": "PRI" } : {}])));
  const crmShow = run("crm", ["-D", "plain", "configure", "show"], { ...process.env, CIB_file: file, HOME: mkdtempSync(join(tmpdir(), "pgha-import-")) });
  const links = model.linkInterfaces;
  const content = (node: string, path: string) => rendered.files.find((x) => x.node === node && x.path === path)?.content;
  return {
    cib: readFileSync(file, "utf8"),
    crmShow,
    group: "pgsql",
    hosts: model.nodes.map((n) => ({
      name: n.name,
      corosyncConf: content(n.name, "/etc/corosync/corosync.conf")!,
      postgresqlConf: [{ path: model.postgresql.configFile, text: content(n.name, model.postgresql.configFile)! }],
      pgHba: content(n.name, `${model.postgresql.configDirectory}/pg_hba.conf`),
      pgVersion: model.postgresql.version,
      osGroup: "postgres",
      home: "/var/lib/postgresql",
      pgpass: true,
      addresses: n.links.map((a, i) => ({ nic: links[i]!, cidr: `${a}/24` })),
      startOnBoot: false,
    })),
  };
}

const renderSpec = (spec: object, example: string) => renderCluster(build(stringify(spec), exampleText(example, "hosts.yml")), loadTemplates());

describe.skipIf(noCrm)("pgha import: a cluster pgha built round-trips", () => {
  for (const example of EXAMPLES) {
    it(`${example}: the imported spec renders the same cluster.crm, cluster.pcs and every node's files`, () => {
      const { model, rendered } = renderExample(example);
      const { spec, report } = importCluster(factsOf(model, rendered));
      const again = renderSpec(spec, example);
      expect(again.crm).toBe(rendered.crm);
      expect(again.pcs).toEqual(rendered.pcs);
      expect(again.files.map((f) => [f.node, f.path, f.content])).toEqual(rendered.files.map((f) => [f.node, f.path, f.content]));
      expect(report.kept).toEqual([]);
      expect(report.notes).toEqual([]);
      expect(report.secrets.join("\n")).toEqual(example === "shared-disk-2node" ? "" : expect.stringContaining("set PGHA_REPL_PASSWORD"));
      expect(spec.pacemaker?.extra_crm).toBeUndefined();
    });
  }
});

describe.skipIf(noCrm)("pgha import keeps the cluster's own names", () => {
  it("ms syntax, Linux-HA Japan resource and constraint ids, fence device ids: back in the spec, the render the same", () => {
    const spec = parse(exampleText("sr-pgsql-2node"));
    const ids = { clone: "msPostgresql", ping: "prmPing", ping_clone: "clnPingCheck", location_ping: "rsc_location-msPostgresql-1", order_promote: "rsc_order-msPostgresql-master-group-2" };
    Object.assign(spec.pacemaker, { syntax: "ms", ids });
    Object.assign(spec.pacemaker.stonith.devices.pg1, { id: "prmStonith1-1", location_id: "rsc_location-grpStonith1-1" });
    const model = build(stringify(spec), exampleText("sr-pgsql-2node", "hosts.yml"));
    const rendered = renderCluster(model, loadTemplates());
    const imported = importCluster(factsOf(model, rendered)).spec;
    expect(imported.pacemaker?.syntax).toBe("ms");
    // msPostgresql is what ms syntax calls the clone anyway: not written down.
    expect(imported.pacemaker?.ids).toEqual({ ...ids, clone: undefined });
    expect(imported.pacemaker?.stonith?.devices?.pg1).toMatchObject({ id: "prmStonith1-1", location_id: "rsc_location-grpStonith1-1" });
    expect(renderSpec(imported, "sr-pgsql-2node").crm).toBe(rendered.crm);
  });
});

describe.skipIf(noCrm)("pgha import keeps what pgha does not model", () => {
  const extra = [
    "location keep-until-2030 vip-slave rule -inf: date lt 2030-01-01",
    "# kept by import, comment and all",
    "alert alert-file /usr/share/pacemaker/alerts/alert_file.sh.sample to /var/log/pcmk-alerts.log",
  ].join("\n");

  it("a location rule with a date expression and an alert go to extra_crm, listed, and load back to the same XML", () => {
    const { model, rendered } = renderExample("sr-pgsql-2node");
    const facts = factsOf(model, rendered, `${rendered.crm}\n${extra}\n`);
    const { spec, report } = importCluster(facts);
    expect(report.kept).toEqual(["keep-until-2030 (location)", "alert-file (alert)"]);
    expect(spec.pacemaker?.extra_crm).toMatch(/^location keep-until-2030 vip-slave/m);
    expect(spec.pacemaker?.extra_crm).toMatch(/^# kept by import, comment and all\nalert alert-file /m);
    const again = renderSpec(spec, "sr-pgsql-2node");
    const { file } = scratchCib(again.crm, { pg1: {}, pg2: {} });
    const element = (xml: string, re: RegExp) => re.exec(xml)?.[0];
    const after = readFileSync(file, "utf8");
    for (const re of [/<rsc_location id="keep-until-2030"[\s\S]*?<\/rsc_location>/, /<alerts>[\s\S]*?<\/alerts>/]) {
      expect(element(after, re)).toBeDefined();
      expect(element(after, re)).toBe(element(facts.cib, re));
    }
    // Everything else renders as before.
    expect(again.crm.startsWith(rendered.crm)).toBe(true);
  });
});

describe("pgha import: the file formats", () => {
  it("postgresql.conf: quoted, bare, includes (the last setting wins), the pgsql agent's own include skipped", () => {
    const conf = parsePostgresqlConf([
      { path: "/etc/pg/postgresql.conf", text: "shared_buffers = 128MB\nport=5433 # comment\nlog_line_prefix = '%m ''x'' '\ninclude 'conf.d/a.conf'\ninclude '/var/lib/pgsql/tmp/rep_mode.conf' # added by pgsql RA\nhot_standby = off\n" },
      { path: "/etc/pg/conf.d/a.conf", text: "port = 5434\n" },
      { path: "/var/lib/pgsql/tmp/rep_mode.conf", text: "synchronous_standby_names = 'pg2'\n" },
    ]);
    expect(Object.fromEntries(conf)).toEqual({ shared_buffers: "128MB", port: 5434, log_line_prefix: "%m 'x' ", hot_standby: false });
  });

  it("pg_hba.conf: each rule with the comment directly above it", () => {
    expect(parseHba("# header\n\nlocal all postgres peer\n# apps\nhost all all 10.0.0.0/24 scram-sha-256\nhostssl db u 10.0.1.0/24 cert clientcert=verify-full\n")).toEqual([
      { rule: { type: "local", database: "all", user: "postgres", method: "peer" }, comment: undefined },
      { rule: { type: "host", database: "all", user: "all", address: "10.0.0.0/24", method: "scram-sha-256" }, comment: "apps" },
      { rule: { type: "hostssl", database: "db", user: "u", address: "10.0.1.0/24", method: "cert", options: "clientcert=verify-full" }, comment: undefined },
    ]);
  });
});

describe.skipIf(noCrm)("pgha import of a cluster built by hand in the Linux-HA Japan style", () => {
  const crm = String.raw`property cib-bootstrap-options: \
    no-quorum-policy=ignore \
    stonith-enabled=true \
    stonith-timeout=120s
rsc_defaults rsc-options: \
    resource-stickiness=INFINITY \
    migration-threshold=1
primitive prmStonith1-1 stonith:fence_ipmilan \
    params pcmk_host_list=pg1 ip=192.168.100.11 username=admin password=Secret1-ipmi lanplus=1 \
    op start interval=0s timeout=60s on-fail=restart \
    op monitor interval=3600s timeout=60s on-fail=restart \
    op stop interval=0s timeout=60s on-fail=ignore
primitive prmStonith2-1 stonith:fence_ipmilan \
    params pcmk_host_list=pg2 ip=192.168.100.12 username=admin password=Secret2-ipmi lanplus=1 \
    op start interval=0s timeout=60s on-fail=restart \
    op monitor interval=3600s timeout=60s on-fail=restart \
    op stop interval=0s timeout=60s on-fail=ignore
group grpStonith1 prmStonith1-1
group grpStonith2 prmStonith2-1
primitive pgsql ocf:heartbeat:pgsql \
    params pgctl="/usr/lib/postgresql/15/bin/pg_ctl" psql="/usr/lib/postgresql/15/bin/psql" pgdata="/var/lib/pgsql/data" config="/var/lib/pgsql/data/postgresql.conf" start_opt="-p 5432" rep_mode=sync node_list="pg1 pg2" restore_command="cp /var/lib/pgsql/arc/%f %p" repuser=repl primary_conninfo_opt="keepalives_idle=60 keepalives_interval=5 keepalives_count=5" master_ip=192.168.2.3 restart_on_promote=true \
    op start interval=0s timeout=300s on-fail=restart \
    op monitor interval=10s timeout=60s on-fail=restart \
    op monitor interval=9s timeout=60s on-fail=restart role=Master \
    op promote interval=0s timeout=300s on-fail=restart \
    op demote interval=0s timeout=300s on-fail=stop \
    op notify interval=0s timeout=60s \
    op stop interval=0s timeout=300s on-fail=block
primitive vip-master ocf:heartbeat:IPaddr2 params ip=192.168.1.3 nic=eth1 cidr_netmask=24
primitive vip-rep ocf:heartbeat:IPaddr2 params ip=192.168.2.3 nic=eth2 cidr_netmask=24
group master-group vip-master vip-rep
ms msPostgresql pgsql meta master-max=1 master-node-max=1 clone-max=2 clone-node-max=1 notify=true
primitive prmPing ocf:pacemaker:ping params name=default_ping_set host_list="192.168.1.1" multiplier=100 \
    op monitor interval=10s timeout=60s on-fail=restart
clone clnPingCheck prmPing
location rsc_location-msPostgresql-1 msPostgresql rule -inf: not_defined default_ping_set or default_ping_set lt 100
location rsc_location-grpStonith1-2 grpStonith1 rule -inf: #uname eq pg1
location rsc_location-grpStonith2-3 grpStonith2 rule -inf: #uname eq pg2
colocation rsc_colocation-msPostgresql-clnPingCheck-1 inf: msPostgresql clnPingCheck
colocation rsc_colocation-master-group-msPostgresql-2 inf: master-group msPostgresql:Master
order rsc_order-clnPingCheck-msPostgresql-1 0: clnPingCheck msPostgresql symmetrical=false
order rsc_order-msPostgresql-master-group-2 0: msPostgresql:promote master-group:start symmetrical=false
order rsc_order-msPostgresql-master-group-3 0: msPostgresql:demote master-group:stop symmetrical=false
`;
  const corosync = (me: string) => `totem {\n  version: 2\n  cluster_name: lhaj\n  transport: knet\n  crypto_cipher: aes256\n  crypto_hash: sha256\n  interface {\n    linknumber: 0\n  }\n  interface {\n    linknumber: 1\n  }\n}\nnodelist {\n  node {\n    ring0_addr: 192.168.1.11\n    ring1_addr: 192.168.2.11\n    name: pg1\n    nodeid: 1\n  }\n  node {\n    ring0_addr: 192.168.1.12\n    ring1_addr: 192.168.2.12\n    name: pg2\n    nodeid: 2\n  }\n}\nquorum {\n  provider: corosync_votequorum\n  two_node: 1\n}\n# ${me}\n`;
  const conf = "listen_addresses = '*'\nwal_level = replica\nmax_wal_senders = 10\nhot_standby = on\narchive_mode = on\narchive_command = 'cp %p /var/lib/pgsql/arc/%f'\nrestart_after_crash = off\ninclude '/var/lib/pgsql/tmp/rep_mode.conf' # added by pgsql RA\n";
  const hba = "local all postgres peer\nhost replication repl 192.168.2.0/24 md5\n# applications\nhost all all 192.168.1.0/24 md5\n";

  it("keeps the names, maps what pgha models (the STONITH groups too, their passwords as references) and renders it back into crmsh", () => {
    const { file } = scratchCib(crm, { pg1: { "pgsql-status": "PRI" }, pg2: { "pgsql-status": "HS:sync" } });
    const crmShow = run("crm", ["-D", "plain", "configure", "show"], { ...process.env, CIB_file: file, HOME: mkdtempSync(join(tmpdir(), "pgha-import-")) });
    const host = (name: string, i: number) => ({
      name,
      corosyncConf: corosync(name),
      postgresqlConf: [{ path: "/var/lib/pgsql/data/postgresql.conf", text: conf }],
      pgHba: hba,
      pgVersion: 15,
      pgpass: true,
      addresses: [{ nic: "eth1", cidr: `192.168.1.1${i}/24` }, { nic: "eth2", cidr: `192.168.2.1${i}/24` }],
      startOnBoot: false,
    });
    const { spec, report } = importCluster({ cib: readFileSync(file, "utf8"), crmShow, group: "pgsql", hosts: [host("pg1", 1), host("pg2", 2)] });
    expect(spec.cluster).toEqual({ name: "lhaj", topology: "streaming-replication", nodes: { group: "pgsql", members: { pg1: { id: 1, links: ["192.168.1.11", "192.168.2.11"] }, pg2: { id: 2, links: ["192.168.1.12", "192.168.2.12"] } } } });
    expect(spec.corosync.links).toEqual([{ interface: "eth1", subnet: "192.168.1.0/24" }, { interface: "eth2", subnet: "192.168.2.0/24" }]);
    expect(spec.pacemaker?.syntax).toBe("ms");
    // pgsql and master-group are pgha's names, msPostgresql what ms syntax calls the clone anyway, and this
    // cluster has no location for vip-slave: the spec names none of them.
    const { postgresql: _p, clone: _c, group: _g, location_vip_readonly: _l, ...renamed } = LHAJ_IDS;
    expect(spec.pacemaker?.ids).toEqual(renamed);
    expect(spec.pacemaker?.vips).toEqual({ master: { ip: "192.168.1.3", nic: "eth1", cidr_netmask: 24 }, replication: { ip: "192.168.2.3", nic: "eth2", cidr_netmask: 24 } });
    expect(spec.postgresql).toMatchObject({
      primary: "pg1",
      data_directory: "/var/lib/pgsql/data",
      config_directory: "/var/lib/pgsql/data",
      replication: { user: "repl", password: { env: "PGHA_REPL_PASSWORD" }, hba_method: "md5" },
      archive: { restore_command: "cp /var/lib/pgsql/arc/%f %p", archive_command: "cp %p /var/lib/pgsql/arc/%f" },
      agent_params: { start_opt: "-p 5432", restart_on_promote: "true" },
      ops: { notify: { timeout: "60s" }, demote: { on_fail: "stop" }, stop: { on_fail: "block" } },
      // pgha's own rules come first in what it renders; the cluster's own are kept as they are.
      hba: [
        { type: "host", database: "replication", user: "repl", address: "192.168.2.0/24", method: "md5" },
        { type: "host", database: "all", user: "all", address: "192.168.1.0/24", method: "md5", comment: "applications" },
      ],
    });
    expect(spec.pacemaker?.stonith).toEqual({
      enabled: true,
      devices: {
        pg1: { agent: "stonith:fence_ipmilan", params: { pcmk_host_list: "pg1", ip: "192.168.100.11", username: "admin", lanplus: 1 }, secret_params: { password: { env: "PGHA_FENCE_PG1_PASSWORD" } }, id: "prmStonith1-1", group: "grpStonith1", location_id: "rsc_location-grpStonith1-2" },
        pg2: { agent: "stonith:fence_ipmilan", params: { pcmk_host_list: "pg2", ip: "192.168.100.12", username: "admin", lanplus: 1 }, secret_params: { password: { env: "PGHA_FENCE_PG2_PASSWORD" } }, id: "prmStonith2-1", group: "grpStonith2", location_id: "rsc_location-grpStonith2-3" },
      },
    });
    // What the file leaves out runs at PostgreSQL's default, which the spec then says (not pgha's own default).
    expect(spec.postgresql.parameters).toMatchObject({ logging_collector: false, hot_standby_feedback: false, wal_sender_timeout: "60s", wal_keep_size: 0 });
    expect(spec.postgresql.parameters).not.toHaveProperty("max_replication_slots");
    expect(report.notes.filter((n) => n.startsWith("postgresql.conf: pgha sets"))).toEqual([]);
    expect(report.kept).toEqual([]);
    // What the spec cannot say is said: pgha writes a secret param last, and its own ops of ping and the VIPs.
    expect(report.notes).toEqual(expect.arrayContaining([
      "prmStonith1-1: pgha writes its params (their values or order) otherwise than the live resource: apply would rewrite them",
      "vip-master: pgha writes its operations otherwise than the live resource: apply would rewrite them",
    ]));
    expect(stringify(spec)).not.toMatch(/Secret[12]-ipmi/);
    expect(report.secrets.join("\n")).not.toMatch(/Secret[12]-ipmi/);
    expect(report.secrets.filter((s) => /set PGHA_FENCE_PG[12]_PASSWORD/.test(s))).toHaveLength(2);

    // Rendered with the passwords given, real crmsh loads it: the STONITH groups as the sheet made them.
    const inventory = "all:\n  children:\n    pgsql:\n      hosts:\n        pg1: { ansible_host: 192.168.1.11 }\n        pg2: { ansible_host: 192.168.1.12 }\n";
    const model = buildModel({ spec: parseSpec(stringify(spec), "cluster.yml"), inventory: parseInventory(inventory, "hosts.yml"), resolveSecret: secretResolver({ PGHA_REPL_PASSWORD: "r", PGHA_FENCE_PG1_PASSWORD: "Secret1-ipmi", PGHA_FENCE_PG2_PASSWORD: "Secret2-ipmi" }) });
    const again = renderCluster(model, loadTemplates());
    expect(again.pcs).toEqual({ unavailable: expect.stringContaining("pcs puts no stonith resource in a group") });
    const element = (xml: string, re: RegExp) => re.exec(xml)?.[0];
    const loaded = readFileSync(scratchCib(again.crm, { pg1: {}, pg2: {} }).file, "utf8");
    expect(loaded).toMatch(/<group id="grpStonith1">\s*<primitive id="prmStonith1-1" class="stonith" type="fence_ipmilan">/);
    // The same element (XML attributes have no order).
    const location = /<rsc_location id="rsc_location-grpStonith2-3"[\s\S]*?<\/rsc_location>/;
    expect(parseXml(element(loaded, location)!)).toEqual(parseXml(element(readFileSync(file, "utf8"), location)!));
  });
});
