// Facts: what a host looks like now, read in ONE remote command per host, so a no-op run costs one round
// trip. The script is generated here and its output parsed here; both are pure and unit-tested.
import type { ClusterModel, ManagedDirectory, ManagedFile } from "./model/types.js";
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
  /** With Pacemaker running: how many primitives the live CIB holds, and its epoch. */
  cib?: { primitives: number; epoch: string };
}

export const SERVICES = ["corosync", "pacemaker"] as const;

/** Binaries the build needs on every node, by purpose. */
export function requiredBinaries(model: ClusterModel): string[] {
  return ["corosync", "pacemakerd", "crm", "cibadmin", "crm_mon", "crm_attribute", `${model.postgresql.bindir}/pg_ctl`, `${model.postgresql.bindir}/initdb`, `${model.postgresql.bindir}/pg_basebackup`];
}


/** The agent-line pattern as an ERE for grep (the JS RegExp source without its anchors is portable here). */
const ere = (re: RegExp): string => re.source;

export function factsScript(model: ClusterModel, files: ManagedFile[], directories: ManagedDirectory[] = []): string {
  const pg = model.postgresql;
  const lines = [
    "export LC_ALL=C",
    'echo "HOSTNAME\t$(uname -n)"',
    ...SERVICES.map((s) => `if systemctl is-active --quiet ${s} 2>/dev/null; then echo "SERVICE\t${s}\tactive"; else echo "SERVICE\t${s}\tinactive"; fi`),
    ...requiredBinaries(model).map((b) => `echo "BIN\t${b}\t$(command -v ${shq(b)} 2>/dev/null)"`),
    `ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print "NIC\\t" $2}'`,
    `ip -o -4 addr show | awk '{sub(/\\/.*/, "", $4); print "ADDR\\t" $4}'`,
    'echo "VERSION\tpacemaker\t$(pacemakerd --version 2>/dev/null | head -1)"',
    'echo "VERSION\tcorosync\t$(corosync -v 2>/dev/null | head -1)"',
    `echo "VERSION\tpostgres\t$(${shq(`${pg.bindir}/postgres`)} --version 2>/dev/null | head -1)"`,
    `if grep -q 'crm_attribute -p \$@' /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs 2>/dev/null; then echo "PROMOTION_SCORE_UNPATCHED"; fi`,
    `d=${shq(pg.dataDirectory)}`,
    'if [ -f "$d/postmaster.pid" ] && kill -0 "$(head -1 "$d/postmaster.pid")" 2>/dev/null; then echo "PGRUNNING"; fi',
    ...(pg.tmpdir ? [`if [ -e ${shq(`${pg.tmpdir}/PGSQL.lock`)} ]; then echo "PGSQLLOCK"; fi`] : []),
    'if [ ! -d "$d" ]; then echo "DATADIR\tmissing"; elif [ -z "$(ls -A "$d" 2>/dev/null)" ]; then echo "DATADIR\tempty"; else echo "DATADIR\tinitialized\t$(cat "$d/PG_VERSION" 2>/dev/null)"; fi',
    // The CIB's epoch tells whether a run touched it; primitives tell whether the cluster is configured.
    `if systemctl is-active --quiet pacemaker 2>/dev/null && cib=$(cibadmin -Q 2>/dev/null); then echo "CIB\t$(printf '%s' "$cib" | grep -c '<primitive ')\t$(printf '%s' "$cib" | sed -n '1s/.* epoch="\\([0-9]*\\)".*/\\1/p')"; fi`,
    ...directories.map((d) => `if [ -d ${shq(d.path)} ]; then echo "DIR\t${d.path}\t$(stat -c '%U\t%G\t%04a' ${shq(d.path)})"; else echo "DIR\t${d.path}\t-"; fi`),
  ];
  for (const f of files) {
    const p = shq(f.path);
    const filter = f.agentLines ? `grep -v -E ${shq(ere(f.agentLines))} ${p}` : `cat ${p}`;
    lines.push(`if [ -f ${p} ]; then echo "FILE\t${f.path}\t$( { ${filter} || true; } | sha256sum | cut -d' ' -f1)\t$(stat -c '%U\t%G\t%04a' ${p})"; else echo "FILE\t${f.path}\t-"; fi`);
    if (f.agentLines) {
      // Each agent line, and whether the file it includes still exists (a dangling include breaks a reload).
      lines.push(
        `[ -f ${p} ] && grep -E ${shq(ere(f.agentLines))} ${p} | while IFS= read -r l; do t=$(printf '%s' "$l" | sed -n "s/^include '\\([^']*\\)'.*/\\1/p"); if [ -n "$t" ] && [ -e "$t" ]; then e=1; else e=0; fi; printf 'AGENTLINE\\t%s\\t%s\\t%s\\n' ${shq(f.path)} "$e" "$l"; done`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

export function parseFacts(output: string): HostFacts {
  const facts: HostFacts = { hostname: "", files: {}, services: {}, binaries: {}, interfaces: [], addresses: [], dataDirectory: "missing", directories: {}, postgresRunning: false, pgsqlLock: false, versions: { pacemaker: "", corosync: "", postgres: "" }, promotionScoreUnpatched: false };
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
        facts.files[f[0]!] = f[1] === "-" ? { exists: false, agentLines: [] } : { exists: true, sha256: f[1], owner: f[2], group: f[3], mode: f[4], agentLines: facts.files[f[0]!]?.agentLines ?? [] };
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
        facts.directories[f[0]!] = f[1] === "-" ? undefined : { owner: f[1]!, group: f[2]!, mode: f[3]! };
        break;
      case "CIB":
        facts.cib = { primitives: Number(f[0]), epoch: f[1] ?? "" };
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
