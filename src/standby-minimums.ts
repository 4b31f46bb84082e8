// A hot standby may not run with less than its primary of a few settings: PostgreSQL checks them when
// the standby starts, against the values the primary wrote into the WAL, and a standby below them does
// not start (or pauses replay). So lowering one is done on the primary first, by a restart in place,
// which pgha does not do online. Pure: which rendered files would go below the running primary.

/** The settings PostgreSQL checks on a hot standby against its primary. */
export const STANDBY_MINIMUMS = ["max_connections", "max_prepared_transactions", "max_locks_per_transaction", "max_wal_senders", "max_worker_processes"];

/** A setting of a rendered postgresql.conf (pgha writes `name = value`, the value quoted or not). */
function renderedSetting(conf: string, name: string): number | undefined {
  const m = new RegExp(`^${name}\\s*=\\s*'?(\\d+)'?\\s*$`, "m").exec(conf);
  return m ? Number(m[1]) : undefined;
}

/**
 * `name before -> after on node` for each standby minimum that a changed postgresql.conf would set
 * below the running primary's value. `primary` is the primary's pg_settings (name -> setting).
 */
export function loweredMinimums(changed: { node: string; content: string }[], primary: Record<string, string>): string[] {
  return changed.flatMap(({ node, content }) =>
    STANDBY_MINIMUMS.flatMap((name) => {
      const now = Number(primary[name]);
      const next = renderedSetting(content, name);
      return next !== undefined && Number.isFinite(now) && next < now ? [`${name} ${now} -> ${next} on ${node}`] : [];
    }),
  );
}

export const loweredRefusal = (lowered: string[], primary: string): string =>
  `refusing: ${lowered.join(", ")} would go below the running primary's value (${primary}). A standby may not have less than its primary ` +
  "(it does not start), so lowering these needs the primary restarted with the new value before any standby, which pgha does not do online. Nothing was changed";
