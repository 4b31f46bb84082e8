// The resource and constraint ids of a Linux-HA Japan parameter sheet (pm_crmgen), for the spec's pacemaker.ids.
export const LHAJ_IDS = {
  postgresql: "pgsql",
  clone: "msPostgresql",
  group: "master-group",
  ping: "prmPing",
  ping_clone: "clnPingCheck",
  location_ping: "rsc_location-msPostgresql-1",
  colocation_ping: "rsc_colocation-msPostgresql-clnPingCheck-1",
  colocation_vips: "rsc_colocation-master-group-msPostgresql-2",
  order_ping: "rsc_order-clnPingCheck-msPostgresql-1",
  order_promote: "rsc_order-msPostgresql-master-group-2",
  order_demote: "rsc_order-msPostgresql-master-group-3",
  location_vip_readonly: "rsc_location-vip-slave-1",
};
