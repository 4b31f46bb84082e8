// A hot standby may not run with less than its primary of a few settings: PostgreSQL checks them when
// the standby starts, against the values the primary wrote into the WAL, and a standby below them does
// not start (or pauses replay). So lowering one is done on the primary first, by a restart in place,
// which pgha does not do online. Pure: which rendered files would go below the running primary.
import { parsePostgresqlConf } from "./postgresql-conf.js";

/** The settings PostgreSQL checks on a hot standby against its primary. */
export const STANDBY_MINIMUMS = ["max_connections", "max_prepared_transactions", "max_locks_per_transaction", "max_wal_senders", "max_worker_processes"];

/** One of them on the running primary: its value, PostgreSQL's built-in one, and the file that set it (pg_settings). */
export interface PrimarySetting {
  setting: string;
  bootVal: string;
  sourcefile: string;
}

const NAMES = STANDBY_MINIMUMS.map((n) => `'${n}'`).join(", ");

/** The query that reads PrimarySetting rows, `name|setting|boot_val|sourcefile`. */
export const PRIMARY_SETTINGS_SQL = `SELECT name || '|' || setting || '|' || boot_val || '|' || coalesce(sourcefile, '') FROM pg_settings WHERE name IN (${NAMES})`;

export function parsePrimarySettings(rows: string): Record<string, PrimarySetting> {
  return Object.fromEntries(
    rows
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [name, setting, bootVal, ...file] = l.split("|");
        return [name!, { setting: setting!, bootVal: bootVal!, sourcefile: file.join("|") }];
      }),
  );
}

/**
 * `name before -> after on node` for each standby minimum that a changed postgresql.conf (at `confPath`)
 * would set below the running primary's value. A setting the file no longer sets falls back to
 * PostgreSQL's built-in value, when this file is what set it (a value from postgresql.auto.conf stays).
 */
export function loweredMinimums(changed: { node: string; content: string }[], primary: Record<string, PrimarySetting>, confPath: string): string[] {
  return changed.flatMap(({ node, content }) => {
    const conf = parsePostgresqlConf([{ path: confPath, text: content }]);
    return STANDBY_MINIMUMS.flatMap((name) => {
      const p = primary[name];
      if (!p) return [];
      const now = Number(p.setting);
      const set = conf.get(name);
      const next = set !== undefined ? Number(set) : p.sourcefile === confPath ? Number(p.bootVal) : undefined;
      return next !== undefined && Number.isFinite(now) && next < now ? [`${name} ${now} -> ${next} on ${node}`] : [];
    });
  });
}

/** The same, `name before -> after` from the configuration files as PostgreSQL reads them now (pg_file_settings). */
export const LOWERED_IN_FILES_SQL =
  `SELECT f.name || ' ' || s.setting || ' -> ' || f.setting FROM pg_settings s JOIN (SELECT DISTINCT ON (name) name, setting FROM pg_file_settings ` +
  `WHERE name IN (${NAMES}) ORDER BY name, seqno DESC) f USING (name) WHERE f.setting ~ '^[0-9]+$' AND f.setting::bigint < s.setting::bigint`;

export const loweredRefusal = (lowered: string[], primary: string): string =>
  `refusing: ${lowered.join(", ")} would go below the running primary's value (${primary}). A standby may not have less than its primary ` +
  "(it does not start), so lowering these needs the primary restarted with the new value before any standby, which pgha does not do online. Nothing was changed";
