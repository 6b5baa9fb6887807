// A selection's `ips` and `mac`, delivered through every channel plugins read them from, and
// checked in the result afterwards. Pure.
//
// Channels: runtimeConfig (only plugins declaring the capability get it: libcni), args.cni
// (static, host-local, tuning, macvlan read it) and CNI_ARGS `MAC=`/`IP=` behind
// `IgnoreUnknown`, as Multus's delegateAdd appends them (MAC first, then the IPs joined with ',').
// Multus never refuses a request no plugin declares; braid follows it and instead checks that the
// interface in the result carries what was asked for (strictCapabilities restores NPWG v1.3's
// up-front refusal).
import type { CniArgs } from '../cni/cni-args.js';
import type { Result } from '../cni/result.js';

export interface AddressRequest {
  ips?: string[];
  mac?: string;
}

const hasKey = (args: CniArgs, key: string) => args.some(([k]) => k.toLowerCase() === key.toLowerCase());

/** The CNI_ARGS of an ADD carrying `req`: the runtime's, then Multus's IgnoreUnknown, MAC and IP. */
export function requestCniArgs(runtimeArgs: CniArgs, req: AddressRequest | undefined): CniArgs {
  if (!req || (req.mac === undefined && req.ips === undefined)) return runtimeArgs;
  // Multus's RuntimeConf always leads with IgnoreUnknown=true; a runtime's own IgnoreUnknown=1 serves.
  const out: CniArgs = hasKey(runtimeArgs, 'IgnoreUnknown') ? [...runtimeArgs] : [['IgnoreUnknown', 'true'], ...runtimeArgs];
  if (req.mac !== undefined) out.push(['MAC', req.mac]);
  if (req.ips !== undefined) out.push(['IP', req.ips.join(',')]);
  return out;
}

/** args.cni gains ips/mac, unless the selection's own cni-args already set them. */
export function requestArgsCni(req: AddressRequest): Record<string, unknown> {
  return { ...(req.ips !== undefined ? { ips: req.ips } : {}), ...(req.mac !== undefined ? { mac: req.mac } : {}) };
}

const addressOf = (cidrOrIp: string) => cidrOrIp.split('/')[0]!.toLowerCase();
const sameMac = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * What of `req` the interface `ifname` in `result` does not carry, each as a phrase for the error
 * message; empty when everything asked for is there. An IP counts when an ips[] entry has the
 * same address (and the same prefix when the request gave one) and belongs to that interface (or
 * names no interface).
 */
export function missingRequests(result: Result, ifname: string, req: AddressRequest): string[] {
  const missing: string[] = [];
  const ifaces = result.interfaces ?? [];
  // The pod-side interface: a host-side peer may share the name only in another namespace.
  const inPod = ifaces.findIndex((i) => i.name === ifname && i.sandbox !== undefined && i.sandbox !== '');
  const index = inPod >= 0 ? inPod : ifaces.findIndex((i) => i.name === ifname);
  if (req.mac !== undefined) {
    const have = index >= 0 ? ifaces[index]!.mac : undefined;
    if (index < 0) missing.push(`mac ${req.mac} (the result has no interface ${ifname})`);
    else if (!have || !sameMac(have, req.mac)) missing.push(`mac ${req.mac} (interface ${ifname} has ${have ? `mac ${have}` : 'no mac'})`);
  }
  for (const want of req.ips ?? []) {
    const found = (result.ips ?? []).some((ip) => {
      if (ip.interface !== undefined && ifaces[ip.interface]?.name !== ifname) return false;
      if (addressOf(ip.address) !== addressOf(want)) return false;
      return !want.includes('/') || ip.address.split('/')[1] === want.split('/')[1];
    });
    if (!found) {
      const got = (result.ips ?? []).map((ip) => ip.address);
      missing.push(`ip ${want} (${ifname} got ${got.length ? got.join(', ') : 'no address'})`);
    }
  }
  return missing;
}
