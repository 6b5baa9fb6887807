// ADD: plan, record the plan, run every attachment, merge, write network-status.
// Any failure rolls back every attempted attachment in reverse before the error is returned.
import { CniError, Code, toCniError } from '../../cni/errors.js';
import { toVersion, type Result } from '../../cni/result.js';
import { listBytes } from '../../engine/engine.js';
import { log } from '../../log.js';
import { mark } from '../../trace.js';
import { runtimeFor, type MetaContext } from '../context.js';
import { applyDefaultRoute } from '../default-route.js';
import { networkStatus, networkStatusPatch } from '../network-status.js';
import { isSystemNamespace, podNetworks, podUid } from '../pod-networks.js';
import { missingRequests, requestCniArgs } from '../requested-addresses.js';
import { planAttachments, type Attachment, type ResolvedNetwork } from '../plan.js';
import { DeviceAllocator, deviceInfoFor } from '../device-info.js';
import { parallelAdd, settledValues } from '../schedule.js';
import { readPlan, recordHead, removePlan, writePlan, type PlanRecord } from '../plan-record.js';
import { waitForReadiness } from '../readiness.js';
import { resolveClusterNetwork, resolveDefaultNetworks, resolveInMultusNamespace, resolveSelection, type ResolveContext } from '../resolve-networks.js';
import { clusterOnly, mergeResults, type AttachmentResult } from '../result-merge.js';
import { writeStatusOneShot } from '../status-write.js';
import { errorsOf, NEVER_ADDED, rollback } from './del.js';

// The default-route request of an attachment, as both the plan record and the merge carry it.
const routeWish = (a: Attachment) => (a.wantsDefaultRoute ? { wantsDefaultRoute: true, defaultRouteGateways: a.defaultRouteGateways ?? [] } : {});

export async function buildPlan(ctx: MetaContext): Promise<Attachment[]> {
  const wanted = await podNetworks(ctx);
  const rctx: ResolveContext = { api: await ctx.api(), config: ctx.config, podNamespace: ctx.pod?.namespace, nadMemo: new Map() };
  // Resolve everything concurrently: each distinct NAD is fetched once.
  const resolving = Promise.all([
    wanted.defaultNetwork
      ? resolveInMultusNamespace(rctx, `${wanted.defaultNetwork.namespace}/${wanted.defaultNetwork.name}`)
      : resolveClusterNetwork(rctx),
    wanted.isSystemPod ? Promise.resolve([]) : resolveDefaultNetworks(rctx),
    Promise.all(wanted.selections.map(async (s) => ({ selection: s, network: await resolveSelection(rctx, s.namespace, s.name) }))),
  ]);
  // Readying the plugin runner (starting the spawner, or loading execa) is milliseconds of work
  // on this thread: done while the NAD requests are out, not earlier, where it would hold up
  // the pod's answer.
  ctx.engine.warm();
  const [cluster, defaults, selections] = await resolving;
  const devices = await podDeviceAllocator(ctx, [...defaults, ...selections.map((s) => s.network)]);
  return planAttachments({
    ...(devices ? { devices } : {}),
    cluster,
    defaults,
    selections,
    ifname: ctx.env.ifname,
    runtimeCapabilityArgs: (ctx.config.runtimeConfig ?? {}) as Record<string, unknown>,
    strictCapabilities: ctx.config.strictCapabilities,
  });
}

/** The pod's devices from the kubelet, asked only when a network names a resourceName. */
async function podDeviceAllocator(ctx: MetaContext, networks: ResolvedNetwork[]): Promise<DeviceAllocator | undefined> {
  const wanted = networks.filter((n) => n.resourceName);
  if (wanted.length === 0 || !ctx.pod) return undefined;
  const { podDevices } = await import('../../k8s/pod-resources.js');
  const devices = await podDevices(ctx.config.podResourcesSocket, ctx.pod.namespace, ctx.pod.name, ctx.config.apiTimeout * 1000);
  for (const n of wanted) {
    if (!devices.get(n.resourceName!)?.length) {
      // Multus carries on without a deviceID; the delegate then says what it misses.
      log().warn({ network: n.displayName, resourceName: n.resourceName }, 'the kubelet allocated no device of this resource to the pod');
    }
  }
  return new DeviceAllocator(devices);
}

function record(ctx: MetaContext, plan: Attachment[]): PlanRecord {
  return {
    ...recordHead(ctx.env, ctx.pod),
    createdAt: Date.now(),
    attachments: plan.map((a) => ({
      network: a.network,
      ifname: a.ifname,
      config: listBytes(a.list),
      capabilityArgs: a.capabilityArgs,
      isCluster: a.isCluster,
      ...routeWish(a),
      state: 'planned',
    })),
  };
}

async function runAttachment(ctx: MetaContext, a: Attachment, added: Set<Attachment>, afterPlugin?: (index: number) => void): Promise<AttachmentResult> {
  try {
    const rt = runtimeFor(ctx, a);
    const result = await ctx.engine.addList(a.list, { ...rt, args: requestCniArgs(rt.args, a.requested) }, afterPlugin);
    added.add(a);
    if (a.requested) {
      const missing = missingRequests(result, a.ifname, a.requested);
      if (missing.length) {
        throw new CniError(Code.InvalidConfig, `the pod asked for ${missing.join(' and ')}; no plugin of the network applied it`);
      }
    }
    const deviceInfo = a.deviceID ? deviceInfoFor(a.deviceID) : undefined;
    return {
      network: a.network,
      ifname: a.ifname,
      isCluster: a.isCluster,
      result,
      ...routeWish(a),
      ...(deviceInfo ? { deviceInfo } : {}),
    };
  } catch (e) {
    throw toCniError(e).withContext(`network ${a.network} (${a.ifname})`);
  }
}

/**
 * Cluster network first; then the rest in order, or, with `parallel`, all at once as soon as
 * the cluster interface is up in the pod (its trailing host-side plugins run alongside).
 * Whatever fails, every started chain has settled before this returns, so rollback never
 * races an ADD still in flight.
 */
async function runPlan(ctx: MetaContext, plan: Attachment[], attempted: Attachment[], added: Set<Attachment>): Promise<AttachmentResult[]> {
  const [cluster, ...rest] = plan;
  attempted.push(cluster!);
  if (!ctx.config.parallel || rest.length === 0) {
    const results = [await runAttachment(ctx, cluster!, added)];
    for (const a of rest) {
      attempted.push(a);
      results.push(await runAttachment(ctx, a, added));
    }
    return results;
  }
  const settled = await parallelAdd(
    cluster!,
    (afterPlugin) => runAttachment(ctx, cluster!, added, afterPlugin),
    () => {
      attempted.push(...rest);
      return rest.map((a) => runAttachment(ctx, a, added));
    },
  );
  return settledValues(settled);
}

/**
 * The pod's network-status. A failed write never fails the ADD: the pod's networking works, and
 * failing would tear it down and have the runtime redo it all, making an API outage stop pod
 * starts instead of delaying an annotation. It is retried instead (briefly in one-shot mode,
 * until it lands in the daemon). Pods in systemNamespaces get no API call at all.
 */
async function writeStatus(ctx: MetaContext, results: AttachmentResult[]): Promise<void> {
  if (!ctx.pod || isSystemNamespace(ctx, ctx.pod.namespace)) return;
  const api = await ctx.api();
  if (!api) return;
  const uid = await podUid(ctx);
  const write = {
    namespace: ctx.pod.namespace,
    name: ctx.pod.name,
    uid,
    containerId: ctx.env.containerId,
    ifname: ctx.env.ifname,
    patch: networkStatusPatch(networkStatus(results), uid),
  };
  if (ctx.statusWriter) await ctx.statusWriter.submit(write);
  else await writeStatusOneShot(api, write);
}

/**
 * Tears down every attempted attachment. One whose ADD failed is given up on if its DEL fails
 * too (after releasing what it held); one whose ADD succeeded keeps strict DEL semantics: if
 * its rollback fails, the plan is kept, holding just those, for the runtime's DEL.
 */
async function rollbackFailedAdd(ctx: MetaContext, rec: PlanRecord, attempted: Attachment[], added: Set<Attachment>): Promise<void> {
  const items = attempted.map((a) => ({ ...a, lenient: added.has(a) ? undefined : NEVER_ADDED }));
  const unfinished = await rollback(ctx, items, ctx.config.parallel === true);
  if (unfinished.length === 0) {
    removePlan(ctx.config.cniDir, ctx.env.containerId, ctx.env.ifname);
    return;
  }
  const left = new Set(unfinished.map((u) => u.item.ifname));
  const attachments = rec.attachments.flatMap((a) => (left.has(a.ifname) ? [{ ...a, state: 'added' as const }] : []));
  writePlan(ctx.config.cniDir, { ...rec, attachments });
  log().error({ errors: errorsOf(unfinished).map((e) => e.message) }, 'rollback incomplete; the plan is kept for the runtime DEL');
}

export async function add(ctx: MetaContext): Promise<Record<string, unknown>> {
  // A second ADD without a DEL would re-run delegates over live interfaces, fail, and roll back
  // the pod's working attachments: refuse it and leave the pod as it is.
  if (readPlan(ctx.config.cniDir, ctx.env.containerId, ctx.env.ifname).state !== 'missing') {
    throw new CniError(
      Code.InvalidConfig,
      `container ${ctx.env.containerId} interface ${ctx.env.ifname} is already attached; DEL it before adding it again`,
    );
  }
  await waitForReadiness(ctx.config.readinessindicatorfile);
  const plan = await buildPlan(ctx);
  mark('planned');
  const rec = record(ctx, plan);
  writePlan(ctx.config.cniDir, rec);
  mark('plan-written');
  const attempted: Attachment[] = [];
  const added = new Set<Attachment>();
  let results: AttachmentResult[];
  try {
    results = await runPlan(ctx, plan, attempted, added);
    await applyDefaultRoute(ctx.env.netns, results);
  } catch (e) {
    const failure = toCniError(e);
    await rollbackFailedAdd(ctx, rec, attempted, added);
    throw failure;
  }
  // From here on DEL is strict for every attachment. Not synced to disk: should the record
  // stay "planned" after a crash, the next DEL is only more forgiving.
  writePlan(ctx.config.cniDir, { ...rec, attachments: rec.attachments.map((a) => ({ ...a, state: 'added' as const })) }, { durable: false });
  mark('delegates-done');
  await writeStatus(ctx, results);
  mark('status-written');
  const out: Result = ctx.config.result === 'cluster' ? clusterOnly(results) : mergeResults(results);
  return toVersion(out, ctx.callerVersion);
}

