// How a corosync.conf change reaches running corosync: `corosync-cfgtool -R` re-reads the file on every
// node, but corosync keeps its old value for some keys and only logs "cannot be changed at run-time".
// Those need every node restarted together (nodes that disagree on them cannot talk). The list follows
// corosync 3.1's exec/cfg.c (remove_ro_entries). pgha adds one conservative case: a node's link
// address, which knet would have to re-plumb under a live membership.
// Pure: the flattened files in, the verdict out.

export type CorosyncApply = "none" | "reload" | "restart";

export interface CorosyncChange {
  apply: CorosyncApply;
  /** Every key whose value differs, added or removed (`totem.token`, `nodelist.node[2].ring0_addr`). */
  changed: string[];
  /** The keys that cannot be changed at run time. */
  needRestart: string[];
}

const RESTART: RegExp[] = [
  /^totem\.(secauth|crypto_\w+|keyfile|key|version|threads|ip_version|ip_dscp|rrp_mode|netmtu|transport|cluster_name)$/,
  /^totem\.interface\[\d+\]\.(ringnumber|linknumber|bindnetaddr|mcastaddr|broadcast|mcastport|ttl)$/,
  /^quorum\.provider$/,
  /^system\./,
  /^nodelist\.node\[\d+\]\.(ring\d+_addr|name)$/,
];

/**
 * Flattens corosync.conf into `section.key` paths. Repeated sections are told apart by what identifies
 * them: an interface by its linknumber (or ringnumber), a node by its nodeid.
 */
export function flattenCorosync(text: string): Map<string, string> {
  const out = new Map<string, string>();
  interface Frame {
    name: string;
    entries: [string, string][];
    children: [string, Frame][];
  }
  const root: Frame = { name: "", entries: [], children: [] };
  const stack = [root];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const open = /^([\w.-]+)\s*\{$/.exec(line);
    if (open) {
      const f: Frame = { name: open[1]!, entries: [], children: [] };
      stack.at(-1)!.children.push([open[1]!, f]);
      stack.push(f);
    } else if (line === "}") {
      if (stack.length > 1) stack.pop();
    } else {
      const kv = /^([\w.-]+)\s*:\s*(.*)$/.exec(line);
      if (kv) stack.at(-1)!.entries.push([kv[1]!, kv[2]!.trim()]);
    }
  }
  const walk = (f: Frame, prefix: string) => {
    for (const [k, v] of f.entries) out.set(`${prefix}${k}`, v);
    f.children.forEach(([name, child], i) => {
      const get = (k: string) => child.entries.find(([ek]) => ek === k)?.[1];
      const id = name === "interface" ? (get("linknumber") ?? get("ringnumber") ?? String(i)) : name === "node" ? (get("nodeid") ?? String(i)) : undefined;
      walk(child, `${prefix}${name}${id === undefined ? "" : `[${id}]`}.`);
    });
  };
  walk(root, "");
  return out;
}

/** What it takes to bring corosync from `running` (the file it runs with) to `desired`. */
export function classifyCorosyncChange(running: string, desired: string): CorosyncChange {
  const a = flattenCorosync(running);
  const b = flattenCorosync(desired);
  const changed = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
  // A node that is new (or gone) as a whole is the documented add/remove-a-node reload, not an address change.
  const nodeOf = (k: string) => /^nodelist\.node\[(\d+)\]\./.exec(k)?.[1];
  const existsInBoth = (k: string) => {
    const id = nodeOf(k);
    return id === undefined || (a.has(`nodelist.node[${id}].nodeid`) && b.has(`nodelist.node[${id}].nodeid`));
  };
  const needRestart = changed.filter((k) => RESTART.some((re) => re.test(k)) && existsInBoth(k));
  return { apply: needRestart.length ? "restart" : changed.length ? "reload" : "none", changed, needRestart };
}
