// Playbooks: an ordered list of tasks in YAML, the Ansible way, checked before anything runs.
import { Ajv } from "ajv";
import { InputError } from "./diagnostics.js";
import { MiB, readInputFile } from "./input-file.js";
import { diagAt, parseYamlSource } from "./yaml-source.js";

export const MODULES = ["preflight", "directories", "files", "service", "cib_clear", "cib_rebuild", "corosync_authkey", "cluster_boot", "corosync_apply", "pg_rolling_restart", "pg_recover", "pg_switchover", "pg_bootstrap", "node_join", "node_leave", "pg_password", "crm_predict", "pg_minimums", "crm_load", "wait_for", "pg_reload", "command"] as const;
export type ModuleName = (typeof MODULES)[number];
/** Facts pgha computes before acting, and what the operator asked for, usable in `when`. */
export const CONDITIONS = ["bootstrap", "not bootstrap", "rolling restart"] as const;
export type Condition = (typeof CONDITIONS)[number];

/** Whether a task guarded by `when` runs. */
export function holds(when: Condition | undefined, state: { bootstrap: boolean; rollingRestart: boolean }): boolean {
  if (when === undefined) return true;
  return when === "bootstrap" ? state.bootstrap : when === "not bootstrap" ? !state.bootstrap : state.rollingRestart;
}

export interface PlaybookTask {
  name: string;
  module: ModuleName;
  args: Record<string, unknown>;
  hosts: "all" | "primary" | "standbys";
  run_once: boolean;
  when?: Condition;
  notify: string[];
}

export interface Playbook {
  name: string;
  file: string;
  tasks: PlaybookTask[];
  handlers: PlaybookTask[];
}

const taskSchema = {
  type: "object",
  additionalProperties: false,
  required: ["name", "module"],
  properties: {
    name: { type: "string", minLength: 1 },
    module: { enum: MODULES },
    args: { type: "object" },
    hosts: { enum: ["all", "primary", "standbys"] },
    run_once: { type: "boolean" },
    when: { enum: CONDITIONS },
    notify: { type: "array", items: { type: "string" } },
  },
};
const validate = new Ajv({ allErrors: true }).compile({
  type: "object",
  additionalProperties: false,
  required: ["name", "tasks"],
  properties: { name: { type: "string" }, tasks: { type: "array", items: taskSchema }, handlers: { type: "array", items: taskSchema } },
});

export function loadPlaybook(path: string): Playbook {
  let text: string;
  try {
    text = readInputFile(path, MiB, "a playbook");
  } catch (e) {
    const at = e as { line?: number; column?: number };
    throw new InputError([{ code: "playbook-unreadable", severity: "error", file: path, line: at.line ?? 1, ...(at.column ? { column: at.column } : {}), message: `cannot read playbook: ${(e as Error).message}` }]);
  }
  const src = parseYamlSource(text, path);
  if (!validate(src.value)) {
    throw new InputError(
      (validate.errors ?? []).map((e) =>
        diagAt(src, e.instancePath.split("/").slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s)), {
          code: "playbook-schema",
          severity: "error",
          message: `${e.message ?? e.keyword}${e.params && "allowedValues" in e.params ? `: ${(e.params.allowedValues as string[]).join(", ")}` : ""}`,
        }),
      ),
    );
  }
  const raw = src.value as { name: string; tasks: Partial<PlaybookTask>[]; handlers?: Partial<PlaybookTask>[] };
  const norm = (t: Partial<PlaybookTask>): PlaybookTask => ({ args: {}, hosts: "all", run_once: false, notify: [], ...t }) as PlaybookTask;
  const pb = { name: raw.name, file: path, tasks: raw.tasks.map(norm), handlers: (raw.handlers ?? []).map(norm) };
  const handlerNames = new Set(pb.handlers.map((h) => h.name));
  pb.tasks.forEach((t, i) =>
    t.notify.forEach((n, j) => {
      if (!handlerNames.has(n)) throw new InputError([diagAt(src, ["tasks", i, "notify", j], { code: "playbook-unknown-handler", severity: "error", message: `no handler named '${n}'` })]);
    }),
  );
  return pb;
}
