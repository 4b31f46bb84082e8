// The files of a cluster built by hand: pgha writes its files whole from the spec, so a hand-written
// postgresql.conf, pg_hba.conf or corosync.conf that says the same as the imported spec in other words
// (order, comments, quoting, spacing) is rewritten once into pgha's layout by the first apply. This says,
// per file, whether that rewrite changes any setting, and what it takes: the settings compared as parsed
// values, never the text. Pure.
import { posix } from "node:path";
import { classifyCorosyncChange } from "./corosync-change.js";
import { parseHba, POSTGRESQL_DEFAULTS } from "./import.js";
import { canonical, canonicalSettings } from "./postgresql-conf.js";
import { RESERVED_PARAMETERS } from "./model/postgresql.js";

export interface LayoutFile {
  node: string;
  path: string;
  live: string;
  rendered: string;
}

/** Keys whose parsed value differs between the live file and pgha's render of it; undefined: not a settings file. */
export function settingsChanged(path: string, live: string, rendered: string): string[] | undefined {
  switch (posix.basename(path)) {
    case "postgresql.conf": {
      const [a, b] = [live, rendered].map((text) => canonicalSettings(path, text));
      // What the live file leaves out runs at PostgreSQL's default; the locations come from the resource's params.
      const liveValue = (k: string) => a!.get(k) ?? (k in RESERVED_PARAMETERS ? b!.get(k) : POSTGRESQL_DEFAULTS[k] !== undefined ? canonical(POSTGRESQL_DEFAULTS[k]!) : undefined);
      return [...new Set([...a!.keys(), ...b!.keys()])].filter((k) => liveValue(k) !== b!.get(k)).sort();
    }
    case "pg_hba.conf": {
      const [a, b] = [live, rendered].map((text) => parseHba(text).map((l) => JSON.stringify(l.rule)));
      const added = b!.filter((r) => !a!.includes(r)).length;
      const removed = a!.filter((r) => !b!.includes(r)).length;
      const moved = !added && !removed && a!.join("\n") !== b!.join("\n");
      return [...(added ? [`${added} rule(s) added`] : []), ...(removed ? [`${removed} rule(s) removed`] : []), ...(moved ? ["rules reordered"] : [])];
    }
    case "corosync.conf":
      return classifyCorosyncChange(live, rendered).changed;
    default:
      return undefined;
  }
}

/** One line per hand-written file that apply would rewrite, saying whether settings change and what it takes. */
export function layoutRewrites(files: LayoutFile[]): string[] {
  return files.flatMap(({ node, path, live, rendered }) => {
    const changed = settingsChanged(path, live, rendered);
    if (changed === undefined) return [];
    const where = `${node}:${path}`;
    if (!changed.length) {
      const effect = path.endsWith("corosync.conf") ? "corosync already runs these settings, nothing reloads" : "PostgreSQL reloads, nothing restarts";
      return [`${where}: the same settings in pgha's layout: ${effect}`];
    }
    return [`${where}: pgha's layout, and it changes ${changed.join(", ")} (pgha diff and apply --check say what that takes)`];
  });
}
