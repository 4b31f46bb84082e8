// What a CIB change may make Pacemaker do only when the operator allows it, each with its apply flag.
// A module of its own so that the CLI can name the flags without loading the XML parser.
export const DISRUPTIONS = ["restart-primary", "move-primary", "fence"] as const;
export type Disruption = (typeof DISRUPTIONS)[number];

export const DISRUPTION_FLAGS = {
  "restart-primary": "--allow-primary-restart",
  "move-primary": "--allow-failover",
  fence: "--allow-fencing",
} as const satisfies Record<Disruption, `--${string}`>;
