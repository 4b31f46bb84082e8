// Shared by unit tests: build and render an example or an edited spec without touching any host.
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { join } from "node:path";
import { parseInventory } from "../../src/inventory.js";
import { buildModel } from "../../src/model/build.js";
import type { ClusterModel } from "../../src/model/types.js";
import { loadTemplates, renderCluster, type RenderedCluster } from "../../src/render.js";
import { secretResolver } from "../../src/secrets.js";
import { parseSpec } from "../../src/spec.js";

export const ROOT = join(import.meta.dirname, "..", "..");
export const EXAMPLES = ["sr-pgsql-2node", "shared-disk-2node", "paf-3node"] as const;
export const TEST_PASSWORD = "golden-Secr3t:pw";

export function exampleText(example: string, file = "cluster.yml"): string {
  return readFileSync(join(ROOT, "inventories", example, file), "utf8");
}

export function build(specText: string, inventoryText: string, env: NodeJS.ProcessEnv = { PGHA_REPL_PASSWORD: TEST_PASSWORD }): ClusterModel {
  return buildModel({
    spec: parseSpec(specText, "cluster.yml"),
    inventory: parseInventory(inventoryText, "hosts.yml"),
    resolveSecret: secretResolver(env),
  });
}

export function renderExample(example: string, edit: (spec: string) => string = (s) => s, templatesDir?: string): { model: ClusterModel; rendered: RenderedCluster } {
  const model = build(edit(exampleText(example)), exampleText(example, "hosts.yml"));
  return { model, rendered: renderCluster(model, loadTemplates(templatesDir)) };
}

/** The error of class `cls` that `fn` throws; fails the test if it throws anything else, or nothing. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function thrownBy<E extends Error>(cls: new (...args: any[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    return e as E;
  }
  throw new Error(`expected ${cls.name}`);
}
