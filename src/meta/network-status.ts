// The k8s.v1.cni.cncf.io/network-status annotation (NPWG v1.3 section 5), built the way the
// network-attachment-definition client's CreateNetworkStatuses does, so tools that read Multus's
// annotation read braid's unchanged.
import ipaddr from 'ipaddr.js';
import type { Dns } from '../cni/result.js';
import { keptDefaultRoutes, type AttachmentResult } from './result-merge.js';

export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';

/** Key order is the Go client's struct order (NetworkStatus in k8s.cni.cncf.io/v1 types.go). */
export interface NetworkStatusEntry {
  name: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  mtu?: number;
  default?: boolean;
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  'device-info'?: unknown;
  gateway?: string[];
}

/** Go's net.IP.String(): IPv6 in RFC 5952 form; IPv4 and anything odd as given. */
function canonical(address: string): string {
  const ip = address.split('/')[0]!;
  try {
    return ip.includes(':') && !ip.includes('.') ? ipaddr.IPv6.parse(ip).toString() : ip;
  } catch {
    return ip;
  }
}

/** Only the four standard keys, empty ones left out (the Go struct's omitempty). */
function statusDns(dns: Dns | undefined): NetworkStatusEntry['dns'] {
  if (!dns) return undefined;
  const out: NonNullable<NetworkStatusEntry['dns']> = {};
  if (dns.nameservers?.length) out.nameservers = [...dns.nameservers];
  if (dns.domain) out.domain = dns.domain;
  if (dns.search?.length) out.search = [...dns.search];
  if (dns.options?.length) out.options = [...dns.options];
  return Object.keys(out).length ? out : undefined;
}

function entry(fields: NetworkStatusEntry): NetworkStatusEntry {
  const ordered: NetworkStatusEntry = { name: fields.name };
  for (const k of ['interface', 'ips', 'mac', 'mtu', 'default', 'dns', 'device-info', 'gateway'] as const) {
    const v = fields[k];
    if (v === undefined || v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0)) continue;
    (ordered as unknown as Record<string, unknown>)[k] = structuredClone(v);
  }
  return ordered;
}

function entriesFor(a: AttachmentResult, defaults: readonly { gw?: string | undefined }[]): NetworkStatusEntry[] {
  const { interfaces = [], ips = [], dns } = a.result;
  const common = {
    name: a.network,
    dns: statusDns(dns),
    'device-info': a.deviceInfo,
    // Gateways of the default routes this attachment keeps (CreateNetworkStatus takes the
    // result's default routes; braid's results have already had default-route applied).
    gateway: defaults.flatMap((r) => (r.gw ? [canonical(r.gw)] : [])),
  };
  const sandbox = interfaces.flatMap((iface, i) => (iface.sandbox ? [i] : []));
  const unindexed = ips.filter((ip) => ip.interface === undefined || ip.interface < 0);
  if (sandbox.length === 0) {
    // Some plugins report no sandbox interface: one minimal entry named by the ifname braid
    // chose (spec 5.1.1, 5.3.2.1), with the addresses not tied to a host-side interface (5.3.3.1).
    return [entry({ ...common, interface: a.ifname, ips: unindexed.map((ip) => canonical(ip.address)), default: a.isCluster })];
  }
  // Cluster network with several pod interfaces: `default` marks the one the first gateway-bearing
  // ip points at, else the first (CreateNetworkStatuses); exactly one entry is default.
  const gwIndex = ips.find((ip) => ip.gateway && ip.interface !== undefined && sandbox.includes(ip.interface))?.interface;
  const defaultIndex = gwIndex ?? sandbox[0];
  return sandbox.map((i) => {
    const iface = interfaces[i]!;
    const mine = ips.filter((ip) => ip.interface === i || (sandbox.length === 1 && unindexed.includes(ip)));
    return entry({
      ...common,
      interface: iface.name,
      ips: mine.map((ip) => canonical(ip.address)),
      mac: iface.mac,
      mtu: iface.mtu,
      default: a.isCluster && i === defaultIndex,
    });
  });
}

/** One entry per pod-side interface of each attachment, in attachment order. */
export function networkStatus(attachments: readonly AttachmentResult[]): NetworkStatusEntry[] {
  const kept = keptDefaultRoutes(attachments);
  return attachments.flatMap((a, n) => entriesFor(a, kept[n]!));
}

/** The annotation value exactly as the Go client writes it: each entry indented 4, joined by ','. */
export const formatNetworkStatus = (entries: readonly NetworkStatusEntry[]): string =>
  `[${entries.map((e) => JSON.stringify(e, null, 4)).join(',')}]`;

/**
 * A JSON merge patch body (for the pod's status subresource, as Multus uses UpdateStatus). With
 * the pod's UID in it, the API server refuses to apply it to another pod of the same name (the
 * precondition kubelet's own status patches carry).
 */
export function networkStatusPatch(
  entries: readonly NetworkStatusEntry[],
  uid?: string,
): { metadata: { uid?: string; annotations: Record<string, string> } } {
  return { metadata: { ...(uid ? { uid } : {}), annotations: { [NETWORK_STATUS_ANNOTATION]: formatNetworkStatus(entries) } } };
}
