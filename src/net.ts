// IPv4 arithmetic for validating addresses against subnets (no dependency needed for this much).
export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export interface Cidr {
  network: number;
  prefix: number;
}

export function parseCidr(cidr: string): Cidr | undefined {
  const [ip, len, ...rest] = cidr.split("/");
  const base = ipv4ToInt(ip ?? "");
  const prefix = Number(len);
  if (rest.length || base === undefined || !/^\d{1,2}$/.test(len ?? "") || prefix > 32) return undefined;
  return { network: base - (base % 2 ** (32 - prefix)), prefix };
}

export function cidrContains(c: Cidr, ip: string): boolean {
  const n = ipv4ToInt(ip);
  return n !== undefined && n - (n % 2 ** (32 - c.prefix)) === c.network;
}

/** True for the network or broadcast address of a subnet shorter than /31. */
export function isNetworkOrBroadcast(c: Cidr, ip: string): boolean {
  const n = ipv4ToInt(ip);
  if (n === undefined || c.prefix >= 31) return false;
  return n === c.network || n === c.network + 2 ** (32 - c.prefix) - 1;
}
