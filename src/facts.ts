// Facts: what a host looks like now, read in ONE remote command per host, so a no-op run costs one round
// trip. The script is generated here and its output parsed here; both are pure and unit-tested.
import type { ClusterModel, ManagedDirectory, ManagedFile } from "./model/types.js";
import { PGHA_DIR } from "./cib-script.js";
import { shq } from "./shell.js";

export interface FileFact {
  exists: boolean;
  /** sha256 of the content without agent-owned lines. */
  sha256?: string;
  owner?: string;
  group?: string;
  mode?: string;
  /** Agent-owned lines found in the file, in order, each with whether its include target exists. */
  agentLines: { line: string; targetExists: boolean }[];
}

export interface HostFacts {
  hostname: string;
  files: Record<string, FileFact>;
  services: Record<string, "active" | "inactive">;
  binaries: Record<string, string | undefined>;
  interfaces: string[];
  addresses: string[];
  dataDirectory: "missing" | "empty" | "initialized";
  pgVersion?: number;
  /** Directories by path: undefined when missing. */
  directories: Record<string, { owner: string; group: string; mode: string } | undefined>;
  /** Whether a postmaster runs on this data directory. */
  postgresRunning: boolean;
  /** The pgsql agent's PGSQL.lock exists (left by a primary that did not stop cleanly). */
  pgsqlLock: boolean;
  /** First line of `pacemakerd --version`, `corosync -v` and `postgres --version`. */
  versions: Record<"pacemaker" | "corosync" | "postgres", string>;
  /**
   * ocf-shellfuncs passes `crm_attribute -p $@`: with Pacemaker 2.1.5's crm_attribute, `-v -INFINITY` is
   * then read as options and the pgsql agent's start retries until it times out (Debian 12 as shipped).
   */
  promotionScoreUnpatched: boolean;
  /**
   * How many primitives the node's CIB holds, and its epoch, read from cib.xml: what a stopped node
   * would start with, and on a running node the file Pacemaker keeps in step with the live CIB (reading
   * it costs a grep; asking Pacemaker, a cibadmin on every host).
   */
  cib?: { primitives: number; epoch: string };
  /** corosync started after corosync.conf was last written, so it runs that file. */
  corosyncRunsFile: boolean;
  /** corosync.conf is the copy pgha kept when it last applied one. */
  corosyncRecorded: boolean;
}

export const SERVICES = ["corosync", "pacemaker"] as const;
export const COROSYNC_CONF = "/etc/corosync/corosync.conf";
export const COROSYNC_APPLIED = `${PGHA_DIR}/corosync.conf.applied`;

/** Binaries the build needs on every node, by purpose. */
export function requiredBinaries(model: ClusterModel): string[] {
  return ["corosync", "pacemakerd", "crm", "cibadmin", "crm_mon", "crm_attribute", `${model.postgresql.bindir}/pg_ctl`, `${model.postgresql.bindir}/initdb`, `${model.postgresql.bindir}/pg_basebackup`];
}


/** The agent-line pattern as an ERE for grep (the JS RegExp source without its anchors is portable here). */
const ere = (re: RegExp): string => re.source;

/**
 * One POSIX sh script that prints tab-separated fact lines. It forks as little as it can (a fork costs
 * milliseconds on a busy host, and a no-op run is mostly this script): shell builtins where they do,
 * one sha256sum and one stat for all managed files, and the binaries' versions cached in PGHA_DIR
 * under the binaries' size and mtime, so they are asked only after an upgrade.
 */
export function factsScript(model: ClusterModel, files: ManagedFile[], directories: ManagedDirectory[] = [], stateDir = PGHA_DIR): string {
  const pg = model.postgresql;
  const versionBins = ["pacemakerd", "corosync", `${pg.bindir}/postgres`];
  const plain = files.filter((f) => !f.agentLines).map((f) => shq(f.path));
  const lines = [
    "export LC_ALL=C",
    'IFS= read -r hn < /proc/sys/kernel/hostname && echo "HOSTNAME\t$hn"',
    ...SERVICES.map((s) => `if systemctl is-active --quiet ${s} 2>/dev/null; then echo "SERVICE\t${s}\tactive"; else echo "SERVICE\t${s}\tinactive"; fi`),
    `for b in ${requiredBinaries(model).map(shq).join(" ")}; do if command -v "$b" >/dev/null 2>&1; then printf 'BIN\\t%s\\tfound\\n' "$b"; else printf 'BIN\\t%s\\t\\n' "$b"; fi; done`,
    `for n in /sys/class/net/*; do printf 'NIC\\t%s\\n' "\${n##*/}"; done`,
    `ip -o -4 addr show | awk '{sub(/\\/.*/, "", $4); print "ADDR\\t" $4}'`,
    // Versions, cached under the binaries' identity (path, size, mtime).
    `sig=$(stat -L -c '%n %s %Y' $(for b in pacemakerd corosync; do command -v $b; done) ${shq(versionBins[2]!)} 2>/dev/null | tr '\\n' ' ')`,
    `vc=${stateDir}/versions.cache`,
    `if [ -f "$vc" ] && IFS= read -r first < "$vc" && [ "$first" = "$sig" ]; then sed 1d "$vc"; else`,
    `  v=$(printf 'VERSION\\tpacemaker\\t%s\\nVERSION\\tcorosync\\t%s\\nVERSION\\tpostgres\\t%s\\n' "$(pacemakerd --version 2>/dev/null | head -1)" "$(corosync -v 2>/dev/null | head -1)" "$(${shq(versionBins[2]!)} --version 2>/dev/null | head -1)")`,
    `  printf '%s\\n' "$v"; if [ -d ${stateDir} ]; then printf '%s\\n%s\\n' "$sig" "$v" > "$vc.$$" && mv -f "$vc.$$" "$vc"; fi`,
    "fi",
    `if grep -q 'crm_attribute -p \$@' /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs 2>/dev/null; then echo "PROMOTION_SCORE_UNPATCHED"; fi`,
    `d=${shq(pg.dataDirectory)}`,
    'if [ -f "$d/postmaster.pid" ] && IFS= read -r pid < "$d/postmaster.pid" && kill -0 "$pid" 2>/dev/null; then echo "PGRUNNING"; fi',
    ...(pg.tmpdir ? [`if [ -e ${shq(`${pg.tmpdir}/PGSQL.lock`)} ]; then echo "PGSQLLOCK"; fi`] : []),
    'if [ ! -d "$d" ]; then echo "DATADIR\tmissing"; elif [ -z "$(ls -A "$d" 2>/dev/null)" ]; then echo "DATADIR\tempty"; else v=; [ -f "$d/PG_VERSION" ] && IFS= read -r v < "$d/PG_VERSION"; echo "DATADIR\tinitialized\t$v"; fi',
    // The CIB's epoch tells whether a run touched it; primitives tell whether the cluster is configured.
    `if [ -f /var/lib/pacemaker/cib/cib.xml ]; then awk 'NR == 1 && match($0, / epoch="[0-9]*"/) { e = substr($0, RSTART + 8, RLENGTH - 9) } /<primitive / { n++ } END { printf "CIB\\t%d\\t%s\\n", n, e }' /var/lib/pacemaker/cib/cib.xml; fi`,
    // What corosync runs with (see corosync_apply): the file, if it started after the file was written.
    `c=${COROSYNC_CONF}`,
    `if cmp -s "$c" ${COROSYNC_APPLIED} 2>/dev/null; then echo COROSYNC_RECORDED; fi`,
    `if pid=$(pidof corosync) && [ $(( $(date +%s) - $(ps -o etimes= -p "\${pid%% *}") )) -gt "$(stat -c %Y "$c" 2>/dev/null || echo 0)" ]; then echo COROSYNC_RUNS_FILE; fi`,
    ...(directories.length ? [`for p in ${directories.map((d) => shq(d.path)).join(" ")}; do [ -d "$p" ] || printf 'DIR\\t%s\\t-\\n' "$p"; done`, `stat -c 'DIR\t%n\t%U\t%G\t%04a' ${directories.map((d) => shq(d.path)).join(" ")} 2>/dev/null`] : []),
    ...(files.length ? [`for p in ${files.map((f) => shq(f.path)).join(" ")}; do [ -f "$p" ] || printf 'FILE\\t%s\\t-\\n' "$p"; done`, `stat -c 'MODE\t%n\t%U\t%G\t%04a' ${files.map((f) => shq(f.path)).join(" ")} 2>/dev/null`] : []),
    ...(plain.length ? [`sha256sum ${plain.join(" ")} 2>/dev/null | awk '{ h = $1; sub(/^[^ ]+  /, ""); printf "HASH\\t%s\\t%s\\n", $0, h }'`] : []),
  ];
  for (const f of files.filter((x) => x.agentLines)) {
    const p = shq(f.path);
    const re = shq(ere(f.agentLines!));
    // The hash leaves out the agent's own lines; each of those is listed with whether its include target exists.
    lines.push(
      `if [ -f ${p} ]; then printf 'HASH\\t%s\\t%s\\n' ${p} "$( { grep -v -E ${re} ${p} || true; } | sha256sum | cut -d' ' -f1)"; grep -E ${re} ${p} | while IFS= read -r l; do t=\${l#include \\'}; t=\${t%%\\'*}; if [ "$t" != "$l" ] && [ -e "$t" ]; then e=1; else e=0; fi; printf 'AGENTLINE\\t%s\\t%s\\t%s\\n' ${p} "$e" "$l"; done; fi`,
    );
  }
  return lines.join("\n") + "\n";
}

export function parseFacts(output: string): HostFacts {
  const facts: HostFacts = { hostname: "", files: {}, services: {}, binaries: {}, interfaces: [], addresses: [], dataDirectory: "missing", directories: {}, postgresRunning: false, pgsqlLock: false, versions: { pacemaker: "", corosync: "", postgres: "" }, promotionScoreUnpatched: false, corosyncRunsFile: false, corosyncRecorded: false };
  for (const raw of output.split("\n")) {
    const [kind, ...f] = raw.split("\t");
    switch (kind) {
      case "HOSTNAME":
        facts.hostname = f[0] ?? "";
        break;
      case "SERVICE":
        facts.services[f[0]!] = f[1] === "active" ? "active" : "inactive";
        break;
      case "BIN":
        facts.binaries[f[0]!] = f[1] || undefined;
        break;
      case "NIC":
        facts.interfaces.push(f[0]!);
        break;
      case "ADDR":
        facts.addresses.push(f[0]!);
        break;
      case "DATADIR":
        facts.dataDirectory = f[0] as HostFacts["dataDirectory"];
        if (f[1]) facts.pgVersion = Number(f[1]);
        break;
      case "FILE":
        facts.files[f[0]!] = { exists: false, agentLines: [] };
        break;
      case "HASH":
        (facts.files[f[0]!] ??= { exists: true, agentLines: [] }).sha256 = f[1];
        break;
      case "MODE":
        Object.assign((facts.files[f[0]!] ??= { exists: true, agentLines: [] }), { owner: f[1], group: f[2], mode: f[3] });
        break;
      case "VERSION":
        if (f[0] === "pacemaker" || f[0] === "corosync" || f[0] === "postgres") facts.versions[f[0]] = f[1] ?? "";
        break;
      case "PROMOTION_SCORE_UNPATCHED":
        facts.promotionScoreUnpatched = true;
        break;
      case "PGRUNNING":
        facts.postgresRunning = true;
        break;
      case "PGSQLLOCK":
        facts.pgsqlLock = true;
        break;
      case "DIR":
        if (f[1] !== "-") facts.directories[f[0]!] = { owner: f[1]!, group: f[2]!, mode: f[3]! };
        else if (!(f[0]! in facts.directories)) facts.directories[f[0]!] = undefined;
        break;
      case "CIB":
        facts.cib = { primitives: Number(f[0]), epoch: f[1] ?? "" };
        break;
      case "COROSYNC_RECORDED":
        facts.corosyncRecorded = true;
        break;
      case "COROSYNC_RUNS_FILE":
        facts.corosyncRunsFile = true;
        break;
      case "AGENTLINE": {
        const file = (facts.files[f[0]!] ??= { exists: true, agentLines: [] });
        file.agentLines.push({ targetExists: f[1] === "1", line: f.slice(2).join("\t") });
        break;
      }
    }
  }
  return facts;
}
