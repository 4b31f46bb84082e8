// Hostile input (issue 14): pgha runs as root on database hosts, so whatever the spec, the inventory or the
// files they name hold, `validate` and `render` either produce safe files or fail with exit 1 and a message
// that names the file and line, without a trace, in bounded time and memory. One describe per class of
// defect, then a generated set of hostile inputs run through both commands.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { main } from "../../src/cli.js";
import { writeOutput } from "../../src/render-out.js";

const ROOT = join(import.meta.dirname, "..", "..");
type Example = "sr-pgsql-2node" | "shared-disk-2node" | "paf-3node";
const example = (name: Example, file: "cluster.yml" | "hosts.yml") => readFileSync(join(ROOT, "inventories", name, file), "utf8");
const PASSWORD = "Hostile-Input-Pw-39c1";

let work: string;
const saved = process.env.PGHA_REPL_PASSWORD;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "pgha-hostile-"));
  process.env.PGHA_REPL_PASSWORD = PASSWORD;
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  if (saved === undefined) delete process.env.PGHA_REPL_PASSWORD;
  else process.env.PGHA_REPL_PASSWORD = saved;
});

// ---------------------------------------------------------------------------------------------------------------
// Inputs: a valid example with one value set through the YAML API (so any string, control characters
// included, is written as YAML that means exactly it), or raw bytes.

type Path = (string | number)[];
const setIn = (text: string, path: Path, value: unknown): string => {
  const doc = parseDocument(text);
  doc.setIn(path, value);
  return doc.toString({ lineWidth: 0 });
};
/** A node renamed everywhere it is named, in spec and inventory alike. */
const renameNode = (from: string, to: string) => (text: string) => {
  const doc = parseDocument(text);
  const walk = (node: unknown): void => {
    const n = node as { items?: { key?: { value?: unknown }; value?: unknown }[]; value?: unknown };
    for (const item of n?.items ?? []) {
      if (item.key && item.key.value === from) item.key.value = to;
      if (item.value && typeof (item.value as { value?: unknown }).value === "string" && (item.value as { value: string }).value === from) (item.value as { value: string }).value = to;
      walk(item.value ?? item);
    }
  };
  walk(doc.contents);
  return doc.toString({ lineWidth: 0 });
};

interface Input {
  base?: Example;
  spec?: (t: string) => string | Buffer;
  inventory?: (t: string) => string | Buffer;
}

interface Run {
  code: number;
  out: string[];
  err: string[];
  all: string;
  dir: string;
  spec: string;
  inventory: string;
  ms: number;
}

let counter = 0;
async function run(input: Input, args: (f: { spec: string; inventory: string; dir: string }) => string[]): Promise<Run> {
  const base = input.base ?? "sr-pgsql-2node";
  const dir = join(work, `case-${++counter}`);
  mkdirSync(dir);
  const spec = join(dir, "cluster.yml");
  const inventory = join(dir, "hosts.yml");
  writeFileSync(spec, (input.spec ?? ((t) => t))(example(base, "cluster.yml")));
  writeFileSync(inventory, (input.inventory ?? ((t) => t))(example(base, "hosts.yml")));
  const out: string[] = [];
  const err: string[] = [];
  const t0 = performance.now();
  const code = await main(args({ spec, inventory, dir }), { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out, err, all: [...out, ...err].join("\n"), dir, spec, inventory, ms: performance.now() - t0 };
}
const validate = (input: Input) => run(input, ({ spec, inventory }) => ["validate", "-i", inventory, "-s", spec]);
const render = (input: Input) => run(input, ({ spec, inventory, dir }) => ["render", "-i", inventory, "-s", spec, "-o", join(dir, "out")]);

// `file:line[:col]: error[code] at /path: message (expected ...)`
const DIAG = /^(\S.*?):(\d+)(?::(\d+))?: error\[([a-z0-9-]+)\](?: at (.*?))?: (.*)$/;

/** Exit 1 with only diagnostics on stderr, at least one naming a file and line; nothing else. */
function expectPositionedFailure(r: Run, code?: string | RegExp): RegExpExecArray[] {
  expect(r.code, r.all).toBe(1);
  expectHygiene(r);
  const diags = r.err.map((l) => DIAG.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  expect(diags.length, `a file:line diagnostic in:\n${r.all}`).toBeGreaterThan(0);
  if (code !== undefined) expect(diags.map((d) => d[4]).join(" ")).toMatch(code);
  return diags;
}

function expectHygiene(r: Run): void {
  expect(r.all, "no stack trace").not.toMatch(/\n\s+at |\bat .*\.(ts|js):\d+:\d+/);
  expect(r.all, "no internal error").not.toMatch(/\[internal\]/);
  expect(r.all, "the password is never printed").not.toContain(PASSWORD);
  expect(r.all, "no control character reaches the terminal").not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
}

/** Every file under `dir`, relative paths. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((p) => lstatSync(join(dir, p)).isFile());
}

const MARKER = "PWNED";

/** A render that succeeded wrote only plain lines: no control characters, no line that a value smuggled in. */
function expectSafeRender(r: Run): void {
  expect(r.code, r.all).toBe(0);
  expectHygiene(r);
  const files = tree(join(r.dir, "out"));
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    const text = readFileSync(join(r.dir, "out", f), "utf8");
    expect(text, f).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(text.split("\n").filter((l) => l.trimStart().startsWith(MARKER)), f).toEqual([]);
  }
  expect(readdirSync(r.dir).sort(), "nothing written beside the output directory").toEqual(["cluster.yml", "hosts.yml", "out"]);
}

// ---------------------------------------------------------------------------------------------------------------

describe("strict patterns for paths, user names, node names and identifiers", () => {
  const rejected: [string, Input, RegExp][] = [
    ["a shell command in bindir", { spec: (t) => setIn(t, ["postgresql", "bindir"], "/usr/lib/postgresql/15/bin; touch /tmp/x") }, /spec-pattern/],
    ["a command substitution in data_directory", { spec: (t) => setIn(t, ["postgresql", "data_directory"], "/var/lib/$(id)/data") }, /spec-pattern/],
    ["a quote in config_directory", { spec: (t) => setIn(t, ["postgresql", "config_directory"], "/etc/postgresql/15/'x") }, /spec-pattern/],
    ["a space in socket_directory", { spec: (t) => setIn(t, ["postgresql", "socket_directory"], "/var/run/postgresql x") }, /spec-pattern/],
    ["a '..' component in the archive directory", { spec: (t) => setIn(t, ["postgresql", "archive", "directory"], "/var/lib/postgresql/../../etc") }, /spec-pattern/],
    ["a shell character in a node name", { spec: renameNode("pg2", "pg2;id"), inventory: renameNode("pg2", "pg2;id") }, /spec-key-name/],
    ["a command substitution in the primary's name", { spec: (t) => setIn(t, ["postgresql", "primary"], "$(reboot)") }, /spec-pattern/],
    ["a shell character in the inventory group", { spec: (t) => setIn(t, ["cluster", "nodes", "group"], "pgsql `id`") }, /spec-pattern/],
    ["ansible_become_user with a command", { inventory: (t) => setIn(t, ["all", "vars", "ansible_become_user"], "postgres; id") }, /inventory-bad-var/],
    ["ansible_user with a newline", { inventory: (t) => setIn(t, ["all", "vars", "ansible_user"], "root\nProxyCommand x") }, /inventory-bad-var/],
    ["ansible_host that is an ssh option", { inventory: (t) => setIn(t, ["all", "children", "pgsql", "hosts", "pg1", "ansible_host"], "-oProxyCommand=touch /tmp/x") }, /inventory-bad-host/],
    ["a fence device secret parameter with a shell name", { spec: (t) => setIn(t, ["pacemaker", "stonith", "devices", "pg1", "secret_params"], { "pass word;x": { env: "X" } }) }, /spec-key-name/],
  ];
  it.each(rejected)("%s is refused where it is written", async (_name, input, code) => {
    expectPositionedFailure(await validate(input), code);
  });

  it("the examples stay valid", async () => {
    for (const base of ["sr-pgsql-2node", "shared-disk-2node", "paf-3node"] as const) expect((await validate({ base })).code).toBe(0);
  });
});

describe("no value injects lines into a rendered file", () => {
  const nl = `x\n${MARKER} host all all 0.0.0.0/0 trust`;
  const cases: [string, Input, string][] = [
    ["a newline in a pg_hba comment", { spec: (t) => setIn(t, ["postgresql", "hba", 0, "comment"], nl) }, "/postgresql/hba/0/comment"],
    ["a newline in pg_hba options", { spec: (t) => setIn(t, ["postgresql", "hba", 0, "options"], nl) }, "/postgresql/hba/0/options"],
    ["a carriage return in a pg_hba database", { spec: (t) => setIn(t, ["postgresql", "hba", 0, "database"], `all\r${MARKER}`) }, "/postgresql/hba/0/database"],
    ["a newline in the corosync logfile", { spec: (t) => setIn(t, ["corosync", "logging"], { logfile: `/var/log/c.log\n}\nnodelist {\n${MARKER}` }) }, "/corosync/logging/logfile"],
    ["a newline in a node name", { spec: renameNode("pg2", `pg2\n${MARKER}`), inventory: renameNode("pg2", `pg2\n${MARKER}`) }, "/cluster/nodes/members"],
    ["a newline in a server parameter value", { spec: (t) => setIn(t, ["postgresql", "parameters", "work_mem"], `4MB'\n${MARKER} = 1`) }, "/postgresql/parameters/work_mem"],
    ["a newline in a per-node parameter value", { spec: (t) => setIn(t, ["cluster", "nodes", "members", "pg1", "parameters"], { work_mem: `4MB\n${MARKER}` }) }, "/cluster/nodes/members/pg1/parameters/work_mem"],
    ["a newline in a resource agent parameter (cluster.crm)", { spec: (t) => setIn(t, ["postgresql", "agent_params", "primary_conninfo_opt"], `x"\nprimitive ${MARKER} ocf:heartbeat:anything params binfile=/bin/sh`) }, "/postgresql/agent_params/primary_conninfo_opt"],
    ["a newline in a fence device parameter", { spec: (t) => setIn(t, ["pacemaker", "stonith", "devices", "pg1", "params", "status_file"], `/x\n${MARKER}`) }, "/pacemaker/stonith/devices/pg1/params/status_file"],
    ["a newline in a cluster property", { spec: (t) => setIn(t, ["pacemaker", "properties", "stonith-timeout"], `120s\n${MARKER}`) }, "/pacemaker/properties/stonith-timeout"],
    ["a newline in a restore_command", { spec: (t) => setIn(t, ["postgresql", "archive", "restore_command"], `cp x %p\n${MARKER} = 1`) }, "/postgresql/archive/restore_command"],
    ["a newline in an inline secret", { spec: (t) => setIn(t, ["postgresql", "replication", "password"], `pw\n*:*:*:*:${MARKER}`) }, "/postgresql/replication/password"],
    ["a NUL byte in a name", { spec: (t) => setIn(t, ["pacemaker", "ping", "attribute"], "ping\u0000set") }, "/pacemaker/ping/attribute"],
  ];
  it.each(cases)("%s is refused, with its position", async (_name, input, path) => {
    const r = await validate(input);
    const diags = expectPositionedFailure(r);
    expect(diags.some((d) => d[5] === path || d[5]?.startsWith(`${path}/`)), r.all).toBe(true);
  });

  it("master_ip is an address, not a conninfo fragment (it decides where the replication password goes)", async () => {
    for (const v of ["10.117.2.100 host=attacker.example", "attacker.example", "10.117.2.100'"]) {
      const diags = expectPositionedFailure(await validate({ spec: (t) => setIn(t, ["postgresql", "agent_params", "master_ip"], v) }), /spec-format/);
      expect(diags[0]![5]).toBe("/postgresql/agent_params/master_ip");
    }
  });

  it("extra_crm keeps its lines (it is raw crm by design) but no other control character", async () => {
    expectPositionedFailure(await validate({ spec: (t) => setIn(t, ["pacemaker", "extra_crm"], "property x: \u001b[2J") }), /spec-pattern/);
    expect((await validate({ spec: (t) => setIn(t, ["pacemaker", "extra_crm"], "# one\n# two\n") })).code).toBe(0);
  });
});

describe("system directories are not managed directories", () => {
  const cases: [string, Path, string][] = [
    ["tmpdir: /", ["postgresql", "agent_params", "tmpdir"], "/"],
    ["tmpdir: /etc", ["postgresql", "agent_params", "tmpdir"], "/etc"],
    ["a relative tmpdir", ["postgresql", "agent_params", "tmpdir"], "var/tmp"],
    ["archive.directory: /etc", ["postgresql", "archive", "directory"], "/etc"],
    ["archive.directory: /var/lib", ["postgresql", "archive", "directory"], "/var/lib"],
    ["data_directory: /usr", ["postgresql", "data_directory"], "/usr"],
    ["config_directory: /etc/ssh", ["postgresql", "config_directory"], "/etc/ssh"],
    ["home: /root", ["postgresql", "home"], "/root"],
    ["socket_directory: /tmp", ["postgresql", "socket_directory"], "/tmp"],
    ["a directory under /proc", ["postgresql", "archive", "directory"], "/proc/1/root"],
  ];
  it.each(cases)("%s is refused", async (_name, path, value) => {
    const diags = expectPositionedFailure(await validate({ spec: (t) => setIn(t, path, value) }), /spec-system-directory|spec-pattern/);
    expect(diags[0]![5]).toBe("/" + path.join("/"));
  });

  it("a directory of its own under a system directory is fine", async () => {
    expect((await validate({ spec: (t) => setIn(t, ["postgresql", "agent_params", "tmpdir"], "/var/lib/pgsql-tmp") })).code).toBe(0);
  });
});

describe("bounded work on any input", () => {
  /** A FIFO with a writer that holds it open for 20 s: reading it would block that long, at least. */
  const fifos: ChildProcess[] = [];
  afterAll(() => fifos.forEach((c) => c.kill()));
  const fifo = (path: string): string => {
    execFileSync("mkfifo", [path]);
    const writer = spawn("sh", ["-c", `exec sleep 20 > '${path}'`], { stdio: "ignore" });
    fifos.push(writer);
    return path;
  };

  it("a host range of 10^8 hosts is refused at once, where it is written", async () => {
    const r = await validate({ inventory: (t) => t.replace("pg3: { ansible_host: 10.117.1.13 }", "h[0:99999999]:").replace("pg2: { ansible_host: 10.117.1.12 }\n", "pg2: { ansible_host: 10.117.1.12 }\n        h[0:99999999]:\n") });
    expectPositionedFailure(r, /inventory-bad-host-pattern/);
    expect(r.err.join("\n")).toMatch(/more than 200000 hosts/);
    expect(r.ms).toBeLessThan(5000);
  });

  it("nested ranges that multiply past the limit are refused too", async () => {
    const r = await validate({ inventory: (t) => t.replace("pg2: { ansible_host: 10.117.1.12 }\n", "pg2: { ansible_host: 10.117.1.12 }\n        h[0:999]x[0:999]:\n") });
    expectPositionedFailure(r, /inventory-bad-host-pattern/);
    expect(r.ms).toBeLessThan(5000);
  });

  it("a FIFO as spec, inventory or secret file is refused without waiting for it", async () => {
    for (const which of ["-s", "-i", "secret"] as const) {
      const r = await run({ spec: (t) => (which === "secret" ? setIn(t, ["postgresql", "replication", "password"], { file: "pipe.yml" }) : t) }, ({ spec, inventory, dir }) => {
        const path = fifo(join(dir, "pipe.yml"));
        return ["validate", "-i", which === "-i" ? path : inventory, "-s", which === "-s" ? path : spec];
      });
      expectPositionedFailure(r, /spec-unreadable|inventory-read|model-secret-missing/);
      expect(r.err.join("\n")).toMatch(/not a regular file/);
      expect(r.ms).toBeLessThan(5000);
    }
  });

  it("a device (/dev/zero) as spec or inventory is refused", async () => {
    for (const which of ["-s", "-i"] as const) {
      const r = await run({}, ({ spec, inventory }) => ["validate", "-i", which === "-i" ? "/dev/zero" : inventory, "-s", which === "-s" ? "/dev/zero" : spec]);
      expectPositionedFailure(r, /spec-unreadable|inventory-read/);
      expect(r.ms).toBeLessThan(5000);
    }
  });

  it("a spec larger than a megabyte is refused before it is parsed", async () => {
    const r = await validate({ spec: (t) => t + `# ${"x".repeat(2 * 1024 * 1024)}\n` });
    expectPositionedFailure(r, /spec-unreadable/);
    expect(r.err.join("\n")).toMatch(/bytes allowed/);
  });

  it("an alias bomb is refused with its position", async () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]", ...["b", "c", "d", "e", "f", "g", "h"].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${"abcdefgh"[i]}`).join(", ")}]`)].join("\n");
    for (const input of [{ spec: (t: string) => `${t}\nx-bomb:\n  ${bomb.replace(/\n/g, "\n  ")}\n` }, { inventory: () => `all:\n  vars:\n    ${bomb.replace(/\n/g, "\n    ")}\n` }]) {
      const r = await validate(input);
      expectPositionedFailure(r, /yaml-aliases/);
      expect(r.ms).toBeLessThan(5000);
    }
  });

  it("very deep nesting is refused with its position", async () => {
    for (const input of [{ spec: (t: string) => `${t}\nx: ${"[".repeat(5000)}${"]".repeat(5000)}\n` }, { spec: (t: string) => `${t}\nx: ${"[".repeat(100)}${"]".repeat(100)}\n` }, { inventory: () => `all:\n  vars:\n    deep: ${"{a: ".repeat(200)}1${"}".repeat(200)}\n` }]) {
      expectPositionedFailure(await validate(input), /yaml-too-deep/);
    }
  });
});

describe("render -o stays inside its directory", () => {
  it("a node named ../../x is refused by the name pattern, and nothing is written", async () => {
    const r = await render({ spec: renameNode("pg2", "../../x"), inventory: renameNode("pg2", "../../x") });
    expectPositionedFailure(r, /spec-key-name/);
    expect(existsSync(join(r.dir, "out"))).toBe(false);
    expect(existsSync(join(r.dir, "x"))).toBe(false);
  });

  it("a path that leaves the output directory is refused by the writer itself", () => {
    const dir = mkdtempSync(join(work, "w-"));
    for (const path of ["../x", "pg1/../../x", "pg1/./x", ""]) expect(() => writeOutput(join(dir, "out"), [{ path, content: "x\n", mode: 0o644 }])).toThrow(/outside the output directory/);
    expect(readdirSync(dir)).toEqual(["out"]);
  });

  it("does not write through a symbolic link planted in the output tree", async () => {
    const victim = join(work, "victim");
    mkdirSync(victim, { recursive: true });
    writeFileSync(join(victim, "corosync.conf"), "untouched\n");
    for (const plant of [(out: string) => symlinkSync(victim, join(out, "pg1")), (out: string) => (mkdirSync(join(out, "pg1", "etc"), { recursive: true }), symlinkSync(victim, join(out, "pg1", "etc", "corosync"))), (out: string) => symlinkSync(join(victim, "corosync.conf"), join(out, "cluster.crm"))]) {
      const r = await run({}, ({ spec, inventory, dir }) => {
        mkdirSync(join(dir, "out"));
        plant(join(dir, "out"));
        return ["render", "-i", inventory, "-s", spec, "-o", join(dir, "out")];
      });
      expect(r.code, r.all).toBe(1);
      expectHygiene(r);
      expect(r.err.join("\n")).toMatch(/error\[render-output\]: .*symbolic link/);
      expect(readdirSync(victim)).toEqual(["corosync.conf"]);
      expect(readFileSync(join(victim, "corosync.conf"), "utf8")).toBe("untouched\n");
    }
  });

  it("does not write into a directory or file that belongs to another user", async () => {
    const r = await run({}, ({ spec, inventory, dir }) => {
      mkdirSync(join(dir, "out", "pg1"), { recursive: true });
      chownSync(join(dir, "out", "pg1"), 65534, 65534);
      return ["render", "-i", inventory, "-s", spec, "-o", join(dir, "out")];
    });
    expect(r.code, r.all).toBe(1);
    expect(r.err.join("\n")).toMatch(/belongs to another user/);
  });

  it("files holding secrets are written 0600, whatever the umask", async () => {
    const old = process.umask(0);
    try {
      const r = await render({ spec: (t) => setIn(t, ["pacemaker", "stonith", "devices", "pg1", "secret_params"], { password: { env: "PGHA_REPL_PASSWORD" } }) });
      expectSafeRender(r);
      const mode = (p: string) => statSync(join(r.dir, "out", p)).mode & 0o777;
      expect(readFileSync(join(r.dir, "out", "cluster.crm"), "utf8")).toContain(PASSWORD);
      expect(mode("cluster.crm")).toBe(0o600);
      expect(mode("pg1/var/lib/postgresql/.pgpass")).toBe(0o600);
      expect(mode("pg1/etc/corosync/corosync.conf")).toBe(0o644);
    } finally {
      process.umask(old);
    }
  });

  it("a rerun replaces its own files", async () => {
    const r = await render({});
    expectSafeRender(r);
    const again = await main(["render", "-i", r.inventory, "-s", r.spec, "-o", join(r.dir, "out")], { out: () => undefined, err: () => undefined });
    expect(again).toBe(0);
  });
});

describe("every failure is a clear message with a position", () => {
  it("nodeid: 1e300 is out of range, not accepted", async () => {
    const diags = expectPositionedFailure(await validate({ spec: (t) => t.replace("pg1: { id: 1,", "pg1: { id: 1e300,") }), /spec-range/);
    expect(diags[0]![5]).toBe("/cluster/nodes/members/pg1/id");
  });

  it("control bytes in a value are shown escaped, never sent to the terminal", async () => {
    const r = await validate({ spec: (t) => setIn(t, ["cluster", "nodes", "members", "pg1\u001b]0;owned\u0007"], { id: 3, links: ["10.117.1.13", "10.117.2.13"] }) });
    expectPositionedFailure(r, /spec-key-name/);
    expect(r.err.join("\n")).toContain("\\x1b]0;owned\\x07");
  });

  it("a spec that is not UTF-8 is refused at the first bad byte", async () => {
    const r = await validate({ spec: (t) => Buffer.concat([Buffer.from(t.replace("name: pgcluster", "name: pgclust")), Buffer.from([0xff, 0xfe])]) });
    const [d] = expectPositionedFailure(r, /spec-unreadable/);
    expect(Number(d![2])).toBeGreaterThan(1);
    expect(r.err.join("\n")).toMatch(/not UTF-8/);
  });

  it("-o naming a file, and -t naming no directory, are errors that say so", async () => {
    const file = await run({}, ({ spec, inventory, dir }) => {
      writeFileSync(join(dir, "out"), "");
      return ["render", "-i", inventory, "-s", spec, "-o", join(dir, "out")];
    });
    expect(file.code).toBe(1);
    expectHygiene(file);
    expect(file.err.join("\n")).toMatch(/out: error\[render-output\]: -o names a file that is not a directory/);
    const t = await run({}, ({ spec, inventory, dir }) => ["render", "-i", inventory, "-s", spec, "-o", join(dir, "out"), "-t", join(dir, "no-such-templates")]);
    expect(t.code).toBe(1);
    expectHygiene(t);
    expect(t.err.join("\n")).toMatch(/no-such-templates: error\[template-dir\]/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The generated set: payloads of each kind, each put into each place a string can go, plus raw-byte and
// type cases; every one through validate and render.

const PAYLOADS: [string, unknown][] = [
  ["newline", `a\n${MARKER} x`],
  ["carriage return", `a\r${MARKER} x`],
  ["NUL", "a\u0000b"],
  ["escape sequence", "a\u001b[2Jb"],
  ["DEL and C1", "a\u007f\u0085b"],
  ["tab", "a\tb"],
  ["semicolon command", "x; touch /tmp/pgha-pwned"],
  ["command substitution", "$(touch /tmp/pgha-pwned)"],
  ["backticks", "`id`"],
  ["single quote", "x'y"],
  ["double quote and backslash", 'x"\\y'],
  ["traversal", "../../../../etc/passwd"],
  ["root", "/"],
  ["64 KiB string", "a".repeat(65536)],
  ["right-to-left override", "pg\u202e1"],
  ["number 1e300", 1e300],
  ["negative number", -1],
  ["infinity", Infinity],
  ["a list", ["a", "b"]],
  ["a mapping", { a: 1 }],
  ["null", null],
  ["empty", ""],
];

const PLACES: [string, Input & { at: Path; side?: "spec" | "inventory" }][] = [
  ["cluster name", { at: ["cluster", "name"] }],
  ["hba comment", { at: ["postgresql", "hba", 0, "comment"] }],
  ["hba address", { at: ["postgresql", "hba", 0, "address"] }],
  ["bindir", { at: ["postgresql", "bindir"] }],
  ["tmpdir", { at: ["postgresql", "agent_params", "tmpdir"] }],
  ["a server parameter", { at: ["postgresql", "parameters", "work_mem"] }],
  ["a fence parameter", { at: ["pacemaker", "stonith", "devices", "pg1", "params", "pcmk_host_list"] }],
  ["the replication user", { at: ["postgresql", "replication", "user"] }],
  ["ansible_become_user", { at: ["all", "vars", "ansible_become_user"], side: "inventory" }],
  ["ansible_host", { at: ["all", "children", "pgsql", "hosts", "pg1", "ansible_host"], side: "inventory" }],
];

const RAW: [string, Input][] = [
  ["a spec in UTF-16", { spec: (t) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, "utf16le")]) }],
  ["an inventory in Latin-1 with a non-ASCII byte", { inventory: (t) => Buffer.from(t.replace("pgsql:", "pgsqlé:"), "latin1") }],
  ["a spec with a raw NUL byte", { spec: (t) => t.replace("name: pgcluster", "name: pg\u0000cluster") }],
  ["a spec that is a YAML list", { spec: () => "- a\n- b\n" }],
  ["a spec that is a scalar", { spec: () => "just text\n" }],
  ["an empty spec", { spec: () => "" }],
  ["an empty inventory", { inventory: () => "" }],
  ["an inventory that is a list", { inventory: () => "- pg1\n- pg2\n" }],
  ["a spec with a duplicate key", { spec: (t) => t.replace("cluster:\n", "cluster:\n  name: a\n") }],
  ["a host named ../../x in the inventory", { inventory: (t) => t.replace("pg1: { ansible_host: 10.117.1.11 }", "pg1: { ansible_host: 10.117.1.11 }\n        ../../x: {}") }],
  ["a million-host range in INI", { inventory: () => "[pgsql]\npg1\npg2\nh[0:999999]\n" }],
  ["a 2 MB inventory line", { inventory: (t) => `${t}# ${"y".repeat(2 * 1024 * 1024)}\n` }],
  ["tabs for indentation", { spec: (t) => t.replace("  name: pgcluster", "\tname: pgcluster") }],
  ["a self-referencing alias", { spec: (t) => `${t}\nx: &x [*x]\n` }],
  ["a huge integer", { spec: (t) => t.replace("port: 5432", `port: ${"9".repeat(400)}`) }],
];

function generated(): [string, Input][] {
  const out: [string, Input][] = [];
  for (const [place, p] of PLACES) {
    for (const [payload, value] of PAYLOADS) {
      const edit = (t: string) => setIn(t, p.at, value);
      out.push([`${payload} in ${place}`, p.side === "inventory" ? { inventory: edit } : { spec: edit }]);
    }
  }
  return [...out, ...RAW];
}

describe("a generated set of hostile inputs through validate and render", () => {
  const cases = generated();
  it("has more than 100 cases", () => expect(cases.length).toBeGreaterThanOrEqual(100));

  it.each(cases)("%s: renders safely or fails with exit 1 and a file:line message, in bounded time and memory", async (_name, input) => {
    for (const r of [await validate(input), await render(input)]) {
      expect(r.ms, "bounded time").toBeLessThan(5000);
      expect(process.memoryUsage().rss, "bounded memory").toBeLessThan(1.5 * 1024 ** 3);
      if (r.code === 0) {
        if (r.all.startsWith("ok:") || r.out.some((l) => l.startsWith("ok:"))) expectHygiene(r);
        else expectSafeRender(r);
      } else expectPositionedFailure(r);
    }
    expect(existsSync("/tmp/pgha-pwned")).toBe(false);
  });
});
