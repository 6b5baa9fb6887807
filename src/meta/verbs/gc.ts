// GC (1.1.0): full DEL for every recorded pod not in the runtime's valid list, then GC
// forwarded to every network braid has cached, keeping the valid pods' attachments.
import { CniError, Code, toCniError } from '../../cni/errors.js';
import type { NetConfList } from '../../cni/config.js';
import { joinErrors, type GcAttachment } from '../../engine/engine.js';
import { log } from '../../log.js';
import type { MetaContext } from '../context.js';
import { listPlans, plannedList, removePlan, type PlanRecord } from '../plan-record.js';
import { rollback, teardownsOf, parallelTeardown } from './del.js';

export function validAttachments(raw: unknown): GcAttachment[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || !raw.every((a) => a && typeof a.containerID === 'string' && typeof a.ifname === 'string')) {
    throw new CniError(Code.InvalidConfig, 'cni.dev/valid-attachments must be a list of {"containerID","ifname"}');
  }
  return raw as GcAttachment[];
}

export async function gc(ctx: MetaContext, stdinConfig: Record<string, unknown>): Promise<undefined> {
  const valid = validAttachments(stdinConfig['cni.dev/valid-attachments']);
  const keep = new Set(valid.map((v) => `${v.containerID}\u0000${v.ifname}`));
  const errors: CniError[] = [];
  const kept: PlanRecord[] = [];
  for (const { file, read } of listPlans(ctx.config.cniDir)) {
    if (read.state !== 'ok') {
      log().warn({ file }, 'GC: unreadable plan record left for its DEL');
      continue;
    }
    const p = read.plan;
    if (keep.has(`${p.containerId}\u0000${p.ifname}`)) {
      kept.push(p);
      continue;
    }
    const podCtx = { ...ctx, env: { ...ctx.env, containerId: p.containerId, netns: p.netns, ifname: p.ifname, args: p.cniArgs } };
    const failures = await rollback(podCtx, teardownsOf(p), parallelTeardown(podCtx, p));
    if (failures.length) errors.push(...failures);
    else removePlan(ctx.config.cniDir, p.containerId, p.ifname);
  }
  // Delegates keep what the valid pods use: every attachment of every kept plan.
  const delegateValid: GcAttachment[] = kept.flatMap((p) => p.attachments.map((a) => ({ containerID: p.containerId, ifname: a.ifname })));
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
