// What a node's life does to pods over CRI, one-shot and daemon mode: 20 sandboxes at once,
// containerd restarted under running pods, and a sandbox whose network namespace is gone
// before kubelet stops it (containerd then sends DEL with an empty CNI_NETNS).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sandboxInfo } from '../../src/cri/cri-client.js';
import { CONTAINERD_SKIP, NOTHING_LEFT, ipv4In, pingFrom, useCriNode, type Pod } from '../helpers/containerd.js';
import { waitFor } from '../daemon/daemon-harness.js';

const NETWORKS = 'k8s.v1.cni.cncf.io/networks';

describe.skipIf(!!CONTAINERD_SKIP).each([
  ['one-shot', 'oneshot', 176],
  ['daemon', 'daemon', 180],
] as const)('containerd CRI, braid %s: node lifecycle', (_label, mode, base) => {
  const t = useCriNode({ mode, subnetBase: base });
  const side = () => `${t.world.tag}-side`;
  const annotations = () => ({ [NETWORKS]: side() });
  const ipsOf = (pods: Pod[]) => pods.flatMap((p) => [...ipv4In(p.netnsPath, 'eth0'), ...ipv4In(p.netnsPath, 'net1')].map((a) => a.split('/')[0]!));

  it('creates 20 sandboxes at once, each with its own addresses, and removes them at once leaving nothing', async () => {
    const { node, world } = t;
    node.addNetworkFile(side(), [{ type: 'bridge', bridge: world.name('s0'), ipam: node.ipam(1) }]);
    const pods = await Promise.all(Array.from({ length: 20 }, (_, i) => node.runPod(`storm-${i}`, { annotations: annotations() })));
    expect(pods.every((p) => p.status.status.state === 'SANDBOX_READY')).toBe(true);
    const ips = ipsOf(pods);
    expect(ips).toHaveLength(40);
    expect(new Set(ips).size).toBe(40);
    await Promise.all(pods.map((p) => node.removePod(p.id)));
    expect(await node.listPods()).toEqual([]);
    expect(node.leftovers(pods.map((p) => p.id), ips)).toEqual(NOTHING_LEFT);
  }, 240_000); // 60 one-shot braid runs (an ADD and two DELs per pod) on a shared 2-core machine

  it('keeps pods running across a containerd restart, then removes them cleanly', async () => {
    const { node } = t;
    const pods = [await node.runPod('restart-a', { annotations: annotations() }), await node.runPod('restart-b', { annotations: annotations() })];
    const ips = ipsOf(pods);
    await node.ctd.stop();
    await node.ctd.start();
    const listed = await node.listPods();
    expect(listed.map((p) => [p.id, p.state]).sort()).toEqual(pods.map((p) => [p.id, 'SANDBOX_READY']).sort());
    // The pods' networking survived: traffic over the secondary network still flows.
    const p = pingFrom(pods[0]!.netnsPath, ipv4In(pods[1]!.netnsPath, 'net1')[0]!.split('/')[0]!);
    expect(p.ok, p.out).toBe(true);
    await Promise.all(pods.map((pod) => node.removePod(pod.id)));
    expect(node.leftovers(pods.map((pod) => pod.id), ips)).toEqual(NOTHING_LEFT);
  });

  it('tears down a sandbox whose network namespace is already gone (DEL with no netns)', async () => {
    const { node } = t;
    const pod = await node.runPod('gone', { annotations: annotations() });
    const ips = ipsOf([pod]);
    // The sandbox dies and its namespace goes with it: pause killed, netns mount removed.
    const pid = sandboxInfo(pod.status).pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor('sandbox NotReady', async () => (await node.cri.podSandboxStatus(pod.id)).status.state === 'SANDBOX_NOTREADY' || undefined);
    spawnSync('umount', [pod.netnsPath]);
    spawnSync('rm', ['-f', pod.netnsPath]);
    await node.removePod(pod.id);
    expect(await node.listPods()).toEqual([]);
    // Reservations, records and rules are gone; the links went with the namespace.
    expect(node.leftovers([pod.id], ips)).toEqual(NOTHING_LEFT);
  });
});
