// When a container's records are lost (plan missing or corrupt, result records gone), what
// to tear down is rebuilt from the pod's network-status annotation and the NADs it names, with
// the interface names braid gave them. Only this path of DEL calls the API.
import { CniError, Code, toCniError } from '../cni/errors.js';
import { log } from '../log.js';
import type { MetaContext } from './context.js';
import { NETWORK_STATUS_ANNOTATION, type NetworkStatusEntry } from './network-status.js';
import { resolveClusterNetwork, resolveNad, type ResolveContext } from './resolve-networks.js';
import type { Teardown } from './verbs/del.js';

export const REBUILT = 'rebuilt from the API after its records were lost';

export type Rebuild =
  | { outcome: 'rebuilt'; items: Teardown[]; source: string; unknown: string[] }
  /** Nothing to learn: no API configured, no pod identity, the pod is gone or was recreated. */
  | { outcome: 'unknowable'; detail: string }
  /** The API could not be asked now: worth asking again later. */
  | { outcome: 'unreachable'; detail: string };

// getPod's 404 (its message, as kube-api.ts words it): the pod object is gone.
const podGone = (e: CniError) => e.message.includes('not found in the Kubernetes API');

function statusEntries(annotations: Record<string, string> | undefined): NetworkStatusEntry[] | undefined {
  const text = annotations?.[NETWORK_STATUS_ANNOTATION];
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.filter((e): e is NetworkStatusEntry => !!e && typeof e === 'object' && typeof e.name === 'string') : undefined;
  } catch {
    return undefined;
  }
}

/** The attachments the pod's network-status names, one per network, with its first interface. */
async function fromStatus(ctx: MetaContext, rctx: ResolveContext, entries: NetworkStatusEntry[]): Promise<{ items: Teardown[]; unknown: string[] }> {
  const items: Teardown[] = [];
  const unknown: string[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    if (!e.interface || seen.has(e.name)) continue;
    seen.add(e.name);
    try {
      const net = e.default
        ? await resolveClusterNetwork(rctx)
        : await resolveNad(rctx, ...((e.name.includes('/') ? e.name.split('/', 2) : [rctx.podNamespace!, e.name]) as [string, string]));
      const capabilityArgs = e.default ? ((ctx.config.runtimeConfig ?? {}) as Record<string, unknown>) : {};
      items.push({ list: net.list, ifname: e.interface, capabilityArgs, network: e.name, lenient: REBUILT });
    } catch (err) {
      const c = toCniError(err);
      if (c.code === Code.TryAgainLater) throw c;
      unknown.push(`${e.name} (${e.interface}): ${c.message}`);
    }
  }
  return { items, unknown };
}

export async function rebuildFromApi(ctx: MetaContext): Promise<Rebuild> {
  if (!ctx.pod) return { outcome: 'unknowable', detail: 'CNI_ARGS name no pod' };
  const { namespace, name } = ctx.pod;
  try {
    const api = await ctx.api();
    if (!api) return { outcome: 'unknowable', detail: 'no Kubernetes API configured' };
    let pod;
    try {
      pod = await api.getPod(namespace, name);
    } catch (e) {
      const c = toCniError(e);
      if (podGone(c)) return { outcome: 'unknowable', detail: `pod ${namespace}/${name} is gone from the API` };
      throw c;
    }
    if (ctx.pod.uid && pod.metadata.uid && pod.metadata.uid !== ctx.pod.uid) {
      return { outcome: 'unknowable', detail: `pod ${namespace}/${name} was recreated (uid ${pod.metadata.uid}, the runtime's ${ctx.pod.uid})` };
    }
    const rctx: ResolveContext = { api, config: ctx.config, podNamespace: namespace, nadMemo: new Map() };
    const entries = statusEntries(pod.metadata.annotations);
    if (entries) return { outcome: 'rebuilt', source: 'network-status annotation', ...(await fromStatus(ctx, rctx, entries)) };
    // No status (its write failed, or the ADD never finished): the plan ADD would make now.
    const { buildPlan } = await import('./verbs/add.js');
    const plan = await buildPlan(ctx);
    return {
      outcome: 'rebuilt',
      source: 'pod networks annotation',
      unknown: [],
      items: plan.map((a) => ({ list: a.list, ifname: a.ifname, capabilityArgs: a.capabilityArgs, network: a.network, lenient: REBUILT })),
    };
  } catch (e) {
    const c = toCniError(e);
    if (c.code === Code.TryAgainLater || c.code === Code.IOFailure) return { outcome: 'unreachable', detail: c.message };
    log().warn({ err: c.message }, 'records lost: the pod\'s networks could not be rebuilt');
    return { outcome: 'unknowable', detail: c.message };
  }
}
