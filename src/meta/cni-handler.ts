// braid as a CNI plugin: one module per verb, dispatched from here.
import { parseCniEnv } from '../cni/env.js';
import { parseJsonObject } from '../cni/config.js';
import { buildContext, type ContextOverrides, type MetaContext } from './context.js';
import { mark } from '../trace.js';
import { prefetchPod } from './pod-networks.js';
import { withContainerLock, withGcLock } from './container-lock.js';

export async function handleCni(envVars: NodeJS.ProcessEnv, stdin: Buffer, overrides: ContextOverrides = {}): Promise<unknown> {
  const env = parseCniEnv(envVars);
  const ctx = buildContext(env, stdin, overrides);
  mark('context');
  if (env.command === 'ADD') prefetchPod(ctx);
  const run = () => (mark('locked'), dispatch(ctx, stdin));
  if (env.command === 'GC') return withGcLock(ctx.config.cniDir, run);
  if (env.command === 'ADD' || env.command === 'DEL' || env.command === 'CHECK') {
    // A teardown matters more than its lock: DEL still runs when the lock can't be written.
    return withContainerLock(ctx.config.cniDir, env.containerId, run, { required: env.command !== 'DEL' });
  }
  return run();
}

async function dispatch(ctx: MetaContext, stdin: Buffer): Promise<unknown> {
  switch (ctx.env.command) {
    case 'ADD':
      return (await import('./verbs/add.js')).add(ctx);
    case 'DEL':
      return (await import('./verbs/del.js')).del(ctx);
    case 'CHECK':
      return (await import('./verbs/check.js')).check(ctx);
    case 'STATUS':
      return (await import('./verbs/status.js')).status(ctx);
    case 'GC':
      return (await import('./verbs/gc.js')).gc(ctx, parseJsonObject(stdin, 'GC request'));
    case 'VERSION':
      return (await import('../cni/version.js')).versionInfo(ctx.callerVersion);
  }
}
