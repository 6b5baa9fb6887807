// GC (1.1.0): full DEL for every recorded pod not in the runtime's valid list (given up on
// when it fails: no runtime will ask again), then GC forwarded to every network braid has
// cached, keeping the valid pods' attachments.
import { CniError, Code, toCniError } from '../../cni/errors.js';
import type { NetConfList } from '../../cni/config.js';
import { joinErrors, type GcAttachment } from '../../engine/engine.js';
import { log } from '../../log.js';
import type { MetaContext } from '../context.js';
import { listPlans, plannedList, type PlanRecord } from '../plan-record.js';
import { sweepRecords } from '../sweep.js';
import { errorsOf, rollback } from './del.js';
import { multusCachedPods, multusContext, multusTeardowns, readMultusCache, removeMultusCache } from '../multus-cache.js';

export function validAttachments(raw: unknown): GcAttachment[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || !raw.every((a) => a && typeof a.containerID === 'string' && typeof a.ifname === 'string')) {
    throw new CniError(Code.InvalidConfig, 'cni.dev/valid-attachments must be a list of {"containerID","ifname"}');
  }
  return raw as GcAttachment[];
}

export async function gc(ctx: MetaContext, stdinConfig: Record<string, unknown>): Promise<undefined> {
  const valid = validAttachments(stdinConfig['cni.dev/valid-attachments']);
  const validContainers = new Set(valid.map((v) => v.containerID));
  const errors: CniError[] = [];
  for (const swept of await sweepRecords(ctx, { validContainers, graceMs: Infinity })) {
    for (const msg of swept.errors ?? []) errors.push(new CniError(Code.Internal, msg));
  }
  const kept: PlanRecord[] = [];
  for (const { file, read } of listPlans(ctx.config.cniDir)) {
    if (read.state === 'ok') kept.push(read.plan);
    else log().warn({ file }, 'GC: unreadable plan record left for its DEL');
  }
  // Pods Multus attached and the runtime no longer has: torn down from Multus's cache.
  const plannedIds = new Set(kept.map((p) => p.containerId));
  const keptIds = new Set(valid.map((v) => v.containerID));
  const multusKept: GcAttachment[] = [];
  for (const pod of multusCachedPods(ctx.config.multusCniDir)) {
    if (plannedIds.has(pod.containerId)) continue;
    const cache = readMultusCache(ctx.config.multusCniDir, pod.containerId);
    if (cache.state !== 'ok') continue;
    if (keptIds.has(pod.containerId)) {
      // A live pod's Multus attachments stay valid for the delegates' own GC below.
      multusKept.push(...multusTeardowns(ctx, cache.delegates, pod.ifname).map((t) => ({ containerID: pod.containerId, ifname: t.ifname })));
      continue;
    }
    const podCtx = multusContext({ ...ctx, env: { ...ctx.env, containerId: pod.containerId, netns: pod.netns, ifname: pod.ifname, args: [] } });
    const unfinished = await rollback(podCtx, multusTeardowns(podCtx, cache.delegates, pod.ifname));
    if (unfinished.length) errors.push(...errorsOf(unfinished));
    else removeMultusCache(cache.file);
  }
  // Delegates keep what the valid pods use: every attachment of every kept plan.
  const delegateValid: GcAttachment[] = [...kept.flatMap((p) => p.attachments.map((a) => ({ containerID: p.containerId, ifname: a.ifname }))), ...multusKept];
  const networks = new Map<string, NetConfList>();
  for (const p of kept) for (const a of p.attachments) {
    const list = plannedList(a);
    networks.set(list.name, list);
  }
  for (const list of networks.values()) {
    try {
      await ctx.engine.gcList(list, delegateValid);
    } catch (e) {
      errors.push(toCniError(e).withContext(`GC of ${list.name}`));
    }
  }
  if (errors.length) throw joinErrors(errors);
  return undefined;
}
