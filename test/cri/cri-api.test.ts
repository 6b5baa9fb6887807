// Pods over CRI with braid reading the Kubernetes API (the stand-in server, through the
// kubeconfig braid install wrote): kubelet puts no annotations in the sandbox config here, so
// the selection comes from the pod object, the NADs from the API, and braid PATCHes the pod's
// network-status. Daemon mode answers from its informers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';
import { CONTAINERD_SKIP, NOTHING_LEFT, ipv4In, pingFrom, useCriNode } from '../helpers/containerd.js';

const NETWORKS = 'k8s.v1.cni.cncf.io/networks';
const STATUS = 'k8s.v1.cni.cncf.io/network-status';

let api: FakeApiServer;
beforeAll(async () => {
  if (!CONTAINERD_SKIP) api = await startFakeApiServer();
});
afterAll(() => api?.close());

describe.skipIf(!!CONTAINERD_SKIP).each([
  ['one-shot', 'oneshot', 168],
  ['daemon', 'daemon', 172],
] as const)('containerd CRI, braid %s, networks from the Kubernetes API', (_label, mode, base) => {
  const t = useCriNode(() => ({ mode, subnetBase: base, api }));

  it('attaches the NADs the pod object selects, reports network-status to the API, and cleans up', async () => {
    const { node, world } = t;
    const podNs = world.name('ns');
    const nadA = `${world.tag}-a`;
    const nadB = `${world.tag}-b`;
    api.addNad(podNs, nadA, { cniVersion: '1.0.0', plugins: [{ type: 'bridge', bridge: world.name('a0'), ipam: node.ipam(1) }] });
    api.addNad(podNs, nadB, { cniVersion: '0.4.0', type: 'bridge', bridge: world.name('b0'), ipam: node.ipam(2) });
    const pods = ['api-a', 'api-b'].map((name) =>
      api.addPod({ metadata: { name, namespace: podNs, annotations: { [NETWORKS]: `${nadA},${nadB}@blue` } }, spec: { nodeName: 'node1' } }),
    );
    if (node.daemon) await node.daemon.waitFor('/readyz');

    const [a, b] = await Promise.all(pods.map((p) => node.runPod(p.metadata.name!, { namespace: podNs, uid: p.metadata.uid!, annotations: {} })));
    // The two ADDs ran at once: which pod got .2 and which .3 is up to host-local's order.
    const addrs = new Map<string, string[]>();
    for (const pod of [a!, b!]) {
      const ips = (['eth0', 'net1', 'blue'] as const).map((ifname, n) => {
        const got = ipv4In(pod.netnsPath, ifname);
        expect(got).toHaveLength(1);
        expect(got[0]).toMatch(new RegExp(`^198\\.19\\.${base + n}\\.[23]/24$`));
        return got[0]!.split('/')[0]!;
      });
      addrs.set(pod.id, ips);
      expect(pod.status.status.network?.ip).toBe(ips[0]);
      const status = JSON.parse(api.getPod(podNs, pod.name)!.metadata.annotations![STATUS]!);
      expect(status.map((s: { name: string; interface: string; ips: string[] }) => [s.name, s.interface, s.ips])).toEqual([
        [node.clusterName, 'eth0', [ips[0]]],
        [`${podNs}/${nadA}`, 'net1', [ips[1]]],
        [`${podNs}/${nadB}`, 'blue', [ips[2]]],
      ]);
    }
    for (const ip of addrs.get(a!.id)!) {
      const p = pingFrom(b!.netnsPath, ip);
      expect(p.ok, p.out).toBe(true);
    }

    await Promise.all([a!, b!].map((p) => node.removePod(p.id)));
    const ips = [0, 1, 2].flatMap((n) => [`198.19.${base + n}.2`, `198.19.${base + n}.3`]);
    expect(node.leftovers([a!.id, b!.id], ips)).toEqual(NOTHING_LEFT);
  });
});
