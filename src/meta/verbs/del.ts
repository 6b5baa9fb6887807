// DEL: replay the recorded plan in reverse with no API call; continue past failures and
// report them (never swallow). With no plan, DEL the cluster network from config; with a
// corrupt plan, tear down every result-cache record of the container, then drop the plan, so a
// bad file can neither leak IPs nor make DEL fail forever. An attachment whose ADD never
// succeeded is given up on when its DEL fails, after what it held is released directly.
import { CniError, toCniError } from '../../cni/errors.js';
import { parseConfigBytes, type NetConfList } from '../../cni/config.js';
import { joinErrors } from '../../engine/engine.js';
import { configBytes, listRecords } from '../../engine/result-cache.js';
import { log } from '../../log.js';
import { runtimeFor, type MetaContext } from '../context.js';
import { parallelDel } from '../schedule.js';
import { neverAdded, plannedList, planPath, readPlan, recordHead, removePlan, writePlan, type PlanRead, type PlanRecord } from '../plan-record.js';
import { rebuildFromApi } from '../lost-records.js';
import { isBaseInterface, netnsLinks } from '../netns-view.js';
import { reservations } from '../host-local.js';
import { giveUp } from '../give-up.js';
import { resolveClusterNetwork } from '../resolve-networks.js';
import { multusContext, multusTeardowns, readMultusCache, removeMultusCache } from '../multus-cache.js';

export interface Teardown {
  list: NetConfList;
  ifname: string;
  capabilityArgs: Record<string, unknown>;
  network?: string;
  /**
   * Why braid may give up on this attachment when its DEL fails (it has no evidence the ADD
   * ever succeeded, or no runtime is left to retry); undefined: strict, the failure is returned.
   */
  lenient?: string | undefined;
}

export interface Unfinished {
  item: Teardown;
  error: CniError;
}

/**
 * DEL each attachment, last first; returns the strict failures (empty when all went), in plan
 * order. A lenient attachment's failure is given up on (see give-up.ts) instead.
 * With `parallel` (the first item being the cluster network), the mirror of the parallel ADD:
 * every other attachment at once, alongside the cluster chain's host-side tail, and the
 * cluster's pod-side plugins once they are all gone.
 */
export async function rollback(ctx: MetaContext, items: Teardown[], parallel = false): Promise<Unfinished[]> {
  const errors: Array<CniError | undefined> = [];
  const one = async (k: number, beforePlugin?: (index: number) => Promise<unknown> | undefined) => {
    const t = items[k]!;
    try {
      await ctx.engine.delList(t.list, runtimeFor(ctx, t), beforePlugin);
    } catch (e) {
      errors[k] = toCniError(e).withContext(`DEL of ${t.list.name} (${t.ifname})`);
    }
  };
  if (!parallel || items.length < 2) {
    for (let k = items.length - 1; k >= 0; k--) await one(k);
  } else {
    await parallelDel(items[0]!, (beforePlugin) => one(0, beforePlugin), () => items.slice(1).map((_, j) => one(j + 1)));
  }
  const unfinished: Unfinished[] = [];
  for (const [k, error] of errors.entries()) {
    if (!error) continue;
    const item = items[k]!;
    if (item.lenient) await giveUp(ctx, item, error, item.lenient);
    else unfinished.push({ item, error });
  }
  return unfinished;
}

export const errorsOf = (u: Unfinished[]): CniError[] => u.map((x) => x.error);

export const NEVER_ADDED = 'whose ADD never succeeded';

/** Every attachment of a recorded plan, as DEL tears it down. */
export const teardownsOf = (plan: PlanRecord, lenientAll?: string): Teardown[] =>
  plan.attachments.map((a) => ({
    list: plannedList(a),
    ifname: a.ifname,
    capabilityArgs: a.capabilityArgs,
    network: a.network,
    lenient: lenientAll ?? (neverAdded(a) ? NEVER_ADDED : undefined),
  }));

/**
 * A plan is torn down in parallel when braid runs in parallel now and the plan starts with its
 * cluster network (plans always do; a record from elsewhere gets the careful order).
 */
export const parallelTeardown = (ctx: MetaContext, plan: PlanRecord): boolean =>
  ctx.config.parallel === true && plan.attachments[0]?.isCluster === true;

/** The cluster network from local config only: DEL must not call the API. */
async function clusterFromConfig(ctx: MetaContext): Promise<Teardown[]> {
  const cn = ctx.config.clusterNetwork;
  if (typeof cn === 'string' && !cn.startsWith('/')) return []; // a NAD: unknowable without the API
  try {
    const net = await resolveClusterNetwork({ api: undefined, config: ctx.config, podNamespace: undefined, nadMemo: new Map() });
    // No record says this ADD ever succeeded: a failure here must not make the pod undeletable
    // (a retried DEL after a failed ADD lands here).
    return [{ list: net.list, ifname: ctx.env.ifname, capabilityArgs: (ctx.config.runtimeConfig ?? {}) as Record<string, unknown>, lenient: 'with no record of a successful ADD' }];
  } catch (e) {
    log().warn({ err: (e as Error).message }, 'DEL without a plan: cluster network config unavailable');
    return [];
  }
}

/** What the engine's result cache still knows about this container (its ADD succeeded: strict). */
function cachedAttachments(ctx: MetaContext): Teardown[] {
  const out: Teardown[] = [];
  for (const rec of listRecords(ctx.config.cniDir).records) {
    if (rec.containerId !== ctx.env.containerId) continue;
    try {
      out.push({ list: parseConfigBytes(configBytes(rec), 'cached network config'), ifname: rec.ifName, capabilityArgs: rec.capabilityArgs ?? {} });
    } catch (e) {
      log().warn({ network: rec.networkName, ifname: rec.ifName, err: (e as Error).message }, 'unusable result-cache record skipped');
    }
  }
  return out;
}

export async function del(ctx: MetaContext): Promise<undefined> {
  const read = readPlan(ctx.config.cniDir, ctx.env.containerId, ctx.env.ifname);
  if (read.state === 'missing' && (await delMultusPod(ctx))) return undefined;
  if (read.state === 'ok' && !read.plan.unfinished) {
    const unfinished = await rollback(ctx, teardownsOf(read.plan), parallelTeardown(ctx, read.plan));
    if (unfinished.length) throw joinErrors(errorsOf(unfinished));
    removePlan(ctx.config.cniDir, ctx.env.containerId, ctx.env.ifname);
    return undefined;
  }
  if (read.state === 'corrupt') log().error({ reason: read.reason }, 'plan record is corrupt; tearing down what the result cache and the API know');
  await delWithoutPlan(ctx, read);
  return undefined;
}

/**
 * A pod Multus attached before braid took over: its delegates from Multus's cache, torn down as
 * Multus would (last first), then the cache file removed. False when Multus has no record of it.
 */
async function delMultusPod(ctx: MetaContext): Promise<boolean> {
  const cache = readMultusCache(ctx.config.multusCniDir, ctx.env.containerId);
  if (cache.state === 'missing') return false;
  if (cache.state === 'corrupt') {
    log().error({ file: cache.file, reason: cache.reason }, "Multus's cache of this pod is unreadable; tearing down the cluster network only");
    return false;
  }
  const unfinished = await rollback(multusContext(ctx), multusTeardowns(ctx, cache.delegates, ctx.env.ifname));
  if (unfinished.length) throw joinErrors(errorsOf(unfinished));
  removeMultusCache(cache.file);
  return true;
}

/**
 * No usable plan. Usually nothing was attached (a DEL retried, or for an ADD that never ran):
 * the cluster network from local config is torn down, with no API call. When records were
 * lost (the plan is corrupt, or unfinished from an earlier DEL; result records of the
 * container remain; the pod's netns holds interfaces no record explains; or the cluster
 * network's host-local still reserves an address for it), what to tear down
 * is rebuilt from the API too; when the API can't be asked now, a record is kept so that a
 * later DEL, `braid gc` or the daemon's sweep finishes the job.
 */
export async function delWithoutPlan(ctx: MetaContext, read: PlanRead): Promise<'done' | 'kept'> {
  const cached = cachedAttachments(ctx);
  const local = await clusterFromConfig(ctx);
  const inPod = await (cached.length || read.state !== 'missing' || !ctx.env.netns ? undefined : netnsLinks(ctx.env.netns));
  const lost =
    read.state !== 'missing' ||
    cached.length > 0 ||
    (inPod ?? []).some((l) => !isBaseInterface(l)) ||
    // The netns may be gone already: an address the cluster network still holds for the
    // container says it was attached all the same.
    local.some((t) => reservations(t.list, ctx.env.containerId, t.ifname).length > 0);
  if (!lost) {
    const unfinished = await rollback(ctx, local);
    if (unfinished.length) throw joinErrors(errorsOf(unfinished));
    removePlan(ctx.config.cniDir, ctx.env.containerId, ctx.env.ifname);
    return 'done';
  }
  const present = inPod ?? (await netnsLinks(ctx.env.netns));
  const rebuilt = await rebuildFromApi(ctx);
  // The most exact source of each interface wins: a result record, then the API, then config.
  const byIfname = new Map<string, Teardown>();
  for (const t of [...cached, ...(rebuilt.outcome === 'rebuilt' ? rebuilt.items : []), ...local]) if (!byIfname.has(t.ifname)) byIfname.set(t.ifname, t);
  // The pod's own interface first: a sequential teardown goes last-first.
  const items = [...byIfname.values()].sort((a, b) => Number(b.ifname === ctx.env.ifname) - Number(a.ifname === ctx.env.ifname));
  const unexplained = (present ?? []).filter((l) => !isBaseInterface(l) && !byIfname.has(l.ifname)).map((l) => l.ifname);
  const fields = {
    containerId: ctx.env.containerId,
    pod: ctx.pod ? `${ctx.pod.namespace}/${ctx.pod.name}` : undefined,
    tearingDown: items.map((t) => `${t.network ?? t.list.name} (${t.ifname})`),
    ...(rebuilt.outcome === 'rebuilt' ? { source: rebuilt.source, unknownNetworks: rebuilt.unknown } : { api: rebuilt.detail }),
    unexplainedInterfaces: unexplained,
  };
  log().error(fields, "DEL: the container's records are lost; tearing down what the result cache, the API and local config know");
  const unfinished = await rollback(ctx, items);
  if (unfinished.length) throw joinErrors(errorsOf(unfinished));
  if (rebuilt.outcome === 'unreachable') {
    keepUnfinished(ctx, read, rebuilt.detail);
    return 'kept';
  }
  removePlan(ctx.config.cniDir, ctx.env.containerId, ctx.env.ifname);
  return 'done';
}

/** A record that says the job is not finished, for a later DEL or GC to pick up. */
function keepUnfinished(ctx: MetaContext, read: PlanRead, detail: string): void {
  const path = planPath(ctx.config.cniDir, ctx.env.containerId, ctx.env.ifname);
  const since = read.state === 'ok' ? (read.plan.unfinished?.since ?? Date.now()) : Date.now();
  writePlan(ctx.config.cniDir, {
    ...recordHead(ctx.env, ctx.pod),
    attachments: [],
    createdAt: read.state === 'ok' ? (read.plan.createdAt ?? since) : since,
    unfinished: { reason: `records lost and the Kubernetes API unreachable: ${detail}`, since },
  });
  log().error(
    { containerId: ctx.env.containerId, record: path, api: detail },
    "DEL: records lost and the API unreachable; the pod's secondary networks may still hold IPs on this node. Kept a record: the next DEL, braid gc or the daemon's sweep finishes the job once the API answers",
  );
}
