import { describe, expect, it } from "vitest";
import { loweredMinimums, loweredRefusal } from "../../src/standby-minimums.js";

const conf = (lines: string[]) => ["# pgha", ...lines, "port = 5432", ""].join("\n");

describe("loweredMinimums", () => {
  const primary = { max_connections: "150", max_wal_senders: "10", max_worker_processes: "8", max_prepared_transactions: "0", max_locks_per_transaction: "64" };

  it("names each setting a changed file would set below the running primary's, with the node", () => {
    const changed = [
      { node: "pg1", content: conf(["max_connections = 120", "max_wal_senders = 10"]) },
      { node: "pg2", content: conf(["max_connections = 120", "max_wal_senders = 5"]) },
    ];
    expect(loweredMinimums(changed, primary)).toEqual(["max_connections 150 -> 120 on pg1", "max_connections 150 -> 120 on pg2", "max_wal_senders 10 -> 5 on pg2"]);
  });

  it("lets equal and higher values through, and settings the file does not set", () => {
    expect(loweredMinimums([{ node: "pg2", content: conf(["max_connections = 200", "max_wal_senders = '10'"]) }], primary)).toEqual([]);
  });

  it("reads a quoted value, and ignores a commented-out line", () => {
    expect(loweredMinimums([{ node: "pg2", content: conf(["#max_connections = 10", "max_locks_per_transaction = '32'"]) }], primary)).toEqual(["max_locks_per_transaction 64 -> 32 on pg2"]);
  });

  it("the refusal says why, and that nothing was changed", () => {
    const msg = loweredRefusal(["max_connections 150 -> 120 on pg2"], "pg1");
    expect(msg).toMatch(/^refusing: max_connections 150 -> 120 on pg2 would go below the running primary's value \(pg1\)/);
    expect(msg).toMatch(/Nothing was changed$/);
  });
});
