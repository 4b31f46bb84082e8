// Golden files: every template for every example, byte for byte. UPDATE_GOLDEN=1 rewrites them.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXAMPLES, ROOT, renderExample, TEST_PASSWORD } from "./helpers.js";

const GOLDEN = join(ROOT, "test", "golden");

function check(path: string, content: string): void {
  if (process.env.UPDATE_GOLDEN || !existsSync(path)) {
    if (!process.env.UPDATE_GOLDEN && process.env.CI) throw new Error(`golden file ${path} is missing`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  expect(content).toBe(readFileSync(path, "utf8"));
}

describe.each(EXAMPLES)("example %s", (example) => {
  const { rendered } = renderExample(example);

  it("renders cluster.crm as recorded", () => check(join(GOLDEN, example, "cluster.crm"), rendered.crm));

  it("renders cluster.pcs as recorded", () => check(join(GOLDEN, example, "cluster.pcs"), "script" in rendered.pcs ? rendered.pcs.script : rendered.pcs.unavailable));

  it.each(rendered.files.filter((f) => !f.secret).map((f) => [`${f.node}${f.path}`, f] as const))("renders %s as recorded", (name, f) => {
    check(join(GOLDEN, example, name), f.content);
  });

  it("is byte-identical across runs, with one trailing newline per file", () => {
    const again = renderExample(example).rendered;
    expect(again).toEqual(rendered);
    for (const f of [rendered.crm, ...rendered.files.map((x) => x.content)]) {
      expect(f.endsWith("\n")).toBe(true);
      expect(f.endsWith("\n\n")).toBe(false);
    }
  });

  it("keeps the replication password out of every file but .pgpass", () => {
    const escaped = TEST_PASSWORD.replace(/:/g, "\\:"); // .pgpass escapes ':'
    for (const f of rendered.files) {
      expect(f.content.includes(TEST_PASSWORD) || f.content.includes(escaped)).toBe(f.secret);
      if (f.secret) expect(f.mode).toBe("0600");
    }
    expect(rendered.crm).not.toContain(TEST_PASSWORD);
  });
});
