// pgha import on the lab (issue 15): a running cluster, with elements pgha does not model added by hand
// (a location rule with a date expression, an alert), read into a spec by `pgha import`, which changes
// nothing and says the comparison finds no difference; then `pgha diff` exits 0 and `pgha apply` is a
// no-op: the CIB's epoch and both postmasters' start times stay, and the hand-made elements survive.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { builtTwoNode, exampleArgs, onHost, PASSWORD, pgha, psqlOn } from "./pgha-helpers.js";

const INVENTORY = "inventories/sr-pgsql-2node/hosts.yml";
const epoch = () => /<cib [^>]*\bepoch="(\d+)"/.exec(onHost("pg1", "cibadmin -Q"))![1];
const started = () => ["pg1", "pg2"].map((h) => psqlOn(h, "SELECT pg_postmaster_start_time()"));

describe("pgha import of a running cluster", () => {
  const out = join(mkdtempSync(join(tmpdir(), "pgha-e2e-import-")), "imported");
  beforeAll(async () => {
    await builtTwoNode(exampleArgs("sr-pgsql-2node"));
    onHost("pg1", "crm configure location keep-until-2030 vip-slave rule -inf: date lt 2030-01-01 && crm configure alert alert-file /usr/share/pacemaker/alerts/alert_file.sh.sample to /var/log/pcmk-alerts.log");
  });

  it("writes a spec, reports what it kept and the secret to fill, changes nothing, and finds no difference", async () => {
    const [e, s] = [epoch(), started()];
    const r = await pgha(["import", "-i", INVENTORY, "-o", out, "--inventory-out"]);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`wrote ${out}/cluster.yml, ${out}/hosts.yml`);
    expect(r.stdout).toMatch(/kept verbatim in pacemaker.extra_crm:\n {2}keep-until-2030 \(location\)\n {2}alert-file \(alert\)/);
    expect(r.stdout).toContain("postgresql.replication.password: set PGHA_REPL_PASSWORD");
    expect(r.stdout.trim().split("\n").at(-1)).toBe("diff: no differences");
    expect(r.output).not.toContain(PASSWORD);
    expect(readFileSync(join(out, "cluster.yml"), "utf8")).not.toContain(PASSWORD);
    expect([epoch(), started()]).toEqual([e, s]);
  });

  it("pgha diff of the imported spec exits 0, and apply is a no-op that keeps the hand-made elements", async () => {
    const args = ["-i", join(out, "hosts.yml"), "-s", join(out, "cluster.yml")];
    const d = await pgha(["diff", ...args]);
    expect(d.code, d.output).toBe(0);
    const [e, s] = [epoch(), started()];
    const a = await pgha(["apply", ...args]);
    expect(a.code, a.output).toBe(0);
    expect(a.stdout).toMatch(/ok: nothing changed/);
    expect([epoch(), started()]).toEqual([e, s]);
    const cib = onHost("pg1", "cibadmin -Q");
    expect(cib).toContain('<date_expression operation="lt" end="2030-01-01"');
    expect(cib).toContain('<alert id="alert-file" path="/usr/share/pacemaker/alerts/alert_file.sh.sample">');
  });

  it("never writes over an existing spec", async () => {
    const r = await pgha(["import", "-i", INVENTORY, "-o", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the file exists (pgha import never overwrites one)");
  });
});
