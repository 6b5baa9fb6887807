// CHECK: each attachment against its cached result. Delegate lists below 0.4.0 have no CHECK;
// they are skipped rather than failing the pod (a Multus complaint, SPEC-CHECKLIST 7).
import { CniError, Code, toCniError } from '../../cni/errors.js';
import { compareVersions } from '../../cni/version.js';
import { runtimeFor, type MetaContext } from '../context.js';
import { plannedList, readPlan } from '../plan-record.js';

export async function check(ctx: MetaContext): Promise<undefined> {
  if (compareVersions(ctx.callerVersion, '0.4.0') < 0) {
    throw new CniError(Code.IncompatibleVersion, `configuration version "${ctx.callerVersion}" does not support the CHECK command`);
  }
  const read = readPlan(ctx.config.cniDir, ctx.env.containerId, ctx.env.ifname);
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
