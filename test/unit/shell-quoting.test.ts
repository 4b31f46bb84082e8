// Issue 14, item 3: no value reaches a shell unquoted. Every spec and inventory value that task modules
// put into a remote command is made hostile here (spaces, $(...), ;, ", `, |, &, <, >, globs), every
// module runs against a fake host that records each command, and each occurrence of the value must sit
// inside single quotes: at the top level, and again inside each command that is handed to a shell once
// more (sh -c, runuser/sudo ... sh -c, and pg_ctl's -o, which pg_ctl passes to /bin/sh on the host).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { factsScript, parseFacts } from "../../src/facts.js";
import { planFile } from "../../src/plan.js";
import { copyPrimaryCommand } from "../../src/tasks/recover.js";
import { directoryCommand, MODULE_IMPLS, pgCtl, pgCtlOption, writeFileCommand, type HostCtx, type RunCtx } from "../../src/tasks.js";
import { remoteCommand, type Connection } from "../../src/transport.js";
import { shq } from "../../src/shell.js";
import { renderExample } from "./helpers.js";

const MARK = "PGHAX $(touch /tmp/pgha-pwned);\"`id`|&<>*?";

interface Lexed {
  /** Per character: "'" inside single quotes (or a quote itself), '"' inside double quotes, "\\" escaped, "" bare. */
  ctx: string[];
  words: { text: string; start: number; end: number }[];
}

/** A POSIX shell's quoting of a command line, enough to tell where each character stands; $(...) nests. */
function lex(cmd: string): Lexed {
  const ctx: string[] = Array.from(cmd, () => "");
  const words: Lexed["words"] = [];
  /** Lexes commands from i; inside $(...) (nested) up to its `)`, recording no words. Returns where it stopped. */
  const commands = (i: number, nested: boolean): number => {
    let word: { text: string; start: number } | undefined;
    const add = (at: number, t: string) => ((word ??= { text: "", start: at }).text += t);
    const end = (at: number) => {
      if (word && !nested) words.push({ ...word, end: at });
      word = undefined;
    };
    while (i < cmd.length) {
      const c = cmd[i]!;
      if (nested && c === ")") return i + 1;
      if (c === "'") {
        const close = cmd.indexOf("'", i + 1);
        const stop = close < 0 ? cmd.length : close + 1;
        for (let j = i; j < stop; j++) ctx[j] = "'";
        add(i, cmd.slice(i + 1, close < 0 ? cmd.length : close));
        i = stop;
      } else if (c === '"') {
        add(i, "");
        ctx[i++] = '"';
        while (i < cmd.length && cmd[i] !== '"') {
          if (cmd[i] === "$" && cmd[i + 1] === "(") i = commands(i + 2, true);
          else if (cmd[i] === "\\" && i + 1 < cmd.length) {
            ctx[i] = ctx[i + 1] = '"';
            add(i, cmd[i + 1]!);
            i += 2;
          } else {
            ctx[i] = '"';
            add(i, cmd[i++]!);
          }
        }
        ctx[i++] = '"';
      } else if (c === "\\" && i + 1 < cmd.length) {
        ctx[i] = ctx[i + 1] = "\\";
        add(i, cmd[i + 1]!);
        i += 2;
      } else if (c === "$" && cmd[i + 1] === "(") {
        i = commands(i + 2, true);
      } else if (/[\s;&|()<>]/.test(c)) {
        end(i++);
      } else add(i, cmd[i++]!);
    }
    end(i);
    return i;
  };
  commands(0, false);
  return { ctx, words };
}

/** Where MARK stands outside single quotes, in `cmd` or in a command that `cmd` hands to a shell again. */
function unquoted(cmd: string, path = "command"): string[] {
  const { ctx, words } = lex(cmd);
  const out: string[] = [];
  for (let i = cmd.indexOf(MARK); i >= 0; i = cmd.indexOf(MARK, i + 1)) {
    if (ctx.slice(i, i + MARK.length).some((q) => q !== "'")) out.push(`${path}: ${cmd.slice(Math.max(0, i - 60), i + MARK.length + 10)}`);
  }
  words.forEach((w, k) => {
    const prev = words[k - 1]?.text;
    const shell = prev === "-c" && words[k - 2]?.text === "sh";
    const pgCtlOpt = prev === "-o" && words.slice(0, k).some((x) => x.text.endsWith("/pg_ctl"));
    if (shell || pgCtlOpt) out.push(...unquoted(w.text, `${path} > ${shell ? "sh -c" : "pg_ctl -o"}`));
  });
  return out;
}

/** The sr-pgsql example with every value a task puts in a command made hostile. */
function hostileCtx(example: string, code: number, commands: string[]): RunCtx {
  const { model, rendered } = renderExample(example);
  const v = (s: string) => `/srv/${MARK}${s}`;
  const pg = model.postgresql;
  Object.assign(pg, {
    bindir: v("/bin"),
    dataDirectory: v("/data"),
    configDirectory: v("/conf"),
    configFile: v("/conf/postgresql.conf"),
    home: v("/home"),
    socketDirectory: v("/run"),
    tmpdir: v("/tmp"),
    archiveDirectory: v("/archive"),
    osUser: `pg${MARK}`,
    osGroup: `pgg${MARK}`,
  });
  if (pg.replication) Object.assign(pg.replication, { user: `rep${MARK}`, upstreamHost: `host${MARK}` });
  if (model.sharedDisk) model.sharedDisk = { device: v("/dev"), mountpoint: v("/mnt") };
  for (const k of Object.keys(model.resourceIds) as (keyof typeof model.resourceIds)[]) model.resourceIds[k] = `${model.resourceIds[k]}${MARK}`;
  const names = new Map(model.nodes.map((n) => [n.name, `${n.name}${MARK}`]));
  for (const n of model.nodes) n.name = names.get(n.name)!;
  model.directories = model.directories.map((d) => ({ ...d, path: v(d.path), owner: `own${MARK}`, group: `grp${MARK}` }));
  rendered.files = rendered.files.map((f) => ({ ...f, node: names.get(f.node)!, path: v(f.path), owner: `own${MARK}`, group: `grp${MARK}` }));
  const hosts: HostCtx[] = model.nodes.map((node) => {
    const conn: Connection = {
      node: node.name,
      exec: async (command) => {
        commands.push(command);
        return { code, stdout: "", stderr: "" };
      },
      close: () => undefined,
    };
    return { node, conn, facts: parseFacts("") };
  });
  return { model, rendered, hosts, check: false, trace: () => undefined, pollSeconds: 0, target: model.nodes[1]!.name };
}

describe("no value reaches a shell unquoted", () => {
  it("finds an unquoted value where there is one (the checker itself)", () => {
    expect(unquoted(`rm -rf /srv/${MARK}`)).toHaveLength(1);
    expect(unquoted(`rm -rf ${shq(`/srv/${MARK}`)}`)).toEqual([]);
    expect(unquoted(`rm -rf "/srv/${MARK}"`)).toHaveLength(1);
    expect(unquoted(`runuser -u x -- sh -c ${shq(`chmod 0700 /srv/${MARK}`)}`)).toEqual([expect.stringMatching(/^command > sh -c: chmod/)]);
    expect(unquoted(`/usr/bin/pg_ctl -o ${shq(`-c config_file=/srv/${MARK}`)} start`)).toHaveLength(1);
  });

  it("in every command that every task module sends, on success and on failure", async () => {
    const commands: string[] = [];
    const args = { timeout: 0, condition: "replication", failed: "report", replace_disagreeing: true };
    for (const example of ["sr-pgsql-2node", "shared-disk-2node"]) {
      for (const code of [0, 1]) {
        for (const [name, impl] of Object.entries(MODULE_IMPLS)) {
          if (name === "command") continue; // a playbook's own command line, verbatim by design
          for (const role of ["primary", "standby", "finish"]) {
            const ctx = hostileCtx(example, code, commands);
            await (async () => impl(ctx, ctx.hosts[0]!, { ...args, role, name: "pacemaker", state: "restarted" }))().catch(() => undefined);
            if (name !== "pg_bootstrap") break;
          }
        }
      }
    }
    // The builders, for what the fake host's answers did not reach.
    const ctx = hostileCtx("sr-pgsql-2node", 0, commands);
    const facts = parseFacts("");
    for (const f of ctx.rendered.files) {
      const c = planFile(f, facts);
      for (const action of ["create", "update", "attributes"] as const) for (const secret of [true, false]) commands.push(writeFileCommand({ ...c, action, secret }));
    }
    commands.push(...ctx.model.directories.map(directoryCommand), copyPrimaryCommand(ctx, `host${MARK}`), pgCtl(ctx, `${pgCtlOption({ config_file: ctx.model.postgresql.configFile })} start`));
    commands.push(factsScript(ctx.model, ctx.rendered.files.map((f) => ({ ...f, template: "", view: {} })), ctx.model.directories, `/srv/${MARK}/state`, `/srv/${MARK}/authkey`));
    commands.push(remoteCommand({ user: "admin", become: true, becomeUser: `dba${MARK}` }, "id"));
    const reached = commands.filter((c) => c.includes(MARK));
    expect(reached.length).toBeGreaterThan(100);
    expect(commands.flatMap((c) => unquoted(c))).toEqual([]);
  });

  it("quotes for real: a value with quotes, newlines and $(...) reaches the program as it is, through sh -c and pg_ctl -o's second shell", () => {
    const value = `a'b"c $(touch /tmp/pgha-pwned) \`x\` \\ ;|&\n*`;
    const once = spawnSync("sh", ["-c", `printf '%s' ${shq(value)}`], { encoding: "utf8" });
    expect(once.stdout).toBe(value);
    const twice = spawnSync("sh", ["-c", `sh -c ${shq(`printf '%s' ${shq(value)}`)}`], { encoding: "utf8" });
    expect(twice.stdout).toBe(value);
    // pg_ctl gets -o's value from the first shell and pastes it into the command line of a second one.
    const opt = /^-o (.*)$/s.exec(pgCtlOption({ config_file: value }))![1]!;
    const received = spawnSync("sh", ["-c", `printf '%s' ${opt}`], { encoding: "utf8" }).stdout;
    const pasted = spawnSync("sh", ["-c", `printf '%s\\n' ${received}`], { encoding: "utf8" });
    expect(pasted.stdout).toBe(`-c\nconfig_file=${value}\n`);
  });
});
