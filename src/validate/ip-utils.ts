// IP parsing as strict as Go's net.ParseIP / net.ParseCIDR (dotted quads only for IPv4), with
// addresses as bigints so ranges compare and overlap cheaply.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface IP {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  addr: bigint; // the address as written
  prefix: number;
  network: bigint;
  last: bigint; // highest address of the subnet
  bits: 32 | 128;
}

const toBig = (bytes: number[]) => bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);

export function parseIP(s: unknown): IP | undefined {
  if (typeof s !== 'string') return undefined;
  const t = s.trim();
  if (ipaddr.IPv4.isValidFourPartDecimal(t)) return { family: 4, value: toBig(ipaddr.IPv4.parse(t).toByteArray()) };
  if (!t.includes('%') && ipaddr.IPv6.isValid(t)) {
    const a = ipaddr.IPv6.parse(t);
    if (a.isIPv4MappedAddress()) return { family: 4, value: toBig(a.toIPv4Address().toByteArray()) };
    return { family: 6, value: toBig(a.toByteArray()) };
  }
  return undefined;
}

export function parseCidr(s: unknown): Cidr | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const ip = parseIP(m[1]);
  const prefix = Number(m[2]);
  if (!ip) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  if (prefix > bits) return undefined;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const network = ip.value & ~hostMask & ((1n << BigInt(bits)) - 1n);
  return { family: ip.family, addr: ip.value, prefix, network, last: network | hostMask, bits };
}

export function formatIP(family: Family, v: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const bytes: number[] = [];
  for (let s = 120n; s >= 0n; s -= 8n) bytes.push(Number((v >> s) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
}

export const formatCidr = (c: Cidr) => `${formatIP(c.family, c.network)}/${c.prefix}`;
export const contains = (c: Cidr, ip: IP) => ip.family === c.family && ip.value >= c.network && ip.value <= c.last;

// Go's net.ParseMAC: 6, 8 or 20 octets with ':' or '-', or dotted groups of four hex digits.
const MAC_COLON = /^[0-9a-fA-F]{2}(?:([:-])[0-9a-fA-F]{2})+$/;
const MAC_DOT = /^[0-9a-fA-F]{4}(?:\.[0-9a-fA-F]{4})+$/;
export function isMac(s: string): boolean {
  if (MAC_COLON.test(s)) {
    const sep = s[2]!;
    const parts = s.split(sep);
    return [6, 8, 20].includes(parts.length) && parts.every((p) => p.length === 2);
  }
  return MAC_DOT.test(s) && [3, 4, 10].includes(s.split('.').length);
}
