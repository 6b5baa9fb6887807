// The 00-braid.conflist a runtime loads first: braid in front of the node's default
// network, speaking that network's cniVersion and declaring its capabilities so the runtime keeps
// passing portMappings, bandwidth and the rest (braid forwards them to the cluster network).
import { POD_ANNOTATIONS_CAPABILITY } from '../meta/pod-networks.js';
import { capabilityUnion, type DefaultNetwork } from './default-network.js';

export const ENTRY_NAME = 'braid-cni-network';

export interface EntrySettings {
  binDir: string;
  /** braid's confDir: on-disk networks for NADs without spec.config. */
  networksDir: string;
  cniDir: string;
  logFile: string;
  logLevel: string;
  kubeconfigPath?: string | undefined;
  /** Daemon mode: a braid-shim entry talking to this socket instead of braid itself. */
  daemonSocket?: string | undefined;
  /** Settings carried from a Multus config (--from-multus); they win over install's defaults. */
  carried?: Record<string, unknown> | undefined;
}

function capabilities(net: DefaultNetwork): Record<string, true> {
  // CRI-O hands braid the pod's annotations through this capability: ADD needs no pod GET.
  const names = [...new Set([...capabilityUnion(net.list), POD_ANNOTATIONS_CAPABILITY])].sort();
  return Object.fromEntries(names.map((n) => [n, true as const]));
}

export function buildEntry(net: DefaultNetwork, s: EntrySettings): Record<string, unknown> {
  const plugin: Record<string, unknown> = s.daemonSocket
    ? { type: 'braid-shim', daemonSocket: s.daemonSocket }
    : {
        type: 'braid',
        ...(s.kubeconfigPath ? { kubeconfig: s.kubeconfigPath } : {}),
        clusterNetwork: net.file,
        confDir: s.networksDir,
        cniDir: s.cniDir,
        binDir: s.binDir,
        ...(s.logFile ? { logFile: s.logFile } : {}),
        logLevel: s.logLevel,
        ...s.carried,
      };
  plugin.capabilities = capabilities(net);
  const raw = net.list.raw;
  return {
    cniVersion: net.list.declaredVersion,
    ...(Array.isArray(raw.cniVersions) ? { cniVersions: raw.cniVersions } : {}),
    name: ENTRY_NAME,
    plugins: [plugin],
  };
}

export const renderJson = (obj: unknown) => `${JSON.stringify(obj, null, 2)}\n`;
