// The import facts program run for real on this machine: the CIB and crmsh's text through CIB_file (a
// scratch CIB loaded by real crmsh), PostgreSQL's files where the CIB's pgsql resource says they are,
// an include followed; then imported.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { importCluster } from "../../src/import.js";
import { importFactsScript, parseImportFacts } from "../../src/import-facts.js";
import { loadTemplates, renderCluster } from "../../src/render.js";
import { build, exampleText } from "./helpers.js";
import { missingTools, scratchCib } from "./scratch-cib.js";

describe.skipIf(missingTools(["crm", "cibadmin", "python3"]).length > 0)("the import facts program", () => {
  it("reads the CIB, crmsh's text, postgresql.conf with its include, pg_hba.conf and PG_VERSION, and they import", () => {
    const dir = mkdtempSync(join(tmpdir(), "pgha-import-facts-"));
    const spec = parse(exampleText("sr-pgsql-2node"));
    Object.assign(spec.postgresql, { data_directory: join(dir, "data"), config_directory: join(dir, "conf") });
    const model = build(stringify(spec), exampleText("sr-pgsql-2node", "hosts.yml"));
    const rendered = renderCluster(model, loadTemplates());
    const file = (node: string, path: string) => rendered.files.find((f) => f.node === node && f.path === path)!.content;
    mkdirSync(join(dir, "data"));
    mkdirSync(join(dir, "conf"));
    writeFileSync(join(dir, "data", "PG_VERSION"), "15\n");
    writeFileSync(join(dir, "conf", "postgresql.conf"), `${file("pg1", model.postgresql.configFile)}include 'extra.conf'\n`);
    writeFileSync(join(dir, "conf", "extra.conf"), "work_mem = '8MB'\n");
    writeFileSync(join(dir, "conf", "pg_hba.conf"), file("pg1", join(dir, "conf", "pg_hba.conf")));
    const { file: cib } = scratchCib(rendered.crm, { pg1: { "pgsql-status": "PRI" }, pg2: {} });

    const r = spawnSync("sh", ["-s"], { input: importFactsScript(), encoding: "utf8", env: { ...process.env, CIB_file: cib, HOME: dir } });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const facts = parseImportFacts("pg1", r.stdout);
    expect(facts.cib).toContain('<primitive id="pgsql" class="ocf" provider="heartbeat" type="pgsql">');
    expect(facts.crmShow).toMatch(/^primitive pgsql pgsql \\/m);
    expect(facts.host.postgresqlConf.map((c) => c.path)).toEqual([join(dir, "conf", "postgresql.conf"), join(dir, "conf", "extra.conf")]);
    expect(facts.host.pgHba).toBe(file("pg1", join(dir, "conf", "pg_hba.conf")));
    expect(facts.host.pgVersion).toBe(15);
    expect(facts.host.osGroup).toBe("postgres");

    // pg2 as rendered; the addresses of the lab's NICs.
    const hostOf = (name: string, h = facts.host) => ({ ...h, name, corosyncConf: file(name, "/etc/corosync/corosync.conf"), addresses: model.nodes.find((n) => n.name === name)!.links.map((a, i) => ({ nic: `eth${i + 1}`, cidr: `${a}/24` })) });
    const pg2 = { ...hostOf("pg2"), postgresqlConf: [{ path: model.postgresql.configFile, text: file("pg2", model.postgresql.configFile) }] };
    const { spec: imported, report } = importCluster({ cib: facts.cib!, crmShow: facts.crmShow, group: "pgsql", hosts: [hostOf("pg1"), pg2] });
    expect(imported.postgresql).toMatchObject({ data_directory: join(dir, "data"), config_directory: join(dir, "conf"), parameters: { shared_buffers: "128MB", work_mem: "8MB" } });
    // max_connections: 100 is pgha's default anyway; pg2 has no work_mem, and the report says pgha would set it there.
    expect(report.notes).toEqual(["postgresql.conf: pg2's file leaves work_mem at PostgreSQL's default, where pgha would set them as on pg1"]);
  });
});
