// The desired CIB, built on a node by Pacemaker's own tools and crmsh or pcs: the live CIB with every
// configuration element pgha owns taken out, then cluster.crm loaded into it (crm configure load update,
// CIB_file, never the live cluster) or, on a node with pcs and no crmsh, cluster.pcs run against it
// (pcs -f, the same CIB: test/unit/pcs-render.test.ts), then the operator's runtime state put back: move constraints,
// maintenance-mode, target-role, is-managed and maintenance of a resource the spec keeps (node standby
// and maintenance are never taken out). crm_diff against the live CIB is then exactly the spec's drift,
// including elements the spec no longer has; cibadmin --patch applies it.
// Python is there wherever crmsh or pcs is (both are written in it).
//
// crmsh costs seconds per comparison, so a verified match is remembered in a stamp: the hash of the
// cluster.crm that was compared and a digest of the live configuration it matched. While both are the
// same, the CIB still matches and crmsh is not asked again. The digest leaves out what Pacemaker changes
// at run time (node attributes such as pgsql-data-status, dc-version, last-lrm-refresh), and any other
// change to the configuration, by hand or by Pacemaker, makes the next run compare in full. A switch set
// by hand is such a change; once compared, the stamp holds it, so a no-op stays one while it is set.

import type { RenderedCluster } from "./render.js";

export const PGHA_DIR = "/var/lib/pgha";

/** The programs that load a configuration into a CIB file; a node needs one of them. */
export const CIB_TOOLS = ["crm", "pcs"] as const;
export type CibTool = (typeof CIB_TOOLS)[number];

/**
 * Which tool builds the desired CIB on a node that has the programs `has` says, and the text it loads:
 * crmsh where it is installed (pcs takes about a second a command, crmsh seconds for the whole file),
 * else pcs with cluster.pcs. Pure.
 */
export function cibLoader(rendered: RenderedCluster, has: (program: string) => boolean): { tool: CibTool; input: string } | { problem: string } {
  if (has("crm")) return { tool: "crm", input: rendered.crm };
  if (!has("pcs")) return { problem: "neither crmsh (crm) nor pcs is installed: the node needs one of them to build the CIB (Debian/Ubuntu: apt-get install crmsh or pcs; RHEL 8/9: dnf install pcs)" };
  if ("unavailable" in rendered.pcs) return { problem: `this node has pcs and no crmsh, and the configuration has no pcs form: ${rendered.pcs.unavailable}` };
  return { tool: "pcs", input: rendered.pcs.script };
}

const loadCommand = (tool: CibTool, t: string) =>
  tool === "crm" ? `CIB_file=${t}/cib-desired.xml crm -F -D plain configure load update ${t}/cluster.crm >/dev/null` : `CIB=${t}/cib-desired.xml sh ${t}/cluster.pcs >/dev/null`;

const PY = `import sys, xml.etree.ElementTree as ET
keep = {"dc-version", "cluster-infrastructure", "cluster-name", "have-watchdog", "last-lrm-refresh"}
mode, src, dst, kept = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
tree = ET.parse(dst if mode == "restore" else src)
cfg = tree.getroot().find("configuration")
kids = lambda e: list(e) if e is not None else []
if mode == "strip":
    for tag in ("resources", "constraints", "rsc_defaults", "op_defaults"):
        s = cfg.find(tag)
        for ch in kids(s):
            s.remove(ch)
    for ps in kids(cfg.find("crm_config")):
        for nv in list(ps):
            if nv.tag == "nvpair" and nv.get("name") not in keep:
                ps.remove(nv)
    # Node attributes are not pgha's (pgsql-data-status lives there) and stay, but for switches to clear.
    if "runtime-switches" not in kept:
        for s in [s for n in kids(cfg.find("nodes")) for s in n.findall("instance_attributes")]:
            for nv in [nv for nv in s.findall("nvpair") if nv.get("name") in ("standby", "maintenance")]:
                s.remove(nv)
else:
    live = ET.parse(src).getroot().find("configuration")
    ids = {e.get("id") for e in cfg.iter()}
    if "move-constraints" in kept:
        # crm_resource --move/--ban leftovers are runtime state: reported by pgha, never dropped by it.
        for c in kids(live.find("constraints")):
            if c.get("id", "").startswith("cli-") and c.get("rsc") in ids:
                cfg.find("constraints").append(c)
    if "runtime-switches" in kept:
        # The operator's switches, carried from the live element to the same element of the desired CIB,
        # in the set of the same id, unless the spec sets the same name there itself (the spec wins).
        def carry(have, want, tag, names):
            if have is None or want is None:
                return
            named = {nv.get("name") for s in want.findall(tag) for nv in s.findall("nvpair")}
            for s in have.findall(tag):
                for nv in s.findall("nvpair"):
                    if nv.get("name") not in names or nv.get("name") in named or nv.get("id") in ids:
                        continue
                    into = next((x for x in want.findall(tag) if x.get("id") == s.get("id")), None)
                    if into is None:
                        if s.get("id") in ids:
                            continue
                        # where the live element has it: crm_diff counts a moved child as a change
                        into = ET.Element(tag, dict(s.attrib))
                        want.insert(list(have).index(s), into)
                        ids.add(s.get("id"))
                    into.append(nv)
                    ids.add(nv.get("id"))
        carry(live.find("crm_config"), cfg.find("crm_config"), "cluster_property_set", {"maintenance-mode"})
        rsc = {e.get("id"): e for e in cfg.find("resources").iter() if e.tag in ("primitive", "group", "clone", "master", "bundle")}
        for e in live.find("resources").iter():
            if e.tag in ("primitive", "group", "clone", "master", "bundle"):
                carry(e, rsc.get(e.get("id")), "meta_attributes", {"target-role", "is-managed", "maintenance"})
tree.write(dst)
`;

/** Runtime state that the operator sets by hand: kept by apply, removed only on request. */
export const RUNTIME_STATE = ["move-constraints", "runtime-switches"] as const;
export type RuntimeState = (typeof RUNTIME_STATE)[number];

const py = (mode: string, src: string, dst: string, kept: readonly RuntimeState[]) =>
  `python3 - ${mode} ${src} ${dst} ${kept.join(",") || "-"} <<'PGHA_PY'\n${PY}PGHA_PY`;

/**
 * The live configuration's digest: the configuration section as cibadmin prints it (one element per
 * line), without the nodes section and the properties Pacemaker maintains. awk, not Python: it runs
 * on every no-op, and Python's start-up alone costs more than the whole pipeline.
 */
const digestOf = (live: string) =>
  `awk '/<configuration>/ { c = 1 } /<nodes>/ { n = 1 } c && !n && !/id="cib-bootstrap-options-(dc-version|cluster-infrastructure|cluster-name|have-watchdog|last-lrm-refresh)"/ { print } /<\\/nodes>/ { n = 0 } /<\\/configuration>/ { c = 0 }' ${live} | sha256sum`;

/** Shell that sets $stamp for cluster file `crm` against the live CIB saved in `live` (sha256sum prints "HASH  -"). */
const stampOf = (crm: string, live: string) => `h=$(sha256sum < ${crm}); l=$(${digestOf(live)}); stamp="\${h%% *} \${l%% *}"`;

/** What earlier versions of pgha kept in PGHA_DIR, fence passwords included: removed where found. */
const LEFT_BEHIND = ["cluster.crm", "cluster.pcs", "cluster.crm.new", "cluster.pcs.new", "cib-live.xml", "cib-desired.xml", "cib-simulated.xml", "cib.patch"];

/**
 * Reads cluster.crm (cluster.pcs with tool pcs) on stdin. Prints CHANGED or UNCHANGED, and after CHANGED the maintenance-mode the
 * desired CIB sets, if it sets one (`maintenance-mode=VALUE`); then runs `then` (shell), which finds
 * cib-live.xml, cib-desired.xml and cib.patch (empty when UNCHANGED) in "$t". Changes nothing in the
 * cluster unless `then` does (applyCibPatch). Those files and the cluster file hold the fence devices'
 * passwords: "$t" is a directory of its own that goes when the script exits, however it ends (an error,
 * a signal, a dropped SSH session), so only the stamp, a hash, stays in `dir`. Runtime state named in
 * `clear` is removed by the patch (only when the operator asks for it), and then the stamp is not
 * trusted, because it was taken with that state kept.
 */
export function desiredCibScript(opts: { clear?: readonly RuntimeState[]; dir?: string; tool?: CibTool; then?: string } = {}): string {
  const d = opts.dir ?? PGHA_DIR;
  const tool = opts.tool ?? "crm";
  const t = '"$t"';
  const file = `${t}/cluster.${tool === "crm" ? "crm" : "pcs"}`;
  const kept = RUNTIME_STATE.filter((s) => !opts.clear?.includes(s));
  const trusted = kept.length === RUNTIME_STATE.length;
  const changed = `echo CHANGED; m=$(CIB_file=${t}/cib-desired.xml crm_attribute -t crm_config -n maintenance-mode -G -q 2>/dev/null || true); [ -z "$m" ] || echo "maintenance-mode=$m"`;
  return [
    "set -e",
    `[ -d ${d} ] || install -d -m 0700 ${d}`,
    `for f in ${LEFT_BEHIND.map((f) => `${d}/${f}`).join(" ")}; do [ ! -e "$f" ] || rm -f "$f"; done`,
    // A signal ends the script through exit, so the EXIT trap runs then too.
    `t=; trap 'rm -rf "$t"' EXIT; trap 'exit 1' HUP INT TERM PIPE`,
    `t=$(mktemp -d ${d}/cib.XXXXXX)`,
    `cluster=${file}`,
    `cat > "$cluster"`,
    `cibadmin -Q > ${t}/cib-live.xml`,
    stampOf('"$cluster"', `${t}/cib-live.xml`),
    `old=; [ ! -f ${d}/cib.stamp ] || IFS= read -r old < ${d}/cib.stamp || true`,
    `if ${trusted} && [ "$old" = "$stamp" ]; then`,
    `cp ${t}/cib-live.xml ${t}/cib-desired.xml; : > ${t}/cib.patch; echo UNCHANGED`,
    "else",
    py("strip", `${t}/cib-live.xml`, `${t}/cib-desired.xml`, kept),
    loadCommand(tool, t),
    py("restore", `${t}/cib-live.xml`, `${t}/cib-desired.xml`, kept),
    `if crm_diff --no-version -o ${t}/cib-live.xml -n ${t}/cib-desired.xml > ${t}/cib.patch; then echo "$stamp" > ${d}/cib.stamp; echo UNCHANGED; else ${changed}; fi`,
    "fi",
    ...(opts.then ? [opts.then] : []),
  ].join("\n");
}

/**
 * desiredCibScript for the node's tool (cibLoader), with the text it reads on stdin. A node with pcs only
 * and no pcs form throws; with neither tool, crmsh is tried (preflight has said what is missing; diff
 * runs none, and then reports the node's own "not found").
 */
export function desiredCib(rendered: RenderedCluster, has: (program: string) => boolean, opts: { clear?: readonly RuntimeState[]; then?: string } = {}): { script: string; stdin: string } {
  const l = cibLoader(rendered, (b) => has(b) || (b === "crm" && !has("pcs")));
  if ("problem" in l) throw new Error(l.problem);
  return { script: desiredCibScript({ ...opts, tool: l.tool }), stdin: l.input };
}

/** desiredCibScript's `then` that applies the patch when there is one, and stamps the result. */
export function applyCibPatch(dir = PGHA_DIR): string {
  return [
    `if [ -s "$t"/cib.patch ]; then`,
    `cibadmin --patch --xml-file "$t"/cib.patch`,
    `cibadmin -Q > "$t"/cib-live.xml`,
    stampOf('"$cluster"', '"$t"/cib-live.xml'),
    `echo "$stamp" > ${dir}/cib.stamp`,
    "fi",
  ].join("\n");
}
