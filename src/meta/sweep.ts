// Orphan records: plans (and result-cache records) of containers that no longer exist. A
// runtime that ignores a DEL error, or never sends DEL, leaves them behind; CNI GC, the
// daemon's periodic sweep and `braid gc` all come here. A record is an orphan only on
// evidence: the runtime's valid-attachments list leaves it out, or its recorded netns is gone,
// seen from a netns directory braid can see, for longer than a grace period. A sweep never
// touches the records of a sandbox that may still exist.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseConfigBytes } from '../cni/config.js';
import { configBytes, listRecords, removeRecord, type CacheRecord } from '../engine/result-cache.js';
import { log } from '../log.js';
import type { MetaContext } from './context.js';
import { withGcLock } from './container-lock.js';
import { listPlans, removePlan, type PlanRecord } from './plan-record.js';
import { delWithoutPlan, errorsOf, parallelTeardown, rollback, teardownsOf, type Teardown } from './verbs/del.js';
import type { PlanRead } from './plan-record.js';

export interface SweepOptions {
  /** The containers of the runtime's valid attachments, when it sent a list (CNI GC). */
  validContainers?: ReadonlySet<string>;
  /** How long a netns must have been gone before its records count as orphans. */
  graceMs: number;
  dryRun?: boolean;
  now?: number;
  /**
   * When each netns was first seen gone (the daemon keeps this between sweeps): with it, the
   * grace runs from that sighting, not from the record's age.
   */
  goneSince?: Map<string, number>;
  /** Filled by the sweep: every netns it judged (the rest of goneSince is forgotten). */
  judged?: Set<string>;
}

/** How long an unfinished DEL waits for the API before its record is dropped (and said so). */
export const UNFINISHED_MAX_AGE_MS = 24 * 3600_000;

export interface SweepEntry {
  record: string;
  containerId: string;
  ifname?: string;
  pod?: string;
  /** Why it is (or is not) an orphan. */
  reason: string;
  action: 'removed' | 'would remove' | 'kept';
  errors?: string[];
}

const NO_CONTAINER = 'of a container that no longer exists';

/** The recorded netns is gone, judged safely; a reason, or undefined when it may still exist. */
function netnsGone(netns: string | undefined, bornMs: number, opts: SweepOptions, now: number): string | undefined {
  if (!netns) return undefined; // nothing recorded to judge by
  opts.judged?.add(netns);
  if (existsSync(netns)) {
    opts.goneSince?.delete(netns);
    return undefined;
  }
  // A netns directory braid can't see (not mounted into its container) says nothing.
  if (!existsSync(dirname(netns))) return undefined;
  let since = bornMs;
  if (opts.goneSince) {
    if (!opts.goneSince.has(netns)) opts.goneSince.set(netns, now);
    since = opts.goneSince.get(netns)!;
  }
  const age = now - since;
  if (age < opts.graceMs) return undefined;
  return `netns ${netns} is gone (for ${Math.round(age / 1000)}s, grace ${Math.round(opts.graceMs / 1000)}s)`;
}

function mtimeMs(path: string, fallback: number): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return fallback;
  }
}

function orphanReason(containerId: string, netns: string | undefined, bornMs: number, opts: SweepOptions, now: number): string | undefined {
  if (opts.validContainers && !opts.validContainers.has(containerId)) return "not in the runtime's valid attachments";
  return netnsGone(netns, bornMs, opts, now);
}

const podName = (p: PlanRecord) => (p.pod ? `${p.pod.namespace}/${p.pod.name}` : undefined);

function cachedTeardown(rec: CacheRecord): Teardown | undefined {
  try {
    return { list: parseConfigBytes(configBytes(rec), 'cached network config'), ifname: rec.ifName, capabilityArgs: rec.capabilityArgs ?? {}, lenient: NO_CONTAINER };
  } catch {
    return undefined;
  }
}

/** Tears down an orphan's attachments; every failure is given up on (no runtime will retry). */
async function tearDown(ctx: MetaContext, containerId: string, netns: string, args: PlanRecord['cniArgs'], items: Teardown[], parallel: boolean): Promise<string[]> {
  const podCtx: MetaContext = { ...ctx, env: { ...ctx.env, containerId, netns, args, ifname: items[0]?.ifname ?? ctx.env.ifname } };
  return errorsOf(await rollback(podCtx, items, parallel)).map((e) => e.message);
}

/** A DEL that found its records lost while the API was unreachable: asks the API again. */
async function finishUnfinished(ctx: MetaContext, p: PlanRecord, record: string, read: PlanRead, dryRun: boolean, now: number): Promise<SweepEntry> {
  const entry: SweepEntry = { record, containerId: p.containerId, ifname: p.ifname, reason: `unfinished DEL (${p.unfinished!.reason})`, action: dryRun ? 'would remove' : 'removed' };
  const pod = podName(p);
  if (pod) entry.pod = pod;
  if (dryRun) return entry;
  const podCtx: MetaContext = { ...ctx, pod: p.pod, env: { ...ctx.env, containerId: p.containerId, netns: p.netns, ifname: p.ifname, args: p.cniArgs } };
  try {
    if ((await delWithoutPlan(podCtx, read)) === 'kept') {
      const waited = now - (p.unfinished!.since ?? now);
      if (waited < UNFINISHED_MAX_AGE_MS) Object.assign(entry, { action: 'kept', reason: `${entry.reason}; the API is still unreachable` });
      else {
        // A record that can never be finished must not stay for ever: dropped, and said so.
        removePlan(ctx.config.cniDir, p.containerId, p.ifname);
        log().error({ containerId: p.containerId, pod, waitedHours: Math.round(waited / 3600_000) }, 'unfinished DEL dropped: the API never answered; its secondary networks may still hold IPs on this node');
        entry.reason = `${entry.reason}; the API did not answer for ${Math.round(waited / 3600_000)}h: dropped`;
      }
    }
  } catch (e) {
    Object.assign(entry, { action: 'kept', errors: [(e as Error).message] });
  }
  return entry;
}

/** Finds orphan records and (unless dryRun) tears them down and removes them. */
export async function sweepRecords(ctx: MetaContext, options: SweepOptions): Promise<SweepEntry[]> {
  const opts: SweepOptions = { ...options, judged: new Set() };
  const now = opts.now ?? Date.now();
  const cniDir = ctx.config.cniDir;
  const out: SweepEntry[] = [];
  const cache = listRecords(cniDir).records;
  const planned = new Set<string>();
  for (const { file, read } of listPlans(cniDir)) {
    const path = join(cniDir, 'plans', file);
    if (read.state !== 'ok') {
      // Unreadable: its container is known only through its result-cache records.
      const mine = cache.filter((r) => file.startsWith(`${r.containerId}-`));
      const cid = mine[0]?.containerId;
      if (!cid) {
        out.push({ record: `plans/${file}`, containerId: '?', reason: 'unreadable, and no result-cache record names its container', action: 'kept' });
        continue;
      }
      planned.add(cid);
      const reason = orphanReason(cid, mine[0]!.netns, mtimeMs(path, now), opts, now);
      if (!reason) continue;
      const entry: SweepEntry = { record: `plans/${file}`, containerId: cid, reason: `unreadable; ${reason}`, action: opts.dryRun ? 'would remove' : 'removed' };
      if (!opts.dryRun) {
        const items = mine.map(cachedTeardown).filter((t): t is Teardown => t !== undefined);
        const errors = await tearDown(ctx, cid, mine[0]!.netns ?? '', mine[0]!.cniArgs ?? [], items, false);
        if (errors.length) Object.assign(entry, { action: 'kept', errors });
        else removePlan(cniDir, cid, file.slice(cid.length + 1));
      }
      out.push(entry);
      continue;
    }
    const p = read.plan;
    planned.add(p.containerId);
    if (p.unfinished) {
      out.push(await finishUnfinished(ctx, p, `plans/${file}`, read, opts.dryRun === true, now));
      continue;
    }
    const reason = orphanReason(p.containerId, p.netns, p.createdAt ?? mtimeMs(path, now), opts, now);
    if (!reason) continue;
    const entry: SweepEntry = { record: `plans/${file}`, containerId: p.containerId, ifname: p.ifname, reason, action: opts.dryRun ? 'would remove' : 'removed' };
    const pod = podName(p);
    if (pod) entry.pod = pod;
    if (!opts.dryRun) {
      const errors = await tearDown(ctx, p.containerId, p.netns, p.cniArgs, teardownsOf(p, NO_CONTAINER), parallelTeardown(ctx, p));
      if (errors.length) Object.assign(entry, { action: 'kept', errors });
      else removePlan(cniDir, p.containerId, p.ifname);
    }
    out.push(entry);
  }
  // Result-cache records with no plan: left by a lost plan, or by a DEL cut short.
  for (const rec of cache) {
    if (planned.has(rec.containerId)) continue;
    const file = `results/${rec.networkName}-${rec.containerId}-${rec.ifName}`;
    const reason = orphanReason(rec.containerId, rec.netns, mtimeMs(join(cniDir, file), now), opts, now);
    if (!reason) continue;
    const entry: SweepEntry = { record: file, containerId: rec.containerId, ifname: rec.ifName, reason, action: opts.dryRun ? 'would remove' : 'removed' };
    const item = cachedTeardown(rec);
    if (!opts.dryRun && item) {
      const errors = await tearDown(ctx, rec.containerId, rec.netns ?? '', rec.cniArgs ?? [], [item], false);
      if (errors.length) Object.assign(entry, { action: 'kept', errors });
    } else if (!opts.dryRun) {
      // Its config can't be read back, so nothing can be torn down with it: only the record goes.
      removeRecord(cniDir, { network: rec.networkName, containerId: rec.containerId, ifname: rec.ifName });
    }
    out.push(entry);
  }
  for (const e of out) if (e.action !== 'kept' || e.errors) log().info({ ...e }, 'orphan record swept');
  if (opts.goneSince && opts.judged) for (const k of opts.goneSince.keys()) if (!opts.judged.has(k)) opts.goneSince.delete(k);
  return out;
}

/** sweepRecords with no ADD, DEL or CHECK in flight (GC's lock); a dry run needs no lock. */
export function sweepLocked(ctx: MetaContext, opts: SweepOptions, waitMs?: number): Promise<SweepEntry[]> {
  if (opts.dryRun) return sweepRecords(ctx, opts);
  return withGcLock(ctx.config.cniDir, () => sweepRecords(ctx, opts), waitMs);
}
