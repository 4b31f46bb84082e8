// Facts: what a host looks like now, read in ONE remote command per host, so a no-op run costs one round
// trip. The script is generated here and its output parsed here; both are pure and unit-tested.
import type { ClusterModel, ManagedDirectory, ManagedFile } from "./model/types.js";
import { CIB_TOOLS, PGHA_DIR } from "./cib-script.js";
import { shq } from "./shell.js";

export interface FileFact {
  exists: boolean;
  /** sha256 of the content without agent-owned lines. */
  sha256?: string;
  owner?: string;
  group?: string;
  mode?: string;
  /** The path is a symbolic link: pgha never writes through one (see symlinkProblems). */
  symlink?: boolean;
  /** Agent-owned lines found in the file, in order, each with whether its include target exists. */
  agentLines: { line: string; targetExists: boolean }[];
}

export interface HostFacts {
  hostname: string;
  files: Record<string, FileFact>;
  services: Record<string, "active" | "inactive">;
  /** Whether each of SERVICES starts at boot (systemctl is-enabled). */
  enabled: Record<string, boolean>;
  binaries: Record<string, string | undefined>;
  interfaces: string[];
  addresses: string[];
  dataDirectory: "missing" | "empty" | "initialized";
  pgVersion?: number;
  /**
   * Managed paths and their ancestors that are symbolic links, with the link's owner: a link that a user
   * planted would send root's writes, chown and chmod wherever the user likes.
   */
  symlinks: Record<string, string>;
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
  /** /etc/corosync/authkey: its sha256 only to compare between nodes (never printed), owner, mode, size. */
  authkey?: { sha256?: string; owner: string; group: string; mode: string; size: number };
}

export const SERVICES = ["corosync", "pacemaker"] as const;
export const COROSYNC_CONF = "/etc/corosync/corosync.conf";
export const COROSYNC_APPLIED = `${PGHA_DIR}/corosync.conf.applied`;
export const COROSYNC_AUTHKEY = "/etc/corosync/authkey";

/** Binaries the build needs on every node, by purpose; and one of CIB_TOOLS (crmsh or pcs), also found. */
export function requiredBinaries(model: ClusterModel): string[] {
  return ["corosync", "pacemakerd", "cibadmin", "crm_mon", "crm_attribute", "crm_diff", "crm_simulate", "crm_resource", `${model.postgresql.bindir}/pg_ctl`, `${model.postgresql.bindir}/initdb`, `${model.postgresql.bindir}/pg_basebackup`];
}


/** Every directory above `path`, outermost first, without `/`. */
const ancestors = (path: string): string[] => path.split("/").slice(1, -1).map((_, i, parts) => `/${parts.slice(0, i + 1).join("/")}`);

/**
 * Why pgha must not act on these managed paths: one that is a symbolic link itself, or lies under a link
 * that someone other than root made (root's own links, such as /var/run -> /run, are the system's layout).
 */
export function symlinkProblems(paths: string[], facts: HostFacts): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const link = facts.symlinks[p];
    if (link !== undefined) out.add(`${p} is a symbolic link (owned by ${link}); pgha does not write through links: replace it with the real ${facts.directories[p] !== undefined ? "directory" : "file or directory"}`);
    for (const a of ancestors(p)) {
      const owner = facts.symlinks[a];
      if (owner !== undefined && owner !== "root") out.add(`${a}, above ${p}, is a symbolic link owned by ${owner}, not root; pgha does not follow links a user can plant: replace it with the real directory`);
    }
  }
  return [...out];
}

/** The agent-line pattern as an ERE for grep (the JS RegExp source without its anchors is portable here). */
const ere = (re: RegExp): string => re.source;

/** Linux reports process start times in USER_HZ ticks, 100 on every architecture Debian ships. */
const USER_HZ = 100;

/**
 * One POSIX sh script that prints tab-separated fact lines. It runs as few programs as it can (each costs
 * milliseconds on a busy host, and a no-op run is mostly this script): shell builtins and /proc where
 * they do, one stat and one sha256sum for all managed paths with their output parsed here, and the
 * binaries' versions cached in PGHA_DIR under the binaries' size and mtime, so they are asked only after
 * an upgrade. A no-op on a PAF node runs seven programs.
 */
export function factsScript(model: ClusterModel, files: ManagedFile[], directories: ManagedDirectory[] = [], stateDir = PGHA_DIR, authkey = COROSYNC_AUTHKEY): string {
  const pg = model.postgresql;
  const postgres = shq(`${pg.bindir}/postgres`);
  const shellfuncs = "/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs";
  const list = (paths: string[]) => [...new Set(paths)].map(shq).join(" ");
  const dirPaths = directories.map((d) => d.path);
  const filePaths = files.map((f) => f.path);
  // corosync.conf is always looked at: its mtime and hash say what corosync runs (see corosync_apply).
  // The authkey too, in the same two programs: whether the nodes hold the same one.
  const statted = list([...dirPaths, ...filePaths, COROSYNC_CONF, authkey]);
  const linked = list([...dirPaths, ...filePaths].flatMap((p) => [...ancestors(p), p]));
  const hashed = list([...files.filter((f) => !f.agentLines).map((f) => f.path), COROSYNC_CONF, COROSYNC_APPLIED, authkey]);
  const lines = [
    "export LC_ALL=C",
    'IFS= read -r hn < /proc/sys/kernel/hostname && echo "HOSTNAME\t$hn"',
    // One line per unit, in order; no systemctl at all reads as inactive.
    `set -- $(systemctl is-active ${SERVICES.join(" ")} 2>/dev/null)`,
    `for s in ${SERVICES.join(" ")}; do printf 'SERVICE\\t%s\\t%s\\n' "$s" "\${1:-inactive}"; [ $# -eq 0 ] || shift; done`,
    `set -- $(systemctl is-enabled ${SERVICES.join(" ")} 2>/dev/null)`,
    `for s in ${SERVICES.join(" ")}; do printf 'ENABLED\\t%s\\t%s\\n' "$s" "\${1:-disabled}"; [ $# -eq 0 ] || shift; done`,
    `for b in ${[...requiredBinaries(model), ...CIB_TOOLS].map(shq).join(" ")}; do if command -v "$b" >/dev/null 2>&1; then printf 'BIN\\t%s\\tfound\\n' "$b"; else printf 'BIN\\t%s\\t\\n' "$b"; fi; done`,
    `for n in /sys/class/net/*; do printf 'NIC\\t%s\\n' "\${n##*/}"; done`,
    `ip -o -4 addr show 2>/dev/null | while read -r _ _ _ a _; do printf 'ADDR\\t%s\\n' "\${a%%/*}"; done`,
    // Versions and the ocf-shellfuncs check, cached under the files' identity (path, size, mtime).
    `sig=$(stat -L --printf '%n %s %Y ' $(for b in pacemakerd corosync; do command -v $b; done) ${postgres} ${shellfuncs} 2>/dev/null)`,
    `vc=${shq(`${stateDir}/versions.cache`)}; hit=`,
    `if [ -f "$vc" ]; then { IFS= read -r first; if [ "$first" = "$sig" ]; then hit=1; while IFS= read -r l; do printf '%s\\n' "$l"; done; fi; } < "$vc"; fi`,
    `if [ -z "$hit" ]; then`,
    `  v=$(printf 'VERSION\\tpacemaker\\t%s\\nVERSION\\tcorosync\\t%s\\nVERSION\\tpostgres\\t%s\\n' "$(pacemakerd --version 2>/dev/null | head -1)" "$(corosync -v 2>/dev/null | head -1)" "$(${postgres} --version 2>/dev/null | head -1)"; if grep -q 'crm_attribute -p \$@' ${shellfuncs} 2>/dev/null; then echo "PROMOTION_SCORE_UNPATCHED"; fi)`,
    `  printf '%s\\n' "$v"; if [ -d ${shq(stateDir)} ]; then printf '%s\\n%s\\n' "$sig" "$v" > "$vc.$$" && mv -f "$vc.$$" "$vc"; fi`,
    "fi",
    `d=${shq(pg.dataDirectory)}`,
    'if [ -f "$d/postmaster.pid" ] && IFS= read -r pid < "$d/postmaster.pid" && kill -0 "$pid" 2>/dev/null; then echo "PGRUNNING"; fi',
    ...(pg.tmpdir ? [`if [ -e ${shq(`${pg.tmpdir}/PGSQL.lock`)} ]; then echo "PGSQLLOCK"; fi`] : []),
    'if [ ! -d "$d" ]; then echo "DATADIR\tmissing"; elif [ -f "$d/PG_VERSION" ]; then IFS= read -r v < "$d/PG_VERSION"; echo "DATADIR\tinitialized\t$v"; elif [ -z "$(ls -A "$d" 2>/dev/null)" ]; then echo "DATADIR\tempty"; else echo "DATADIR\tinitialized"; fi',
    // The CIB's epoch tells whether a run touched it; primitives tell whether the cluster is configured.
    // The same awk reads the boot time, which dates corosync's start below.
    "cib=/var/lib/pacemaker/cib/cib.xml; [ -f $cib ] || cib=",
    `awk 'FILENAME == "/proc/stat" { if ($1 == "btime") printf "BOOT\\t%s\\n", $2; next } FNR == 1 && match($0, / epoch="[0-9]*"/) { e = substr($0, RSTART + 8, RLENGTH - 9) } /<primitive / { n++ } END { if (FILENAME != "/proc/stat") printf "CIB\\t%d\\t%s\\n", n, e }' /proc/stat $cib`,
    // corosync's start, in ticks after boot: field 22 of /proc/PID/stat (the 20th after the command name).
    `if pid=$(pidof corosync) && IFS= read -r st < "/proc/\${pid%% *}/stat"; then set -- \${st##*) }; printf 'COROSYNC_START\\t%s\\n' "\${20}"; fi`,
    ...(directories.length ? [`for p in ${list(dirPaths)}; do [ -d "$p" ] || printf 'DIR\\t%s\\t-\\n' "$p"; done`] : []),
    ...(files.length ? [`for p in ${list(filePaths)}; do [ -f "$p" ] || printf 'FILE\\t%s\\t-\\n' "$p"; done`] : []),
    // The links among the managed paths and their ancestors, with their owners (shell builtins, and one stat only when there is a link).
    `set --; for p in ${linked}; do if [ -L "$p" ]; then set -- "$@" "$p"; fi; done; [ $# -eq 0 ] || stat --printf 'LINK\\t%n\\t%U\\n' -- "$@"`,
    `stat --printf 'STAT\\t%n\\t%F\\t%U\\t%G\\t%04a\\t%Y\\t%s\\n' ${statted} 2>/dev/null`,
    `sha256sum ${hashed} 2>/dev/null | while read -r h p; do printf 'HASH\\t%s\\t%s\\n' "$p" "$h"; done`,
  ];
  for (const f of files.filter((x) => x.agentLines)) {
    const p = shq(f.path);
    const re = shq(ere(f.agentLines!));
    // The hash leaves out the agent's own lines; each of those is listed with whether its include target exists.
    lines.push(
      `if [ -f ${p} ] && [ ! -L ${p} ]; then { grep -v -E ${re} ${p} || true; } | sha256sum | { read -r h _; printf 'HASH\\t%s\\t%s\\n' ${p} "$h"; }; grep -E ${re} ${p} | while IFS= read -r l; do t=\${l#include \\'}; t=\${t%%\\'*}; if [ "$t" != "$l" ] && [ -e "$t" ]; then e=1; else e=0; fi; printf 'AGENTLINE\\t%s\\t%s\\t%s\\n' ${p} "$e" "$l"; done; fi`,
    );
  }
  return lines.join("\n") + "\n";
}

export function parseFacts(output: string, authkey = COROSYNC_AUTHKEY): HostFacts {
  const facts: HostFacts = { hostname: "", files: {}, services: {}, enabled: {}, binaries: {}, interfaces: [], addresses: [], dataDirectory: "missing", symlinks: {}, directories: {}, postgresRunning: false, pgsqlLock: false, versions: { pacemaker: "", corosync: "", postgres: "" }, promotionScoreUnpatched: false, corosyncRunsFile: false, corosyncRecorded: false };
  const hashes: Record<string, string> = {};
  let boot = 0;
  let corosyncTicks: number | undefined;
  let corosyncMtime = 0;
  for (const raw of output.split("\n")) {
    const [kind, ...f] = raw.split("\t");
    switch (kind) {
      case "HOSTNAME":
        facts.hostname = f[0] ?? "";
        break;
      case "SERVICE":
        facts.services[f[0]!] = f[1] === "active" ? "active" : "inactive";
        break;
      case "ENABLED":
        facts.enabled[f[0]!] = f[1] === "enabled";
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
        hashes[f[0]!] = f[1]!;
        if (f[0] === authkey) {
          if (facts.authkey) facts.authkey.sha256 = f[1];
        } else if (f[0] !== COROSYNC_APPLIED) (facts.files[f[0]!] ??= { exists: true, agentLines: [] }).sha256 = f[1];
        break;
      case "STAT": {
        const [path, type, owner, group, mode, mtime, size] = f as [string, string, string, string, string, string, string];
        if (path === COROSYNC_CONF) corosyncMtime = Number(mtime);
        if (type === "symbolic link") break;
        if (path === authkey) facts.authkey = { owner, group, mode, size: Number(size) };
        else if (type === "directory") facts.directories[path] = { owner, group, mode };
        else Object.assign((facts.files[path] ??= { exists: true, agentLines: [] }), { owner, group, mode });
        break;
      }
      case "LINK":
        facts.symlinks[f[0]!] = f[1] ?? "";
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
        if (!(f[0]! in facts.directories)) facts.directories[f[0]!] = undefined;
        break;
      case "CIB":
        facts.cib = { primitives: Number(f[0]), epoch: f[1] ?? "" };
        break;
      case "BOOT":
        boot = Number(f[0]);
        break;
      case "COROSYNC_START":
        corosyncTicks = Number(f[0]);
        break;
      case "AGENTLINE": {
        const file = (facts.files[f[0]!] ??= { exists: true, agentLines: [] });
        file.agentLines.push({ targetExists: f[1] === "1", line: f.slice(2).join("\t") });
        break;
      }
    }
  }
  // What sha256sum read through a link is the link target's, not a managed file's.
  for (const p of Object.keys(facts.symlinks)) if (facts.files[p]) facts.files[p] = { exists: true, symlink: true, agentLines: [] };
  facts.corosyncRecorded = hashes[COROSYNC_APPLIED] !== undefined && hashes[COROSYNC_APPLIED] === hashes[COROSYNC_CONF];
  // Started in a later second than the file's last write, as `ps -o etimes` would tell.
  facts.corosyncRunsFile = corosyncTicks !== undefined && Math.floor(boot + corosyncTicks / USER_HZ) > corosyncMtime;
  return facts;
}
