// The operator's switches: what a person sets by hand to hold Pacemaker back (maintenance mode, a stopped
// or unmanaged resource, a node in standby). They are runtime state, not drift: apply keeps them (see
// cib-script.ts), and diff, status and apply say each one that holds something back. Read from the CIB's
// configuration (cibadmin -Q), not from crm_mon, which cannot tell a switch from what follows from it.
import { XMLParser } from "fast-xml-parser";
import { arr, type X } from "./status.js";

export interface RuntimeSwitch {
  /** The cluster property, a resource's meta attribute, or a permanent node attribute. */
  on: "cluster" | "resource" | "node";
  /** Resource id or node name; the cluster's name is not needed. */
  target: string;
  name: string;
  value: string;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  isArray: (name) => ["cluster_property_set", "meta_attributes", "instance_attributes", "nvpair", "node", "primitive", "group", "clone", "master", "bundle"].includes(name),
});

/** Pacemaker's own reading of a boolean. */
export const truthy = (v: string) => /^(true|on|yes|y|1)$/i.test(v);

const RESOURCE_TAGS = ["primitive", "group", "clone", "master", "bundle"];

/** The switches that hold something back, in CIB order: a switch set to its default (is-managed=true) is none. */
export function runtimeSwitches(cibXml: string): RuntimeSwitch[] {
  const doc = parser.parse(cibXml) as X;
  const cfg = ((doc.cib as X | undefined)?.configuration ?? doc.configuration ?? {}) as X;
  const out: RuntimeSwitch[] = [];
  const pairs = (el: X, tag: string) => arr(el[tag]).flatMap((s) => arr(s.nvpair));
  for (const set of arr((cfg.crm_config as X | undefined)?.cluster_property_set)) {
    for (const p of arr(set.nvpair)) if (p.name === "maintenance-mode" && truthy(String(p.value))) out.push({ on: "cluster", target: "", name: "maintenance-mode", value: String(p.value) });
  }
  const walk = (el: X) => {
    for (const tag of RESOURCE_TAGS) {
      for (const r of arr(el[tag])) {
        for (const p of pairs(r, "meta_attributes")) {
          const name = String(p.name);
          const value = String(p.value);
          const holds = name === "target-role" ? /^(stopped|unpromoted|slave)$/i.test(value) : name === "is-managed" ? !truthy(value) : name === "maintenance" && truthy(value);
          if (holds) out.push({ on: "resource", target: String(r.id), name, value });
        }
        walk(r);
      }
    }
  };
  walk((cfg.resources ?? {}) as X);
  for (const n of arr((cfg.nodes as X | undefined)?.node)) {
    for (const p of pairs(n, "instance_attributes")) {
      if ((p.name === "standby" || p.name === "maintenance") && truthy(String(p.value))) out.push({ on: "node", target: String(n.uname), name: String(p.name), value: String(p.value) });
    }
  }
  return out;
}

/**
 * One line per switch: what it holds back and the command that removes it. The commands are Pacemaker's
 * own (crm_attribute, crm_resource), which every node has, with crmsh or pcs; each deletes the switch
 * rather than setting its opposite, as the cluster was before it was set.
 */
export function switchWarning(s: RuntimeSwitch): string {
  switch (s.on) {
    case "cluster":
      return `maintenance-mode=${s.value}: Pacemaker will not act until it is removed (crm_attribute --name maintenance-mode --delete)`;
    case "resource": {
      const what = s.name === "target-role" ? `Pacemaker keeps ${s.target} ${s.value.toLowerCase()}` : `Pacemaker does not manage ${s.target}`;
      return `${s.target} ${s.name}=${s.value} set by hand: ${what} (crm_resource --resource ${s.target} --meta --delete-parameter ${s.name})`;
    }
    case "node":
      return s.name === "standby"
        ? `node ${s.target} is in standby (set by hand): it runs no resources (crm_attribute --node ${s.target} --name standby --delete)`
        : `node ${s.target} is in maintenance (set by hand): Pacemaker does not act on it (crm_attribute --node ${s.target} --name maintenance --delete)`;
  }
}

/** Whether node `node` has switch `name` (standby, maintenance) in the configuration. */
export const nodeSwitched = (switches: RuntimeSwitch[], node: string, name: string) => switches.some((s) => s.on === "node" && s.target === node && s.name === name);
