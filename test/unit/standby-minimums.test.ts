import { describe, expect, it } from "vitest";
import { loweredMinimums, loweredRefusal, parsePrimarySettings } from "../../src/standby-minimums.js";

const CONF = "/etc/postgresql/15/pgha/postgresql.conf";
const conf = (lines: string[]) => ["# pgha", ...lines, "port = 5432", ""].join("\n");

describe("loweredMinimums", () => {
  // As PRIMARY_SETTINGS_SQL reads them: max_connections and max_wal_senders from pgha's file, the rest built in.
  const primary = parsePrimarySettings(
    [`max_connections|150|100|${CONF}`, `max_wal_senders|10|10|${CONF}`, "max_worker_processes|8|8|", "max_prepared_transactions|0|0|", "max_locks_per_transaction|64|64|"].join("\n"),
  );

  it("names each setting a changed file would set below the running primary's, with the node", () => {
    const changed = [
      { node: "pg1", content: conf(["max_connections = 120", "max_wal_senders = 10"]) },
      { node: "pg2", content: conf(["max_connections = 120", "max_wal_senders = 5"]) },
    ];
    expect(loweredMinimums(changed, primary, CONF)).toEqual(["max_connections 150 -> 120 on pg1", "max_connections 150 -> 120 on pg2", "max_wal_senders 10 -> 5 on pg2"]);
  });

  it("lets equal and higher values through", () => {
    expect(loweredMinimums([{ node: "pg2", content: conf(["max_connections = 200", "max_wal_senders = '10'"]) }], primary, CONF)).toEqual([]);
  });

  it("reads a quoted value, and ignores a commented-out line", () => {
    const p = { ...primary, max_locks_per_transaction: { setting: "64", bootVal: "64", sourcefile: "" } };
    expect(loweredMinimums([{ node: "pg2", content: conf(["max_connections = 150", "max_wal_senders = 10", "max_locks_per_transaction = '32'"]) }], p, CONF)).toEqual([
      "max_locks_per_transaction 64 -> 32 on pg2",
    ]);
  });

  it("a setting the file no longer sets falls back to PostgreSQL's built-in value, unless another file sets it", () => {
    const raised = parsePrimarySettings([`max_worker_processes|16|8|${CONF}`, "max_prepared_transactions|10|0|/var/lib/postgresql/15/pgha/postgresql.auto.conf"].join("\n"));
    expect(loweredMinimums([{ node: "pg2", content: conf(["#max_worker_processes = 16"]) }], raised, CONF)).toEqual(["max_worker_processes 16 -> 8 on pg2"]);
  });

  it("the refusal says why, and that nothing was changed", () => {
    const msg = loweredRefusal(["max_connections 150 -> 120 on pg2"], "pg1");
    expect(msg).toMatch(/^refusing: max_connections 150 -> 120 on pg2 would go below the running primary's value \(pg1\)/);
    expect(msg).toMatch(/Nothing was changed$/);
  });
});
