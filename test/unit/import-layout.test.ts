// The one rewrite of a hand-written file into pgha's layout (issue 15): settings compared as parsed values.
import { describe, expect, it } from "vitest";
import { layoutRewrites, settingsChanged } from "../../src/import-layout.js";

const conf = "/var/lib/pgsql/15/data/postgresql.conf";

describe("hand-written files against pgha's render of the imported spec", () => {
  it("postgresql.conf: comments, spacing, quoting and order differ, the settings do not; the agent's include is not a setting", () => {
    const live = "# tuned by hand\nmax_connections=100\nwal_keep_size = 512MB   # for the standby\nhot_standby = 'on'\ninclude '/var/lib/pgsql/tmp/rep_mode.conf' # added by pgsql RA\n";
    const rendered = "# rendered by pgha\nhot_standby = on\nmax_connections = 100\nwal_keep_size = '512MB'\n";
    expect(settingsChanged(conf, live, rendered)).toEqual([]);
    expect(settingsChanged(conf, live, rendered.replace("100", "200") + "logging_collector = on\n")).toEqual(["logging_collector", "max_connections"]);
  });

  it("postgresql.conf: a setting the live file leaves out is PostgreSQL's default, a location the resource's", () => {
    const rendered = "data_directory = '/var/lib/pgsql/15/data'\nport = 5432\nlog_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'\nwal_log_hints = off\n";
    expect(settingsChanged(conf, "# nothing\n", rendered)).toEqual([]);
    expect(settingsChanged(conf, "# nothing\n", rendered + "logging_collector = on\n")).toEqual(["logging_collector"]);
  });

  it("pg_hba.conf: the same rules in other spacing are the same; a rule pgha adds, drops or moves is named", () => {
    const live = "# TYPE DATABASE USER ADDRESS METHOD\nlocal   all   postgres   peer\nhost    all   all   10.0.0.0/24   scram-sha-256\n";
    const rendered = "local all postgres peer\nhost all all 10.0.0.0/24 scram-sha-256\n";
    expect(settingsChanged("/x/pg_hba.conf", live, rendered)).toEqual([]);
    expect(settingsChanged("/x/pg_hba.conf", live, "host replication repl 10.0.0.1/32 reject\n" + rendered)).toEqual(["1 rule(s) added"]);
    expect(settingsChanged("/x/pg_hba.conf", live, "host all all 10.0.0.0/24 scram-sha-256\nlocal all postgres peer\n")).toEqual(["rules reordered"]);
  });

  it("corosync.conf by its keys; other files are no settings file", () => {
    const live = "totem {\n\tversion: 2\n\tcluster_name: c\n}\n# a comment\nquorum {\n\ttwo_node: 1\n\tprovider: corosync_votequorum\n}\n";
    const rendered = "totem {\n    cluster_name: c\n    version: 2\n}\n\nquorum {\n    provider: corosync_votequorum\n    two_node: 1\n}\n";
    expect(settingsChanged("/etc/corosync/corosync.conf", live, rendered)).toEqual([]);
    expect(settingsChanged("/etc/corosync/corosync.conf", live, rendered.replace("two_node: 1", "two_node: 0"))).toEqual(["quorum.two_node"]);
    expect(settingsChanged("/x/pg_ident.conf", "a", "b")).toBeUndefined();
  });

  it("says per file what the rewrite takes", () => {
    expect(
      layoutRewrites([
        { node: "pg1", path: conf, live: "port = 5432\n", rendered: "port = 5432\n# pgha\n" },
        { node: "pg1", path: "/etc/corosync/corosync.conf", live: "totem {\n version: 2\n}\n", rendered: "totem {\n    version: 2\n}\n" },
        { node: "pg2", path: conf, live: "port = 5432\n", rendered: "port = 5433\n" },
        { node: "pg2", path: "/x/pg_ident.conf", live: "", rendered: "# pgha\n" },
      ]),
    ).toEqual([
      `pg1:${conf}: the same settings in pgha's layout: PostgreSQL reloads, nothing restarts`,
      "pg1:/etc/corosync/corosync.conf: the same settings in pgha's layout: corosync already runs these settings, nothing reloads",
      `pg2:${conf}: pgha's layout, and it changes port (pgha diff and apply --check say what that takes)`,
    ]);
  });
});
