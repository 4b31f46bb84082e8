// Issue 13, items 6 and 7: the WAL a stopped standby needs is kept (replication slots, bounded), the archive
// is pruned, and a dead sync standby is noticed in seconds (wal_sender_timeout).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clusterStatusTable } from "../../src/cluster-status.js";
import { InputError } from "../../src/diagnostics.js";
import { retainingArchiveCommand } from "../../src/model/postgresql.js";
import { renderExample, ROOT } from "./helpers.js";

const conf = (r: ReturnType<typeof renderExample>, node: string) => r.rendered.files.find((f) => f.node === node && f.path.endsWith("/postgresql.conf"))!.content;
const codes = (edit: (s: string) => string, example = "sr-pgsql-2node") => {
  try {
    return renderExample(example, edit).model.warnings.map((w) => w.code);
  } catch (e) {
    if (e instanceof InputError) return e.diagnostics.map((d) => `${d.severity}:${d.code}`);
    throw e;
  }
};

describe("replication slots and timeouts", () => {
  it("the pgsql agent gets a slot per standby (replication_slot_name) bounded by max_slot_wal_keep_size", () => {
    const r = renderExample("sr-pgsql-2node");
    expect(r.rendered.crm).toMatch(/ replication_slot_name=pgha /);
    for (const n of ["pg1", "pg2"]) {
      expect(conf(r, n)).toContain("max_slot_wal_keep_size = '2GB'");
      expect(conf(r, n)).toContain("wal_keep_size = '512MB'");
    }
  });

  it("a sync standby that dies is dropped within seconds: wal_sender_timeout 5s, wal_receiver_timeout 10s", () => {
    for (const ex of ["sr-pgsql-2node", "paf-3node"]) {
      const c = conf(renderExample(ex), "pg1");
      expect(c).toContain("wal_sender_timeout = '5s'");
      expect(c).toContain("wal_receiver_timeout = '10s'");
    }
    expect(conf(renderExample("shared-disk-2node"), "pg1")).not.toMatch(/wal_sender_timeout|wal_receiver_timeout/);
  });

  it("the spec's parameters override the defaults", () => {
    const r = renderExample("sr-pgsql-2node", (s) => s.replace("    shared_buffers: 128MB\n", "    shared_buffers: 128MB\n    wal_sender_timeout: 10s\n    max_slot_wal_keep_size: 8GB\n"));
    expect(conf(r, "pg1")).toContain("wal_sender_timeout = '10s'");
    expect(conf(r, "pg1")).toContain("max_slot_wal_keep_size = '8GB'");
  });

  it("PAF gets no slots (it does not manage them), and asking for them is an error", () => {
    const r = renderExample("paf-3node");
    expect(r.rendered.crm).not.toContain("slot");
    expect(conf(r, "pg2")).not.toMatch(/slot_/);
    expect(codes((s) => s.replace("    user: repl\n", "    user: repl\n    slots: true\n"), "paf-3node")).toContain("error:model-slots-paf");
  });

  it("slots: false turns them off; before PostgreSQL 13 they are off unless asked for, with a warning", () => {
    const off = renderExample("sr-pgsql-2node", (s) => s.replace("    user: repl\n", "    user: repl\n    slots: false\n"));
    expect(off.rendered.crm).not.toContain("replication_slot_name");
    expect(conf(off, "pg1")).not.toContain("max_slot_wal_keep_size");
    const pg12 = (extra: string) => (s: string) => s.replace("version: 15", "version: 12").replace("    user: repl\n", `    user: repl\n${extra}`);
    expect(renderExample("sr-pgsql-2node", pg12("")).rendered.crm).not.toContain("replication_slot_name");
    expect(codes(pg12("    slots: true\n"))).toContain("model-slots-unbounded");
  });
});

describe("the archive", () => {
  it("keep_segments makes pgha write a pruning archive_command; the example has no retention warning", () => {
    const r = renderExample("sr-pgsql-2node");
    expect(conf(r, "pg1")).toContain("archive_mode = on");
    expect(conf(r, "pg1")).toMatch(/^archive_command = 'd=''\/var\/lib\/postgresql\/15\/archive''; .*tail -n 64 .*pg_archivecleanup/m);
    expect(r.model.warnings.map((w) => w.code)).not.toContain("model-archive-retention");
  });

  it("an archive_command without retention warns; keep_segments with its own command or without a directory is an error", () => {
    const own = (s: string) => s.replace("    keep_segments: 64\n", "    archive_command: \"cp %p /mnt/arch/%f\"\n");
    expect(codes(own)).toContain("model-archive-retention");
    expect(codes((s) => s.replace("    keep_segments: 64\n", "    keep_segments: 64\n    archive_command: \"cp %p /mnt/arch/%f\"\n"))).toContain("error:model-archive-keep");
    expect(codes((s) => s.replace("    directory: /var/lib/postgresql/15/archive\n", ""))).toContain("error:model-archive-keep");
  });

  it("the command archives each segment once and keeps only the newest N, by position across timelines (real sh, real pg_archivecleanup)", () => {
    const work = mkdtempSync(join(tmpdir(), "pgha-archive-"));
    try {
      const archive = join(work, "archive");
      mkdirSync(join(work, "pg_wal"));
      mkdirSync(archive);
      writeFileSync(join(archive, "00000002.history"), "1\t0/A000000\tno recovery target specified\n");
      const segs = [...Array.from({ length: 12 }, (_, i) => `0000000100000000000000${(i + 1).toString(16).toUpperCase().padStart(2, "0")}`), "00000002000000000000000D"];
      const archiveOne = (seg: string) => {
        const cmd = retainingArchiveCommand(archive, 4, "/usr/lib/postgresql/15/bin").replaceAll("%f", seg).replaceAll("%p", `pg_wal/${seg}`);
        return spawnSync("sh", ["-c", cmd], { cwd: work, encoding: "utf8" });
      };
      for (const seg of segs) {
        writeFileSync(join(work, "pg_wal", seg), `content of ${seg}`);
        const r = archiveOne(seg);
        expect(r.status, r.stderr).toBe(0);
      }
      expect(readdirSync(archive).sort()).toEqual(["00000001000000000000000A", "00000001000000000000000B", "00000001000000000000000C", "00000002.history", "00000002000000000000000D"]);
      // Archiving the same segment again succeeds; a different file under an archived name is refused.
      expect(archiveOne("00000002000000000000000D").status).toBe(0);
      writeFileSync(join(work, "pg_wal", "00000002000000000000000D"), "something else");
      expect(archiveOne("00000002000000000000000D").status).not.toBe(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe("status", () => {
  const crmMon = readFileSync(join(ROOT, "test/fixtures/status/pgsql-2node-healthy.xml"), "utf8");
  const statusWith = async (slotRows: string) => {
    const { model } = renderExample("sr-pgsql-2node");
    const primaryQueries: string[] = [];
    const view = await clusterStatusTable(model, async (n) => ({
      node: n.name,
      close: () => undefined,
      exec: async (command: string) => {
        if (command.startsWith("crm_mon")) return { code: 0, stdout: crmMon, stderr: "" };
        primaryQueries.push(command);
        return { code: 0, stdout: slotRows, stderr: "" };
      },
    }));
    return { view, primaryQueries };
  };

  it("says when a standby's slot lost its WAL (it needs pgha recover), or is about to", async () => {
    const lost = await statusWith("--pgha-slot-- pgha_pg2 lost\n");
    expect(lost.primaryQueries).toHaveLength(1);
    expect(lost.primaryQueries[0]).toContain("FROM pg_replication_slots");
    expect(lost.view.text).toMatch(/^warning: pg2 cannot catch up: .*slot pgha_pg2.*pgha recover pg2$/m);
    expect((await statusWith("pg2 streaming sync\n--pgha-slot-- pgha_pg2 unreserved\n")).view.text).toMatch(/^warning: pg2 is about to lose the WAL it needs/m);
    const fine = await statusWith("pg2 streaming sync\n--pgha-slot-- pgha_pg2 reserved\n");
    expect(fine.view.status.replication).toEqual({ pg2: "streaming/sync" });
    expect(fine.view.status.warnings).toEqual([]);
  });
});
