// The desired CIB, built on a node by Pacemaker's and crmsh's own tools: the live CIB with every
// configuration element pgha owns taken out, then cluster.crm loaded into it (crm configure load update,
// CIB_file, never the live cluster), then move constraints put back. crm_diff against the live CIB is
// then exactly the spec's drift, including elements the spec no longer has; cibadmin --patch applies it.
// Python is there wherever crmsh is (crmsh is written in it).
//
// crmsh costs seconds per comparison, so a verified match is remembered in a stamp: the hash of the
// cluster.crm that was compared and a digest of the live configuration it matched. While both are the
// same, the CIB still matches and crmsh is not asked again. The digest leaves out what Pacemaker changes
// at run time (node attributes such as pgsql-data-status, dc-version, last-lrm-refresh), and any other
// change to the configuration, by hand or by Pacemaker, makes the next run compare in full.

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

const py = (mode: string, src: string, dst: string) => `python3 - ${mode} ${src} ${dst} <<'PGHA_PY'\n${PY}PGHA_PY`;

/**
 * The live configuration's digest: the configuration section as cibadmin prints it (one element per
 * line), without the nodes section and the properties Pacemaker maintains. awk, not Python: it runs
 * on every no-op, and Python's start-up alone costs more than the whole pipeline.
 */
const digestOf = (live: string) =>
  `awk '/<configuration>/ { c = 1 } /<nodes>/ { n = 1 } c && !n && !/id="cib-bootstrap-options-(dc-version|cluster-infrastructure|cluster-name|have-watchdog|last-lrm-refresh)"/ { print } /<\\/nodes>/ { n = 0 } /<\\/configuration>/ { c = 0 }' ${live} | sha256sum`;

/** Shell that sets $stamp for cluster file `crm` against the live CIB saved in `live` (sha256sum prints "HASH  -"). */
const stampOf = (crm: string, live: string) => `h=$(sha256sum < ${crm}); l=$(${digestOf(live)}); stamp="\${h%% *} \${l%% *}"`;

/**
 * Reads cluster.crm on stdin. Prints CHANGED or UNCHANGED; leaves cib-live.xml, cib-desired.xml and
 * cib.patch in `dir`. Changes nothing in the cluster. With `commit`, an UNCHANGED cluster.crm is kept as
 * the applied one right away (a no-op run then needs no second command). Without keepMoveConstraints
 * the patch also removes crm_resource move/ban leftovers (only when the operator asks for it), and the
 * stamp is not trusted, because it was taken with the leftovers kept.
 */
export function desiredCibScript(opts: { keepMoveConstraints?: boolean; dir?: string; commit?: boolean } = {}): string {
  const d = opts.dir ?? PGHA_DIR;
  const keep = opts.keepMoveConstraints ?? true;
  const unchanged = `${opts.commit ? `mv ${d}/cluster.crm.new ${d}/cluster.crm; ` : ""}echo UNCHANGED`;
  return [
    "set -e",
    `[ -d ${d} ] || install -d -m 0700 ${d}`,
    `cat > ${d}/cluster.crm.new`,
    `cibadmin -Q > ${d}/cib-live.xml`,
    stampOf(`${d}/cluster.crm.new`, `${d}/cib-live.xml`),
    `old=; [ ! -f ${d}/cib.stamp ] || IFS= read -r old < ${d}/cib.stamp || true`,
    `if ${keep ? "true" : "false"} && [ "$old" = "$stamp" ]; then`,
    `cp ${d}/cib-live.xml ${d}/cib-desired.xml; : > ${d}/cib.patch; ${unchanged}`,
    "else",
    py("strip", `${d}/cib-live.xml`, `${d}/cib-desired.xml`),
    `CIB_file=${d}/cib-desired.xml crm -F -D plain configure load update ${d}/cluster.crm.new >/dev/null`,
    ...(keep ? [py("restore", `${d}/cib-live.xml`, `${d}/cib-desired.xml`)] : []),
    `if crm_diff --no-version -o ${d}/cib-live.xml -n ${d}/cib-desired.xml > ${d}/cib.patch; then echo "$stamp" > ${d}/cib.stamp; ${unchanged}; else echo CHANGED; fi`,
    "fi",
  ].join("\n");
}

/** After desiredCibScript said CHANGED: applies the patch, keeps cluster.crm, and stamps the result. */
export function applyCibPatchScript(dir = PGHA_DIR): string {
  const d = dir;
  return [
    "set -e",
    `cibadmin --patch --xml-file ${d}/cib.patch`,
    `mv ${d}/cluster.crm.new ${d}/cluster.crm`,
    `cibadmin -Q > ${d}/cib-live.xml`,
    stampOf(`${d}/cluster.crm`, `${d}/cib-live.xml`),
    `echo "$stamp" > ${d}/cib.stamp`,
  ].join("\n");
}
