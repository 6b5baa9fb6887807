// Operator commands that work on the node's records (`braid gc`, `braid inspect`) see them
// through the same context a CNI call gets, built from braid's installed configuration.
import { loadDaemonConfig } from '../daemon/config-reload.js';
import { buildContext, type MetaContext } from '../meta/context.js';

export const DEFAULT_CONFIG = '/etc/cni/net.d/00-braid.conflist';

/** A context for GC-like work on the node: no container of its own, plugins from CNI_PATH. */
export function nodeContext(configFile: string): MetaContext {
  const { raw } = loadDaemonConfig(configFile);
  const path = (process.env.CNI_PATH ?? '/opt/cni/bin').split(':').filter(Boolean);
  return buildContext({ command: 'GC', containerId: '', netns: '', ifname: '', args: [], argsRaw: '', path }, Buffer.from(JSON.stringify(raw)));
}
