// What the demo runs: the NADs and pods of annotations/demo-*.yaml, and the node's cluster
// network (bridge + host-local + portmap + bandwidth). IPAM state goes into the demo's own
// directory so the leak check looks at exactly this run's reservations.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DemoPodObject } from './fake-api.js';
import { PREFIX } from './host.js';

export const NADS_FILE = 'demo-nads.yaml';
export const PODS_FILE = 'demo-pods.yaml';
export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';
export const MACVLAN_MASTER = `${PREFIX}mv0`;
export const MACVLAN_PEER = `${PREFIX}mv1`;
export const CLUSTER_BRIDGE = `${PREFIX}c0`;
export const CLUSTER_SUBNET = '198.19.10.0/24';
export const CLUSTER_FILE = '10-demo-cluster.conflist';

export interface NadState {
  namespace: string;
  name: string;
  config: Record<string, unknown>;
}

export interface Scenario {
  nads: NadState[];
  pods: DemoPodObject[];
}

type Obj = Record<string, unknown>;

/** host-local keeps its reservations in dataDir: point every host-local at the demo's. */
export function withDataDir(config: Obj, dataDir: string): Obj {
  const plugins = Array.isArray(config.plugins) ? (config.plugins as Obj[]) : [config];
  for (const p of plugins) {
    const ipam = p.ipam as Obj | undefined;
    if (ipam?.type === 'host-local') ipam.dataDir = dataDir;
  }
  return config;
}

export async function loadScenario(examplesDir: string, dataDir: string): Promise<Scenario> {
  const { parseAllDocuments } = await import('yaml');
  const docs = (file: string): Obj[] => {
    const path = join(examplesDir, file);
    return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => {
      if (d.errors.length) throw new Error(`${path}: ${d.errors[0]!.message}`);
      return d.toJS() as Obj;
    });
  };
  const nads = docs(NADS_FILE)
    .filter((d) => d.kind === 'NetworkAttachmentDefinition')
    .map((d) => {
      const meta = d.metadata as { name: string; namespace: string };
      const config = JSON.parse(String((d.spec as Obj).config)) as Obj;
      return { namespace: meta.namespace, name: meta.name, config: withDataDir(config, dataDir) };
    });
  const pods = docs(PODS_FILE).filter((d) => d.kind === 'Pod') as unknown as DemoPodObject[];
  if (nads.length === 0 || pods.length < 2) throw new Error(`${examplesDir} must hold ${NADS_FILE} with NADs and ${PODS_FILE} with two pods`);
  return { nads, pods };
}

/** The node's default network, as flannel or a kubeadm guide would leave it in /etc/cni/net.d. */
export function clusterConflist(dataDir: string): Obj {
  return {
    cniVersion: '1.0.0',
    name: 'demo-cluster',
    plugins: [
      {
        type: 'bridge',
        bridge: CLUSTER_BRIDGE,
        isGateway: true,
        ipMasq: true,
        ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: CLUSTER_SUBNET }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'bandwidth', capabilities: { bandwidth: true } },
    ],
  };
}
