// A scratch CIB file for real Pacemaker tools (crmsh, crm_simulate, crm_verify): no cluster runs.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Node name -> its transient attributes (the ones the agents and ping keep on a running cluster). */
export type Attrs = Record<string, Record<string, string>>;

export const missingTools = (tools: string[]): string[] => tools.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);

/** Runs a command; throws with its output when it fails. */
function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", env, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command and returns its stdout; throws with its output when it fails. */
export const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string => exec(cmd, args, env).stdout;

/**
 * A CIB file with the nodes of `attrs` online and quorate, each with its transient attributes, and
 * cluster.crm loaded by crmsh (`crm configure load update`); `load` is what crmsh printed.
 */
export function scratchCib(crm: string, attrs: Attrs): { file: string; load: string } {
  const dir = mkdtempSync(join(tmpdir(), "pgha-cib-"));
  const names = Object.keys(attrs);
  const nodes = names.map((n, i) => `<node id="${i + 1}" uname="${n}"/>`).join("");
  const states = names
    .map((n, i) => {
      const nv = Object.entries(attrs[n]!).map(([k, v]) => `<nvpair id="status-${i + 1}-${k}" name="${k}" value="${v}"/>`).join("");
      return `<node_state id="${i + 1}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member"><transient_attributes id="${i + 1}"><instance_attributes id="status-${i + 1}">${nv}</instance_attributes></transient_attributes></node_state>`;
    })
    .join("");
  const cib = run("cibadmin", ["--empty"]).replace("<cib ", '<cib have-quorum="1" ').replace("<nodes/>", `<nodes>${nodes}</nodes>`).replace("<status/>", `<status>${states}</status>`);
  writeFileSync(join(dir, "cib-0.xml"), cib);
  writeFileSync(join(dir, "cluster.crm"), crm);
  const load = exec("crm", ["-D", "plain", "configure", "load", "update", join(dir, "cluster.crm")], { ...process.env, CIB_file: join(dir, "cib-0.xml"), HOME: dir });
  return { file: join(dir, "cib-0.xml"), load: load.stdout + load.stderr };
}
