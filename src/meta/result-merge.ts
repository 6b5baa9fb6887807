// One result for the runtime out of several attachments' results (braid returns them all, not
// only the cluster network's, as runtimes expect). Pure; inputs are never mutated.
import ipaddr from 'ipaddr.js';
import type { Result, Route } from '../cni/result.js';

export interface AttachmentResult {
  /** "ns/name" for a NAD, or the network name of a file/inline config. */
  network: string;
  ifname: string;
  isCluster: boolean;
  /** This selection carried `default-route`. */
  wantsDefaultRoute?: boolean;
  /** The gateways it asked for (one per family at most). */
  defaultRouteGateways?: string[];
  /** device-info-spec data for network-status, when the attachment has a device. */
  deviceInfo?: unknown;
  result: Result;
}

type Family = '4' | '6';
const familyOf = (addr: string): Family => (addr.includes(':') ? '6' : '4');
const ANY: Record<Family, string> = { '4': '0.0.0.0/0', '6': '::/0' };

/**
 * A main-table default route (0.0.0.0/0, ::/0, or any spelling with prefix 0). Routes with an
 * explicit `table` are policy routing for one interface and never compete for the default.
 */
export function isDefaultRoute(route: Route): boolean {
  if (route.table !== undefined) return false;
  try {
    return ipaddr.parseCIDR(route.dst)[1] === 0;
  } catch {
    return false;
  }
}

/**
 * The default routes each attachment keeps, mirroring what default-route.ts does in the pod
 * (NPWG v1.3 `default-route`, Multus's gateway filter): when an attachment asked for default-route,
 * only it keeps default routes; per family, a default via the gateway it asked for (its own route
 * when that already has the gateway, else a synthesised one; the ips' gateways when it named none),
 * or else its own default routes of that family. Every other attachment, the cluster network
 * included, loses its default routes. When nobody asked, only the cluster network keeps them.
 */
export function keptDefaultRoutes(attachments: readonly AttachmentResult[]): Route[][] {
  const kept: Route[][] = attachments.map(() => []);
  const asker = attachments.findIndex((a) => a.wantsDefaultRoute);
  const keeper = asker >= 0 ? asker : attachments.findIndex((a) => a.isCluster);
  if (keeper < 0) return kept;
  const { result, defaultRouteGateways } = attachments[keeper]!;
  const ipGateways = (result.ips ?? []).flatMap((ip) => (ip.gateway ? [ip.gateway] : []));
  const asked = asker < 0 ? [] : defaultRouteGateways?.length ? defaultRouteGateways : ipGateways;
  for (const fam of ['4', '6'] as const) {
    const own = (result.routes ?? []).filter((r) => isDefaultRoute(r) && familyOf(r.dst) === fam);
    // `ip route replace default` per gateway: the last one of a family is what stays.
    const gw = asked.filter((g) => familyOf(g) === fam).at(-1);
    const via = own.filter((r) => r.gw === gw);
    kept[keeper]!.push(...(gw === undefined ? own : via.length ? via : [{ dst: ANY[fam], gw }]));
  }
  return kept;
}

/**
 * Interfaces concatenated in attachment order, ips[].interface shifted by the attachment's offset
 * (an index outside the attachment's own interfaces is dropped rather than pointed at another
 * attachment's interface), non-default routes kept, one default route per family (see
 * keptDefaultRoutes), DNS and cniVersion from the cluster network.
 */
export function mergeResults(attachments: readonly AttachmentResult[]): Result {
  if (attachments.length === 0) throw new Error('mergeResults: no attachments');
  const cluster = attachments.find((a) => a.isCluster);
  const kept = keptDefaultRoutes(attachments);
  const out: Result = { cniVersion: (cluster ?? attachments[0]!).result.cniVersion };
  const interfaces: NonNullable<Result['interfaces']> = [];
  const ips: NonNullable<Result['ips']> = [];
  const routes: Route[] = [];
  attachments.forEach((a, n) => {
    const r = structuredClone(a.result);
    const offset = interfaces.length;
    const own = r.interfaces?.length ?? 0;
    interfaces.push(...(r.interfaces ?? []));
    for (const { interface: idx, ...ip } of r.ips ?? []) {
      ips.push(idx !== undefined && idx >= 0 && idx < own ? { ...ip, interface: idx + offset } : ip);
    }
    const keep = kept[n]!;
    const original = a.result.routes ?? [];
    // kept routes are the input objects themselves, or synthesised ones (appended).
    (r.routes ?? []).forEach((route, i) => {
      if (!isDefaultRoute(route) || keep.includes(original[i]!)) routes.push(route);
    });
    routes.push(...structuredClone(keep.filter((k) => !original.includes(k))));
  });
  if (interfaces.length) out.interfaces = interfaces;
  if (ips.length) out.ips = ips;
  if (routes.length) out.routes = routes;
  if (cluster?.result.dns) out.dns = structuredClone(cluster.result.dns);
  return out;
}

/**
 * `result: "cluster"` (Multus's behaviour): only the cluster network's result, minus the default
 * routes another attachment's `default-route` took over, as in the merged result.
 */
export function clusterOnly(attachments: readonly AttachmentResult[]): Result {
  const n = attachments.findIndex((a) => a.isCluster);
  if (n < 0) throw new Error('clusterOnly: no cluster network attachment');
  const { result } = attachments[n]!;
  const keep = keptDefaultRoutes(attachments)[n]!;
  const out = structuredClone(result);
  if (result.routes) out.routes = structuredClone(result.routes.filter((r) => !isDefaultRoute(r) || keep.includes(r)));
  return out;
}
