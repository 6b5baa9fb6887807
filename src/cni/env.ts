// The CNI_* environment as a request value. Which variables each verb needs is a table
// (pkg/skel's reqForCmd), not scattered ifs.
import { CniError, Code } from './errors.js';
import { parseCniArgs, type CniArgs } from './cni-args.js';
import { validateContainerId, validateInterfaceName } from './names.js';

export const VERBS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
export type Verb = (typeof VERBS)[number];

type Var = 'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME' | 'CNI_PATH';
// DEL may lack a netns (it can be gone); STATUS and GC only need the path.
export const REQUIRED_VARS: Record<Verb, readonly Var[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  VERSION: [],
  STATUS: ['CNI_PATH'],
  GC: ['CNI_PATH'],
};

export interface CniRequestEnv {
  command: Verb;
  containerId: string;
  netns: string;
  ifname: string;
  args: CniArgs;
  argsRaw: string;
  path: string[];
}

export function parseCniEnv(env: NodeJS.ProcessEnv): CniRequestEnv {
  const command = env.CNI_COMMAND;
  if (!command) throw new CniError(Code.InvalidEnv, 'CNI_COMMAND is required');
  if (!(VERBS as readonly string[]).includes(command)) {
    throw new CniError(Code.InvalidEnv, `CNI_COMMAND ${JSON.stringify(command)} is not one of ${VERBS.join(', ')}`);
  }
  const verb = command as Verb;
  const missing = REQUIRED_VARS[verb].filter((v) => !env[v]);
  if (missing.length) throw new CniError(Code.InvalidEnv, `${verb} requires ${missing.join(', ')} to be set`);
  const needsIdentity = REQUIRED_VARS[verb].includes('CNI_CONTAINERID');
  const containerId = needsIdentity ? validateContainerId(env.CNI_CONTAINERID) : (env.CNI_CONTAINERID ?? '');
  const ifname = needsIdentity ? validateInterfaceName(env.CNI_IFNAME) : (env.CNI_IFNAME ?? '');
  return {
    command: verb,
    containerId,
    netns: env.CNI_NETNS ?? '',
    ifname,
    args: parseCniArgs(env.CNI_ARGS),
    argsRaw: env.CNI_ARGS ?? '',
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
  };
}
