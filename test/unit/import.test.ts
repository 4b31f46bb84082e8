// pgha import (issue 15): a cluster's live CIB (loaded by real crmsh into a scratch CIB) and its rendered
// files, imported, give a spec whose render is the original's, for every example; elements pgha does not
// model are kept in extra_crm in crmsh's own words and load back to the same XML.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { importCluster, parseHba, parsePostgresqlConf, type ImportFacts } from "../../src/import.js";
import type { ClusterModel } from "../../src/model/types.js";
import { loadTemplates, renderCluster, type RenderedCluster } from "../../src/render.js";
import { build, EXAMPLES, exampleText, renderExample } from "./helpers.js";
import { missingTools, run, scratchCib } from "./scratch-cib.js";

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
