// CHECK: each attachment against its cached result. Delegate lists below 0.4.0 have no CHECK;
// they are skipped rather than failing the pod (a common complaint about Multus).
import { CniError, Code, toCniError } from '../../cni/errors.js';
import { compareVersions } from '../../cni/version.js';
import { runtimeFor, type MetaContext } from '../context.js';
import { plannedList, readPlan } from '../plan-record.js';
import { multusContext, multusTeardowns, readMultusCache } from '../multus-cache.js';

export async function check(ctx: MetaContext): Promise<undefined> {
  if (compareVersions(ctx.callerVersion, '0.4.0') < 0) {
    throw new CniError(Code.IncompatibleVersion, `configuration version "${ctx.callerVersion}" does not support the CHECK command`);
  }
  const read = readPlan(ctx.config.cniDir, ctx.env.containerId, ctx.env.ifname);
  if (read.state === 'missing') {
    // A pod Multus attached: check its delegates against Multus's caches.
    const cache = readMultusCache(ctx.config.multusCniDir, ctx.env.containerId);
    if (cache.state === 'ok') {
      const mctx = multusContext(ctx);
      for (const t of multusTeardowns(ctx, cache.delegates, ctx.env.ifname)) {
        if (compareVersions(t.list.cniVersion, '0.4.0') < 0) continue;
        try {
          await mctx.engine.checkList(t.list, runtimeFor(mctx, t));
        } catch (e) {
          throw toCniError(e).withContext(`network ${t.list.name} (${t.ifname}, attached by Multus)`);
        }
      }
      return undefined;
    }
  }
  if (read.state !== 'ok') {
    throw new CniError(Code.UnknownContainer, `no ${read.state === 'corrupt' ? 'readable ' : ''}plan recorded for container ${ctx.env.containerId} interface ${ctx.env.ifname}`);
  }
  for (const a of read.plan.attachments) {
    const list = plannedList(a);
    if (compareVersions(list.cniVersion, '0.4.0') < 0) continue;
    try {
      await ctx.engine.checkList(list, runtimeFor(ctx, a));
    } catch (e) {
      throw toCniError(e).withContext(`network ${a.network} (${a.ifname})`);
    }
  }
  return undefined;
}
