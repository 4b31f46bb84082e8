// apply's plain-lines output (no terminal): every line once, in the order things happen.
import { Listr, type ListrTask } from "listr2";
import { describe, expect, it } from "vitest";
import { PlainLines } from "../../src/plain-lines.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Task = ListrTask<unknown, any, any>;

/** A playbook task as apply builds it: one subtask per host, titled with its result when done. */
const task = (name: string, hosts: string[], opts: { skip?: boolean; fail?: string } = {}): Task => ({
  title: name,
  skip: () => opts.skip ?? false,
  task: (_, t) =>
    t.newListr(
      hosts.map((h) => ({
        title: h,
        task: async (_c, ht) => {
          if (h === opts.fail) throw new Error(`task '${name}' failed on ${h}: boom`);
          ht.title = `${h}: ok`;
        },
      })),
      { concurrent: true, exitOnError: true },
    ),
});

async function run(tasks: Task[]): Promise<{ lines: string[]; error?: string }> {
  const lines: string[] = [];
  const list = new Listr<unknown, typeof PlainLines>(tasks, { concurrent: false, exitOnError: true, renderer: PlainLines, rendererOptions: { write: (l) => lines.push(l) } });
  const error = await list.run().then(() => undefined, (e: Error) => e.message);
  return { lines: lines.map((l) => l.replace(/\[\d\d:\d\d:\d\d\] /, "")), error };
}

describe("PlainLines", () => {
  it("says each task once when its hosts start, each host once when it is done, a skipped task once", async () => {
    const { lines } = await run([task("preflight", ["pg1", "pg2"]), task("rolling restart", ["pg1"], { skip: true }), { title: "handlers", task: (_, t) => t.newListr([task("reload postgresql", ["pg1"])]) }, { title: "handlers", task: (_, t) => t.newListr([]) }]);
    expect(lines.slice(0, 3)).toEqual(["❯ preflight", "✔ pg1: ok", "✔ pg2: ok"]);
    expect(lines.slice(3)).toEqual(["↓ rolling restart (skipped)", "❯ handlers", "❯ reload postgresql", "✔ pg1: ok"]);
  });

  it("says what a waiting host still waits for each time that changes, not each time its counter ticks", async () => {
    const waits = ["HS:sync on pg2 (now: HS:alone), 2 s of 300 s", "HS:sync on pg2 (now: HS:alone), 4 s of 300 s", "HS:sync on pg2 (now: HS:async), 6 s of 300 s"];
    const { lines } = await run([
      {
        title: "wait for replication",
        task: (_, t) =>
          t.newListr([
            {
              title: "pg1",
              task: async (_c, ht) => {
                for (const w of waits) ht.output = `waiting for replication: ${w}`;
                ht.title = "pg1: ok";
              },
            },
          ]),
      },
    ]);
    expect(lines).toEqual([
      "❯ wait for replication",
      "… pg1: waiting for replication: HS:sync on pg2 (now: HS:alone), 2 s of 300 s",
      "… pg1: waiting for replication: HS:sync on pg2 (now: HS:async), 6 s of 300 s",
      "✔ pg1: ok",
    ]);
  });

  it("marks the host that failed and leaves the error to the caller", async () => {
    const { lines, error } = await run([task("files", ["pg1"], { fail: "pg1" })]);
    expect(lines).toEqual(["❯ files", "✖ pg1: failed"]);
    expect(error).toBe("task 'files' failed on pg1: boom");
  });
});
