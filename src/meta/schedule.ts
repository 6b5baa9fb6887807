// braid's parallel schedule, in one place for ADD, DEL (and rollback, GC) and the
// benchmark's direct run of the same schedule with no meta-plugin.
import type { NetConfList } from '../cni/config.js';

// Meta plugins that only change the host (iptables DNAT, host-side tc and ifb, host firewall
// rules) and only read the pod's namespace. Once every other plugin of the cluster chain has
// run, the cluster interface is up in the pod and these need not hold the secondaries back.
const HOST_SIDE_PLUGINS = new Set(['portmap', 'bandwidth', 'firewall']);

/** Index of the cluster chain's last plugin that may change the pod; the rest is host-side. */
export function podSideEnd(a: { list: NetConfList }): number {
  const plugins = a.list.plugins;
  let end = plugins.length - 1;
  while (end > 0 && HOST_SIDE_PLUGINS.has(String(plugins[end]!.type))) end--;
  return end;
}

/**
 * ADD: the cluster chain runs (`runFirst`, told after each plugin that succeeded); once its
 * pod-side plugins are done, `startRest` starts every other chain. With a host-side tail, the
 * tail's next plugin is the critical path: it is sent to be started first, the others a tick
 * later. A failed cluster chain starts none. Settles once every started chain has: the
 * cluster's outcome first, then the others' in order.
 */
export async function parallelAdd<T>(
  first: { list: NetConfList },
  runFirst: (afterPlugin: (index: number) => void) => Promise<T>,
  startRest: () => Array<Promise<T>>,
): Promise<Array<PromiseSettledResult<T>>> {
  const end = podSideEnd(first);
  const hasTail = end < first.list.plugins.length - 1;
  let rest: Promise<Array<PromiseSettledResult<T>>> | undefined;
  const start = () => void (rest ??= Promise.allSettled(startRest()));
  let later: NodeJS.Immediate | undefined;
  const [outcome] = await Promise.allSettled([runFirst((i) => i === end && (hasTail ? (later = setImmediate(start)) : start()))]);
  clearImmediate(later);
  // A tail that finished within that tick still starts them.
  if (outcome!.status === 'fulfilled') start();
  return [outcome!, ...((await rest) ?? [])];
}

/**
 * DEL, the mirror image: every other chain at once (`startRest`), alongside the cluster chain's
 * host-side tail; the cluster's pod-side plugins (`runFirst` awaits `beforePlugin(i)` before
 * plugin i) once the others have all settled, so a network that leans on eth0 never loses it
 * first.
 */
export async function parallelDel<T>(
  first: { list: NetConfList },
  runFirst: (beforePlugin: (index: number) => Promise<unknown> | undefined) => Promise<T>,
  startRest: () => Array<Promise<T>>,
): Promise<Array<PromiseSettledResult<T>>> {
  const end = podSideEnd(first);
  const rest = Promise.allSettled(startRest());
  const [outcome] = await Promise.allSettled([runFirst((i) => (i <= end ? rest : undefined))]);
  return [outcome!, ...(await rest)];
}

/** The values of settled chains, or the first failure (plan order). */
export function settledValues<T>(settled: Array<PromiseSettledResult<T>>): T[] {
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
