// The desired CIB, built on a node by Pacemaker's and crmsh's own tools: the live CIB with every
// configuration element pgha owns taken out, then cluster.crm loaded into it (crm configure load update,
// CIB_file, never the live cluster), then move constraints put back. crm_diff against the live CIB is
// then exactly the spec's drift, including elements the spec no longer has; cibadmin --patch applies it.
// Python is there wherever crmsh is (crmsh is written in it).

export const PGHA_DIR = "/var/lib/pgha";

const PY = `import sys, xml.etree.ElementTree as ET
keep = {"dc-version", "cluster-infrastructure", "cluster-name", "have-watchdog", "last-lrm-refresh"}
mode, src, dst = sys.argv[1:4]
tree = ET.parse(dst if mode == "restore" else src)
cfg = tree.getroot().find("configuration")
if mode == "strip":
    for tag in ("resources", "constraints", "rsc_defaults", "op_defaults"):
        s = cfg.find(tag)
        for ch in list(s if s is not None else []):
            s.remove(ch)
    for ps in list(cfg.find("crm_config") if cfg.find("crm_config") is not None else []):
        for nv in list(ps):
            if nv.tag == "nvpair" and nv.get("name") not in keep:
                ps.remove(nv)
else:
    # crm_resource --move/--ban leftovers are runtime state: reported by pgha, never dropped by it.
    live = ET.parse(src).getroot().find("configuration/constraints")
    ids = {e.get("id") for e in cfg.iter()}
    cons = cfg.find("constraints")
    for c in list(live if live is not None else []):
        if c.get("id", "").startswith("cli-") and c.get("rsc") in ids:
            cons.append(c)
tree.write(dst)
`;

/**
 * Reads cluster.crm on stdin. Prints CHANGED or UNCHANGED; leaves cib-live.xml, cib-desired.xml and
 * cib.patch in PGHA_DIR. Changes nothing in the cluster. Without keepMoveConstraints the patch also
 * removes crm_resource move/ban leftovers (only when the operator asks for it).
 */
export function desiredCibScript(opts: { keepMoveConstraints: boolean } = { keepMoveConstraints: true }): string {
  const d = PGHA_DIR;
  return [
    "set -e",
    `install -d -m 0700 ${d}`,
    `cat > ${d}/cluster.crm.new`,
    `cibadmin -Q > ${d}/cib-live.xml`,
    `python3 - strip ${d}/cib-live.xml ${d}/cib-desired.xml <<'PGHA_PY'\n${PY}PGHA_PY`,
    `CIB_file=${d}/cib-desired.xml crm -F -D plain configure load update ${d}/cluster.crm.new >/dev/null`,
    ...(opts.keepMoveConstraints ? [`python3 - restore ${d}/cib-live.xml ${d}/cib-desired.xml <<'PGHA_PY'\n${PY}PGHA_PY`] : []),
    `if crm_diff --no-version -o ${d}/cib-live.xml -n ${d}/cib-desired.xml > ${d}/cib.patch; then echo UNCHANGED; else echo CHANGED; fi`,
  ].join("\n");
}
