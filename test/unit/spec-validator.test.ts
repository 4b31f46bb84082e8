// The build's standalone validator must judge specs exactly as ajv compiling the schema does, and a
// validator built from another schema must never be used.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { specValidator, standaloneValidator } from "../../src/spec-validator.js";

const dir = mkdtempSync(join(tmpdir(), "pgha-validator-"));
const good = parse(readFileSync("inventories/sr-pgsql-2node/cluster.yml", "utf8"));
const bad = { ...good, cluster: { ...good.cluster, nodes: { members: { pg1: { id: 1, links: ["10.0.0.300"] } } }, extra: true } };
const missing = join(dir, "missing.cjs");

function judged(standalone: string) {
  const v = specValidator(standalone);
  return [good, bad].map((spec) => (v(spec) ? [] : v.errors!.map((e) => [e.keyword, e.instancePath, e.params, e.parentSchema !== undefined])));
}

describe("spec validator", () => {
  it("built as standalone code, finds the same errors as compiled (params and parent schema included)", () => {
    const built = join(dir, "built.cjs");
    writeFileSync(built, standaloneValidator());
    const fromBuild = judged(built);
    expect(fromBuild[0]).toEqual([]);
    expect(fromBuild[1]!.map((e) => e[0])).toEqual(expect.arrayContaining(["format", "additionalProperties"]));
    expect(fromBuild).toEqual(judged(missing));
  });

  it("is not used when it was built from a different schema", () => {
    const other = join(dir, "other.cjs");
    const schema = JSON.parse(readFileSync("schema/pgha-spec.schema.json", "utf8"));
    writeFileSync(other, standaloneValidator(JSON.stringify({ ...schema, required: [] })));
    expect(specValidator(other)({})).toBe(false);
  });
});
