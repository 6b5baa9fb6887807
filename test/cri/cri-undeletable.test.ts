// Pods whose ADD fails and whose DEL fails too, under a real containerd: an interface named
// "lo" (bridge can't create it, nor delete it), and a macvlan network whose master does not
// exist (macvlan 1.1.1 fails ADD and DEL with "Link not found"). kubelet's stop + remove of
// every sandbox succeeds and nothing is left: no records, reservations, links or netns. The
// daemon counts each give-up in braid_del_given_up_total.
import { describe, expect, it } from 'vitest';
import { CriError } from '../../src/cri/cri-client.js';
import { CONTAINERD_SKIP, NOTHING_LEFT, useCriNode } from '../helpers/containerd.js';

const NETWORKS = 'k8s.v1.cni.cncf.io/networks';

describe.skipIf(!!CONTAINERD_SKIP).each([
  ['one-shot', 'oneshot', 150],
  ['daemon', 'daemon', 154],
] as const)('containerd CRI, braid %s: pods whose ADD and DEL both fail', (_label, mode, base) => {
  const t = useCriNode({ mode, subnetBase: base });

  it.each([
    ['interface "lo"', 'container veth name provided (lo) already exists'],
    ['macvlan master missing', 'Link not found'],
  ])('%s: RunPodSandbox fails with the plugin error; stop + remove succeed; nothing is left', async (kind, message) => {
    const { node, world } = t;
    const net = `${world.tag}-${kind.startsWith('interface') ? 'lo' : 'nomaster'}`;
    if (kind.startsWith('interface')) node.addNetworkFile(net, [{ type: 'bridge', bridge: world.name('s0'), ipam: node.ipam(1) }]);
    else node.addNetworkFile(net, [{ type: 'macvlan', master: world.name('gone'), ipam: node.ipam(2) }]);
    const selection = kind.startsWith('interface') ? JSON.stringify([{ name: net, interface: 'lo' }]) : net;
    const gaveUp = async () => (await node.daemon?.metric('braid_del_given_up_total', { leftovers: 'none' })) ?? 0;
    const before = await gaveUp();
    for (let attempt = 0; attempt < 3; attempt++) {
      // kubelet retries a pod whose sandbox failed: a new sandbox each time.
      const err = await node.runPod(`broken-${attempt}`, { annotations: { [NETWORKS]: selection } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CriError);
      expect((err as CriError).details).toContain(message);
    }
    if (node.daemon) {
      // Each failed ADD's rollback gave up on the broken attachment, and counted it.
      expect((await gaveUp()) - before).toBeGreaterThanOrEqual(3);
    }
    const left = await node.listPods();
    for (const p of left) await node.removePod(p.id);
    expect(await node.listPods()).toEqual([]);
    const ips = [0, 1, 2].flatMap((n) => Array.from({ length: 10 }, (_, h) => `198.19.${base + n}.${h + 2}`));
    expect(node.leftovers(left.map((p) => p.id), ips)).toEqual(NOTHING_LEFT);
  });
});
