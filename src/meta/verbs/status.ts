// STATUS (1.1.0): not ready (50) while the readiness file is missing; otherwise the cluster
// network's own STATUS decides.
import { CniError, Code } from '../../cni/errors.js';
import type { MetaContext } from '../context.js';
import { isReady } from '../readiness.js';
import { resolveClusterNetwork } from '../resolve-networks.js';

export async function status(ctx: MetaContext): Promise<undefined> {
  if (!isReady(ctx.config.readinessindicatorfile)) {
    throw new CniError(Code.NotAvailable, `cluster network not ready: readiness indicator file ${ctx.config.readinessindicatorfile} does not exist`);
  }
  const cluster = await resolveClusterNetwork({ api: await ctx.api(), config: ctx.config, podNamespace: undefined, nadMemo: new Map() });
  await ctx.engine.statusList(cluster.list);
  return undefined;
}
