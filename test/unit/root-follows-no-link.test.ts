// Issue 14, item 1: no root action follows a path that a less privileged user controls. A directory owned
// by `nobody` stands in for the PostgreSQL user's (its home, the config directory, tmpdir, the archive):
// nobody plants links there to a root-owned file and directory, pgha's real commands run as root in a real
// shell, and the targets stay untouched. The facts report each link, and preflight refuses it.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { factsScript, parseFacts, symlinkProblems } from "../../src/facts.js";
import type { FileChange } from "../../src/plan.js";
import { directoryCommand, MODULE_IMPLS, writeFileCommand } from "../../src/tasks.js";
import { renderExample } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "pgha-links-"));
chmodSync(root, 0o755);
const NOBODY = Number(execFileSync("id", ["-u", "nobody"]).toString());
const NOGROUP = Number(execFileSync("id", ["-g", "nobody"]).toString());
const user = join(root, "user");
const victim = join(root, "victim.conf");
const victimDir = join(root, "victim.d");
const backups = join(root, "backup");

const sh = (cmd: string, stdin?: string) => spawnSync("sh", ["-c", cmd], { input: stdin, encoding: "utf8" });
/** Owner, mode and content: what must not change. */
const state = (p: string) => {
  const s = lstatSync(p);
  return { uid: s.uid, gid: s.gid, mode: (s.mode & 0o7777).toString(8), content: s.isFile() ? readFileSync(p, "utf8") : undefined };
};
/** As nobody would: a link in nobody's own directory, owned by nobody. */
const plant = (target: string, link: string) => execFileSync("runuser", ["-u", "nobody", "--", "ln", "-sfn", target, link]);
const change = (path: string, over: Partial<FileChange> = {}): FileChange => ({ node: "pg1", path, action: "update", content: "pgha\n", owner: "nobody", group: "nogroup", mode: "0600", secret: false, reasons: [], ...over });

beforeEach(() => {
  execFileSync("rm", ["-rf", user, victimDir, backups]);
  mkdirSync(user, { mode: 0o755 });
  chownSync(user, NOBODY, NOGROUP);
  writeFileSync(victim, "root's own\n", { mode: 0o644 });
  chmodSync(victim, 0o644);
  mkdirSync(victimDir, { mode: 0o755 });
  chmodSync(victimDir, 0o755);
});

describe("no root action follows a path that a less privileged user controls", () => {
  it("a secret file's old backup that nobody turned into a link is removed, not written through; no backup keeps the old secret", () => {
    const pgpass = join(user, ".pgpass");
    plant(victim, `${pgpass}.pgha-backup`);
    const before = state(victim);
    for (const secret of ["old-secret\n", "new-secret\n"]) expect(sh(writeFileCommand(change(pgpass, { secret: true, content: secret }), backups), secret).status).toBe(0);
    expect(state(victim)).toEqual(before);
    expect(readFileSync(pgpass, "utf8")).toBe("new-secret\n");
    expect(statSync(pgpass).uid).toBe(NOBODY);
    expect(existsSync(`${pgpass}.pgha-backup`) || existsSync(join(backups, pgpass))).toBe(false);
    expect(spawnSync("grep", ["-rl", "old-secret", root], { encoding: "utf8" })).toMatchObject({ status: 1, stdout: "" });
  });

  it("a managed file that is a link is refused, for a write and for owner and mode, and its target is untouched", () => {
    const conf = join(user, "postgresql.conf");
    plant(victim, conf);
    const before = state(victim);
    for (const c of [change(conf), change(conf, { action: "attributes" })]) {
      const r = sh(writeFileCommand(c, backups), c.content);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/postgresql\.conf is a symbolic link: pgha does not write through links/);
    }
    expect(state(victim)).toEqual(before);
    expect(existsSync(backups)).toBe(false);
  });

  it("a file under a directory that nobody swapped for a link to root's directory is written as nobody, who cannot write there", () => {
    plant(victimDir, join(user, "conf.d"));
    const r = sh(writeFileCommand(change(join(user, "conf.d", "pg_hba.conf")), backups), "pgha\n");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    expect(execFileSync("ls", ["-A", victimDir], { encoding: "utf8" })).toBe("");
  });

  it("the copy of a replaced file goes to the root-only backup directory, never beside it where nobody could have planted a link", () => {
    const conf = join(user, "postgresql.conf");
    writeFileSync(conf, "old\n");
    chownSync(conf, NOBODY, NOGROUP);
    plant(victim, `${conf}.pgha-backup`);
    const before = state(victim);
    expect(sh(writeFileCommand(change(conf), backups), "new\n").status).toBe(0);
    expect(state(victim)).toEqual(before);
    expect(readFileSync(join(backups, conf), "utf8")).toBe("old\n");
    expect(state(backups)).toMatchObject({ uid: 0, mode: "700" });
  });

  it("a managed directory that is a link is refused; a real one gets its owner and mode, set as that owner", () => {
    const dir = { path: join(user, "tmp"), owner: "nobody", group: "nogroup", mode: "0700" };
    plant(victimDir, dir.path);
    const before = state(victimDir);
    const r = sh(directoryCommand(dir));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/tmp is a symbolic link/);
    expect(state(victimDir)).toEqual(before);
    execFileSync("rm", [dir.path]);
    mkdirSync(dir.path, { mode: 0o755 });
    expect(sh(directoryCommand(dir)).status).toBe(0);
    expect(state(dir.path)).toMatchObject({ uid: NOBODY, gid: NOGROUP, mode: "700" });
  });

  it("the facts report a link as a link with its owner, and preflight refuses it, or a user's link above a managed path; root's own links above are the layout", () => {
    const { model, rendered } = renderExample("sr-pgsql-2node");
    const file = join(user, "postgresql.conf");
    const dir = join(user, "archive");
    plant(victim, file);
    plant(victimDir, dir);
    symlinkSync(user, join(root, "rootlink"));
    const under = join(root, "rootlink", "archive2");
    const paths = [file, dir, under];
    const managed = (p: string) => ({ path: p, template: "", view: {}, owner: "nobody", group: "nogroup", mode: "0640", secret: false });
    const facts = parseFacts(execFileSync("sh", ["-s"], { input: factsScript(model, [managed(file)], [dir, under].map((p) => ({ path: p, owner: "nobody", group: "nogroup", mode: "0700" })), join(root, "state")) }).toString());
    expect(facts.symlinks).toEqual({ [file]: "nobody", [dir]: "nobody", [join(root, "rootlink")]: "root" });
    expect(facts.files[file]).toEqual({ exists: true, symlink: true, agentLines: [] });
    expect(facts.directories[dir]).toBeUndefined();
    expect(symlinkProblems(paths, facts)).toEqual([
      `${file} is a symbolic link (owned by nobody); pgha does not write through links: replace it with the real file or directory`,
      `${dir} is a symbolic link (owned by nobody); pgha does not write through links: replace it with the real file or directory`,
    ]);
    // The same link planted above a managed path by the user: refused.
    expect(symlinkProblems([under], { ...facts, symlinks: { [join(root, "rootlink")]: "postgres" } })).toEqual([
      `${join(root, "rootlink")}, above ${under}, is a symbolic link owned by postgres, not root; pgha does not follow links a user can plant: replace it with the real directory`,
    ]);
    // preflight, before anything changes, for the paths the spec manages.
    const pgpass = rendered.files.find((f) => f.node === "pg1" && f.path.endsWith("/.pgpass"))!.path;
    const host = { node: model.nodes[0]!, conn: { node: "pg1", exec: async () => ({ code: 0, stdout: "", stderr: "" }), close: () => undefined }, facts: parseFacts(`LINK\t${pgpass}\tpostgres\n`) };
    const ctx = { model, rendered, hosts: [host], check: false, trace: () => undefined, pollSeconds: 0 };
    expect(() => MODULE_IMPLS.preflight(ctx, host, {})).toThrow(`${pgpass} is a symbolic link (owned by postgres)`);
  });
});
