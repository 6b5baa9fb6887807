// IPAM address checks, following host-local's own rules (allocator/range.go, range_set.go,
// config.go) and static's (ipam/static/main.go), so what fails here fails on ADD.
import { isObject, type Json } from './classify.js';
import type { FindingSink, Scope } from './finding.js';
import { contains, formatCidr, formatIP, parseCidr, parseIP, type Cidr } from './ip-utils.js';
import { fieldPath } from './json-pointer.js';
import type { PluginAt } from './schema-layer.js';

/** An allocation pool of a network, kept for the cross-network overlap check. */
export interface Pool {
  cidr: Cidr;
  pointer: string; // relative to the network config
}

interface Range {
  subnet: Cidr;
  start: bigint;
  end: bigint;
  rel: string;
}

const hasCapability = (p: PluginAt, name: string) => isObject(p.conf.capabilities) && p.conf.capabilities[name] === true;
const runtimeHas = (p: PluginAt, name: string) =>
  isObject(p.conf.runtimeConfig) && Object.keys(p.conf.runtimeConfig).some((k) => k.toLowerCase() === name.toLowerCase());

export function checkIpam(p: PluginAt, scope: Scope, sink: FindingSink, pools: Pool[]): void {
  const ipam = p.conf.ipam;
  if (!isObject(ipam)) return;
  const rel = `${p.rel}/ipam`;
  checkRoutes(ipam, rel, scope, sink);
  if (ipam.type === 'host-local') checkHostLocal(p, ipam, rel, scope, sink, pools);
  else if (ipam.type === 'static') checkStatic(p, ipam, rel, scope, sink);
}

export function checkRoutes(owner: Json, rel: string, scope: Scope, sink: FindingSink): void {
  if (!Array.isArray(owner.routes)) return;
  owner.routes.forEach((r, i) => {
    if (!isObject(r)) return;
    const at = `${rel}/routes/${i}`;
    const dst = typeof r.dst === 'string' ? parseCidr(r.dst) : undefined;
    if (typeof r.dst === 'string' && !dst) sink.at(scope, 'BRD310', `${at}/dst`, `${fieldPath(`${at}/dst`)} ${JSON.stringify(r.dst)} is not a CIDR`, 'write the destination as address/prefix, e.g. "0.0.0.0/0"');
    if (typeof r.gw !== 'string') return;
    const gw = parseIP(r.gw);
    if (!gw) sink.at(scope, 'BRD310', `${at}/gw`, `${fieldPath(`${at}/gw`)} ${JSON.stringify(r.gw)} is not an IP address`);
    else if (dst && gw.family !== dst.family) sink.at(scope, 'BRD329', `${at}/gw`, `${fieldPath(`${at}/gw`)} ${JSON.stringify(r.gw)} is IPv${gw.family} but dst ${JSON.stringify(r.dst)} is IPv${dst.family}`);
  });
}

function checkHostLocal(p: PluginAt, ipam: Json, rel: string, scope: Scope, sink: FindingSink, pools: Pool[]): void {
  const sets: Range[][] = [];
  if (ipam.subnet !== undefined) {
    const r = checkRange(ipam, rel, scope, sink);
    if (r) sets.push([r]);
  }
  const hasRanges = Array.isArray(ipam.ranges) && ipam.ranges.length > 0;
  if (Array.isArray(ipam.ranges)) {
    ipam.ranges.forEach((set, i) => {
      if (!Array.isArray(set)) return;
      const ranges: Range[] = [];
      set.forEach((r, j) => {
        if (!isObject(r)) return;
        const range = checkRange(r, `${rel}/ranges/${i}/${j}`, scope, sink);
        if (!range) return;
        const first = ranges[0];
        if (first && first.subnet.family !== range.subnet.family) {
          sink.at(scope, 'BRD316', `${range.rel}/subnet`, `${fieldPath(`${range.rel}/subnet`)} ${formatCidr(range.subnet)} is IPv${range.subnet.family} but range set ${i} starts with IPv${first.subnet.family}`, 'one range set holds ranges of one address family; use another set for the other family');
          return;
        }
        const clash = ranges.find((o) => overlaps(o, range));
        if (clash) sink.at(scope, 'BRD315', `${range.rel}/subnet`, `${fieldPath(range.rel)} (${describeRange(range)}) overlaps ${fieldPath(clash.rel)} (${describeRange(clash)}) in the same range set`);
        else ranges.push(range);
      });
      if (ranges.length) sets.push(ranges);
    });
  }
  // Range sets must not overlap each other either (config.go "range set %d overlaps with %d").
  for (let a = 0; a < sets.length; a++) {
    for (let b = a + 1; b < sets.length; b++) {
      const hit = sets[b]!.find((rb) => sets[a]!.some((ra) => overlaps(ra, rb)));
      if (hit) {
        const other = sets[a]!.find((ra) => overlaps(ra, hit))!;
        sink.at(scope, 'BRD315', `${hit.rel}/subnet`, `${fieldPath(hit.rel)} (${describeRange(hit)}) overlaps ${fieldPath(other.rel)} (${describeRange(other)}) of another range set`, 'host-local allocates one address per range set; overlapping sets would hand out the same address twice');
      }
    }
  }
  for (const set of sets) for (const r of set) pools.push({ cidr: r.subnet, pointer: `${r.rel}/subnet` });
  if (ipam.subnet === undefined && !hasRanges && !hasCapability(p, 'ipRanges') && !runtimeHas(p, 'ipRanges')) {
    sink.at(scope, 'BRD317', `${rel}/ranges`, `${fieldPath(rel)} (host-local) has no "subnet" and no "ranges": it has nothing to allocate from`, 'add "ranges": [[{"subnet": "..."}]], or declare the ipRanges capability on the plugin');
  }
}

const overlaps = (a: Range, b: Range) => a.subnet.family === b.subnet.family && a.start <= b.end && b.start <= a.end;
const describeRange = (r: Range) => `${formatIP(r.subnet.family, r.start)}-${formatIP(r.subnet.family, r.end)}`;

/** One host-local range: subnet, rangeStart, rangeEnd, gateway (range.go Canonicalize). */
function checkRange(r: Json, rel: string, scope: Scope, sink: FindingSink): Range | undefined {
  if (typeof r.subnet !== 'string') return undefined; // the schema reports a missing or non-string subnet
  const at = (k: string) => `${rel}/${k}`;
  const subnet = parseCidr(r.subnet);
  if (!subnet) {
    sink.at(scope, 'BRD310', at('subnet'), `${fieldPath(at('subnet'))} ${JSON.stringify(r.subnet)} is not a subnet in CIDR notation`, 'write it as address/prefix, e.g. "198.18.0.0/24"');
    return undefined;
  }
  if (subnet.addr !== subnet.network) {
    sink.at(scope, 'BRD311', at('subnet'), `${fieldPath(at('subnet'))} ${JSON.stringify(r.subnet)} has host bits set`, `did you mean ${JSON.stringify(formatCidr(subnet))}?`);
  }
  if (subnet.prefix > subnet.bits - 2) {
    sink.at(scope, 'BRD312', at('subnet'), `${fieldPath(at('subnet'))} ${JSON.stringify(r.subnet)} is too small to allocate from`, `use a prefix of /${subnet.bits - 2} or shorter`);
    return undefined;
  }
  const ipIn = (k: string): bigint | undefined => {
    const raw = r[k];
    if (typeof raw !== 'string') return undefined;
    const ip = parseIP(raw);
    const field = fieldPath(at(k));
    if (!ip) {
      sink.at(scope, 'BRD310', at(k), `${field} ${JSON.stringify(raw)} is not an IP address`);
      return undefined;
    }
    if (ip.family !== subnet.family) {
      sink.at(scope, 'BRD316', at(k), `${field} ${JSON.stringify(raw)} is IPv${ip.family} but subnet ${formatCidr(subnet)} is IPv${subnet.family}`);
      return undefined;
    }
    if (!contains(subnet, ip)) {
      sink.at(scope, 'BRD313', at(k), `${field} ${JSON.stringify(raw)} is outside subnet ${formatCidr(subnet)}`, `use an address between ${formatIP(subnet.family, subnet.network + 1n)} and ${formatIP(subnet.family, lastUsable(subnet))}`);
      return undefined;
    }
    return ip.value;
  };
  ipIn('gateway');
  const start = ipIn('rangeStart') ?? subnet.network + 1n;
  const end = ipIn('rangeEnd') ?? lastUsable(subnet);
  if (start > end) {
    sink.at(scope, 'BRD314', at('rangeEnd'), `${fieldPath(rel)}: rangeStart ${formatIP(subnet.family, start)} is after rangeEnd ${formatIP(subnet.family, end)}`, 'swap them, or move rangeEnd up');
    return { subnet, start: end, end: start, rel };
  }
  return { subnet, start, end, rel };
}

// range.go lastIP: the broadcast address is excluded for IPv4 only.
const lastUsable = (c: Cidr) => (c.family === 4 ? c.last - 1n : c.last);

function checkStatic(p: PluginAt, ipam: Json, rel: string, scope: Scope, sink: FindingSink): void {
  const addrs = Array.isArray(ipam.addresses) ? ipam.addresses : [];
  if (addrs.length === 0 && !hasCapability(p, 'ips') && !runtimeHas(p, 'ips')) {
    sink.at(scope, 'BRD318', `${rel}/addresses`, `${fieldPath(rel)} (static) has no addresses: each pod must bring its own (the networks annotation's ips, passed in CNI_ARGS IP= and args.cni.ips), or ADD fails`, 'add "addresses": [{"address": "198.18.0.10/24"}], or declare "capabilities": {"ips": true}');
  }
  addrs.forEach((a, i) => {
    if (!isObject(a) || typeof a.address !== 'string') return;
    const at = `${rel}/addresses/${i}`;
    const cidr = parseCidr(a.address);
    if (!cidr) {
      sink.at(scope, 'BRD310', `${at}/address`, `${fieldPath(`${at}/address`)} ${JSON.stringify(a.address)} is not an address with a prefix length`, 'write it as address/prefix, e.g. "198.18.0.10/24"');
      return;
    }
    if (typeof a.gateway !== 'string') return;
    const gw = parseIP(a.gateway);
    const field = fieldPath(`${at}/gateway`);
    if (!gw) sink.at(scope, 'BRD310', `${at}/gateway`, `${field} ${JSON.stringify(a.gateway)} is not an IP address`);
    else if (gw.family !== cidr.family) sink.at(scope, 'BRD316', `${at}/gateway`, `${field} ${JSON.stringify(a.gateway)} is IPv${gw.family} but address ${a.address} is IPv${cidr.family}`);
    else if (!contains(cidr, gw)) sink.at(scope, 'BRD313', `${at}/gateway`, `${field} ${JSON.stringify(a.gateway)} is outside ${formatCidr(cidr)}, the subnet of address ${a.address}`, 'the gateway must be reachable on the link: pick it from the address subnet');
  });
}

