// Results of every supported spec version (SPEC.md "Success"), and conversion between them
// the way libcni's types/040 and types/100 packages do it. Internally braid holds the 1.1.0
// shape (a superset); `toVersion` renders any version.
import ipaddr from 'ipaddr.js';
import * as z from './zod.js';
import { Code, CniError } from './errors.js';
import { compareVersions, isSupported, type SpecVersion } from './version.js';
import { issuesToError } from './zod-issues.js';

// libcni decodes these into net.IP / net.IPNet, so anything else is a decode failure.
const isIp = (s: string) => ipaddr.IPv4.isValidFourPartDecimal(s) || (ipaddr.IPv6.isValid(s) && !s.includes('%'));
const isCidr = (s: string) =>
  ipaddr.IPv4.isValidCIDRFourPartDecimal(s) || (ipaddr.IPv6.isValidCIDR(s) && !s.includes('%'));
const IpString = z.string().refine(isIp, 'must be an IP address');
const CidrString = z.string().refine(isCidr, 'must be an IP address with a prefix length (CIDR)');

const DnsSchema = z.looseObject({
  nameservers: z.array(z.string()).optional(),
  domain: z.string().optional(),
  search: z.array(z.string()).optional(),
  options: z.array(z.string()).optional(),
});

const Interface040 = z.object({
  name: z.string(),
  mac: z.string().optional(),
  sandbox: z.string().optional(),
});
const Interface110 = Interface040.extend({
  mtu: z.number().int().nonnegative().optional(),
  socketPath: z.string().optional(),
  pciID: z.string().optional(),
});
const Ip040 = z.object({
  version: z.enum(['4', '6']).optional(),
  address: CidrString,
  gateway: IpString.optional(),
  interface: z.number().int().nonnegative().optional(),
});
const Ip100 = Ip040.omit({ version: true });
const Route040 = z.object({ dst: CidrString, gw: IpString.optional() });
const Route110 = Route040.extend({
  mtu: z.number().int().optional(),
  advmss: z.number().int().optional(),
  priority: z.number().int().optional(),
  table: z.number().int().optional(),
  scope: z.number().int().optional(),
});

export const Result040Schema = z.object({
  cniVersion: z.string().optional(),
  interfaces: z.array(Interface040).optional(),
  ips: z.array(Ip040).optional(),
  routes: z.array(Route040).optional(),
  dns: DnsSchema.optional(),
});
export const Result100Schema = z.object({
  cniVersion: z.string().optional(),
  interfaces: z.array(Interface040).optional(),
  ips: z.array(Ip100).optional(),
  routes: z.array(Route040).optional(),
  dns: DnsSchema.optional(),
});
export const Result110Schema = z.object({
  cniVersion: z.string().optional(),
  interfaces: z.array(Interface110).optional(),
  ips: z.array(Ip100).optional(),
  routes: z.array(Route110).optional(),
  dns: DnsSchema.optional(),
});

export type Interface = z.infer<typeof Interface110>;
export type IpConfig = z.infer<typeof Ip100>;
export type Route = z.infer<typeof Route110>;
export type Dns = z.infer<typeof DnsSchema>;
/** braid's internal result: the 1.1.0 shape. */
export interface Result {
  cniVersion: string;
  interfaces?: Interface[];
  ips?: IpConfig[];
  routes?: Route[];
  dns?: Dns;
}

const familyOf = (cidr: string): '4' | '6' => (cidr.includes(':') ? '6' : '4');
const is1x = (v: string) => compareVersions(v, '1.0.0') >= 0;

function schemaFor(version: string) {
  if (!is1x(version)) return Result040Schema;
  return compareVersions(version, '1.1.0') >= 0 ? Result110Schema : Result100Schema;
}

/**
 * Parse a result of any supported version. A result with no cniVersion is taken as
 * `fallbackVersion` (libcni does the same with the config's version).
 */
export function parseResult(value: unknown, fallbackVersion: string, what = 'result'): Result {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CniError(Code.DecodeFailure, `${what} must be a JSON object`);
  }
  const declared = (value as { cniVersion?: unknown }).cniVersion;
  const version = typeof declared === 'string' && declared !== '' ? declared : fallbackVersion;
  if (!isSupported(version)) {
    throw new CniError(Code.IncompatibleVersion, `${what} has unsupported cniVersion ${JSON.stringify(version)}`);
  }
  const r = schemaFor(version).safeParse(value);
  if (!r.success) throw issuesToError(r.error, value, what, Code.DecodeFailure);
  const data = r.data as Omit<Result, 'ips'> & { ips?: Array<IpConfig & { version?: string }> };
  const out: Result = { cniVersion: version };
  if (data.interfaces) out.interfaces = data.interfaces.map((i) => ({ ...i }));
  if (data.ips) out.ips = data.ips.map(({ version: _v, ...ip }) => ({ ...ip }));
  if (data.routes) out.routes = data.routes.map((rt) => ({ ...rt }));
  if (data.dns) out.dns = { ...data.dns };
  return out;
}

function prune<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Render a result in `version`: down to 0.x adds ips[].version and drops 1.1 fields. */
export function toVersion(result: Result, version: SpecVersion | string): Record<string, unknown> {
  // libcni's convert.Convert has no converter for other versions (e.g. 0.2.0).
  if (!isSupported(version)) {
    throw new CniError(Code.IncompatibleVersion, `cannot convert a result to unsupported cniVersion ${JSON.stringify(version)}`);
  }
  const v110 = compareVersions(version, '1.1.0') >= 0;
  const v1 = is1x(version);
  const out: Record<string, unknown> = { cniVersion: version };
  if (result.interfaces) {
    out.interfaces = result.interfaces.map((i) =>
      prune(
        v110
          ? { name: i.name, mac: i.mac, mtu: i.mtu, sandbox: i.sandbox, socketPath: i.socketPath, pciID: i.pciID }
          : { name: i.name, mac: i.mac, sandbox: i.sandbox },
      ),
    );
  }
  if (result.ips) {
    out.ips = result.ips.map((ip) =>
      prune(
        v1
          ? { address: ip.address, gateway: ip.gateway, interface: ip.interface }
          : { version: familyOf(ip.address), address: ip.address, gateway: ip.gateway, interface: ip.interface },
      ),
    );
  }
  if (result.routes) {
    out.routes = result.routes.map((r) =>
      prune(
        v110
          ? { dst: r.dst, gw: r.gw, mtu: r.mtu, advmss: r.advmss, priority: r.priority, table: r.table, scope: r.scope }
          : { dst: r.dst, gw: r.gw },
      ),
    );
  }
  // Go's encoder never omits a struct, so every libcni result carries "dns" ({} when empty).
  out.dns = { ...(result.dns ?? {}) };
  return out;
}

/** Parse then render: libcni's result.GetAsVersion. */
export const convertResult = (value: unknown, fromFallback: string, to: string) =>
  toVersion(parseResult(value, fromFallback), to);
