// What `pgha import` reads on a node, in one remote command: a Python program (Python is wherever crmsh
// or pcs is) that prints one JSON object. It only reads: cibadmin -Q, crm configure show, corosync.conf,
// the PostgreSQL files the CIB's PostgreSQL resource names, whether ~/.pgpass exists (never its content),
// the NICs' addresses. Pure here: the program's text and the parse of its output.
import type { ImportHost } from "./import.js";

const PY = String.raw`import glob, grp, json, os, pwd, re, shutil, subprocess, xml.etree.ElementTree as ET
out = {"hostname": open("/proc/sys/kernel/hostname").read().strip(), "files": {}}
def run(*cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=dict(os.environ, LC_ALL="C"))
        return r.stdout if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None
def read(path):
    try:
        if os.path.isfile(path) and os.path.getsize(path) <= 4 << 20:
            with open(path, encoding="utf-8", errors="replace") as f:
                out["files"][path] = f.read()
    except OSError:
        pass
    return out["files"].get(path)
out["cib"] = run("cibadmin", "-Q")
out["crmShow"] = run("crm", "-D", "plain", "configure", "show") if out["cib"] and shutil.which("crm") else None
read("/etc/corosync/corosync.conf")
out["enabled"] = all((run("systemctl", "is-enabled", s) or "").strip() == "enabled" for s in ("corosync", "pacemaker"))
out["addresses"] = []
for l in (run("ip", "-o", "-4", "addr", "show") or "").splitlines():
    w = l.split()
    if len(w) > 3 and w[2] == "inet":
        out["addresses"].append({"nic": w[1], "cidr": w[3]})
p = {}
if out["cib"]:
    for prim in ET.fromstring(out["cib"]).iter("primitive"):
        if prim.get("type") in ("pgsql", "pgsqlms") and prim.get("provider") == "heartbeat":
            p = {nv.get("name"): nv.get("value") for ia in prim.findall("instance_attributes") for nv in ia.findall("nvpair")}
            p["agent"] = prim.get("type")
            break
if p:
    pgsql = p["agent"] == "pgsql"
    datadir = p.get("pgdata" if pgsql else "datadir") or p.get("pgdata") or "/var/lib/pgsql/data"
    conf = (p.get("config") or datadir + "/postgresql.conf") if pgsql else (p.get("pgdata") or datadir) + "/postgresql.conf"
    user = p.get("pgdba" if pgsql else "system_user") or "postgres"
    out["conf"] = conf
    settings = {}
    def walk(path, depth):
        text = read(path)
        if text is None or depth > 10:
            return
        for line in text.splitlines():
            if line.rstrip().endswith("# added by pgsql RA"):
                continue
            m = re.match(r"\s*([A-Za-z_][\w.]*)\s*=?\s*('(?:[^'\\]|\\.|'')*'|[^#\s]*)", line)
            if not m:
                continue
            name, value = m.group(1).lower(), m.group(2)
            value = value[1:-1].replace("''", "'") if value.startswith("'") else value
            target = os.path.join(os.path.dirname(path), value) if value else ""
            if name in ("include", "include_if_exists"):
                walk(target, depth + 1)
            elif name == "include_dir":
                for f in sorted(glob.glob(os.path.join(target, "*.conf"))):
                    walk(f, depth + 1)
            else:
                settings[name] = value
    walk(conf, 0)
    datadir = settings.get("data_directory", datadir)
    hba = settings.get("hba_file") or os.path.join(os.path.dirname(conf), "pg_hba.conf")
    out["hba"] = hba
    read(hba)
    try:
        out["pgVersion"] = open(os.path.join(datadir, "PG_VERSION")).read().strip()
    except OSError:
        out["pgVersion"] = None
    try:
        pw = pwd.getpwnam(user)
        out["home"] = pw.pw_dir
        out["osGroup"] = grp.getgrgid(pw.pw_gid).gr_name
        out["pgpass"] = os.path.isfile(os.path.join(pw.pw_dir, ".pgpass"))
    except KeyError:
        out["pgpass"] = False
    pid = None
    try:
        pid = int(open(os.path.join(datadir, "postmaster.pid")).readline())
        os.kill(pid, 0)
        running = True
    except (OSError, ValueError):
        running = False
    out["postgres"] = {"running": running, "standby": os.path.exists(os.path.join(datadir, "standby.signal")) or os.path.exists(os.path.join(datadir, "recovery.conf"))}
print(json.dumps(out))
`;

/** The remote command (sh reads it on stdin, as every pgha command). */
export const importFactsScript = (): string => `LC_ALL=C python3 - <<'PGHA_PY'\n${PY}PGHA_PY\n`;

export interface NodeImportFacts {
  host: ImportHost;
  cib?: string;
  crmShow?: string;
}

interface Raw {
  hostname: string;
  files: Record<string, string>;
  cib: string | null;
  crmShow: string | null;
  enabled: boolean;
  addresses: { nic: string; cidr: string }[];
  conf?: string;
  hba?: string;
  pgVersion?: string | null;
  home?: string;
  osGroup?: string;
  pgpass?: boolean;
  postgres?: { running: boolean; standby: boolean };
}

/** The program's JSON as one host's facts, `name` being the node's name in the inventory. */
export function parseImportFacts(name: string, stdout: string): NodeImportFacts {
  const r = JSON.parse(stdout) as Raw;
  const conf = r.conf ? [r.conf, ...Object.keys(r.files).filter((p) => p !== r.conf && p !== r.hba && p !== "/etc/corosync/corosync.conf")] : [];
  return {
    cib: r.cib ?? undefined,
    crmShow: r.crmShow ?? undefined,
    host: {
      name,
      corosyncConf: r.files["/etc/corosync/corosync.conf"] ?? "",
      postgresqlConf: conf.map((path) => ({ path, text: r.files[path]! })),
      pgHba: r.hba ? r.files[r.hba] : undefined,
      pgVersion: r.pgVersion ? Number(r.pgVersion) : undefined,
      osGroup: r.osGroup,
      home: r.home,
      pgpass: r.pgpass ?? false,
      addresses: r.addresses,
      startOnBoot: r.enabled,
      postgres: r.postgres,
    },
  };
}
