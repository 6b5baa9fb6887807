// braid as a CNI plugin: one module per verb, dispatched from here.
import { parseCniEnv } from '../cni/env.js';
import { parseJsonObject } from '../cni/config.js';
import { buildContext, type ContextOverrides } from './context.js';

export async function handleCni(envVars: NodeJS.ProcessEnv, stdin: Buffer, overrides: ContextOverrides = {}): Promise<unknown> {
  const env = parseCniEnv(envVars);
  const ctx = buildContext(env, stdin, overrides);
  switch (env.command) {
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
