// Faults a node meets under a real runtime: the braid daemon killed while containerd's ADDs
// are in flight (then restarted, and kubelet's stop + remove cleans up), and containerd's own
// deadline expiring during an ADD (containerd kills the plugin and sends DEL). A fake plugin
// appears only for the second case: a real one can't be made slow on demand.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CriError } from '../../src/cri/cri-client.js';
import { CONTAINERD_SKIP, NOTHING_LEFT, ipv4In, pingFrom, useCriNode, type CriNode } from '../helpers/containerd.js';
import { sleep, waitFor } from '../daemon/daemon-harness.js';

const NETWORKS = 'k8s.v1.cni.cncf.io/networks';
const FAKE = join(import.meta.dirname, '../fixtures/plugins/fake-plugin');

/** Every address the node's first two subnets could have handed out (for the iptables leak check). */
const subnetIps = (node: CriNode) => [0, 1].flatMap((n) => Array.from({ length: 30 }, (_, h) => `198.19.${node.opts.subnetBase + n}.${h + 2}`));

async function removeAll(node: CriNode): Promise<string[]> {
  const left = await node.listPods();
  await Promise.all(left.map((p) => node.removePod(p.id)));
  return left.map((p) => p.id);
}

describe.skipIf(!!CONTAINERD_SKIP)('containerd CRI, braid daemon killed during ADDs', () => {
  const t = useCriNode({ mode: 'daemon', subnetBase: 184 });

  it('leaves failed sandboxes containerd can still remove once the daemon is back, and nothing after', async () => {
    const { node, world } = t;
    const side = `${world.tag}-side`;
    node.addNetworkFile(side, [{ type: 'bridge', bridge: world.name('s0'), ipam: node.ipam(1) }]);
    const daemon = node.daemon!;
    const runs = Array.from({ length: 12 }, (_, i) => node.runPod(`kill-${i}`, { annotations: { [NETWORKS]: side } }));
    // Kill it once a few ADDs are done and others are being served.
    await waitFor(
      'ADDs done and ADDs in flight',
      async () => {
        const done = await daemon.metric('braid_cni_requests_total', { verb: 'ADD', result: 'ok' });
        const inflight = await daemon.metric('braid_cni_inflight_operations', { verb: 'ADD' });
        return ((done ?? 0) >= 2 && (inflight ?? 0) >= 1) || undefined;
      },
      30_000,
      10,
    );
    await daemon.kill();
    const outcomes = await Promise.allSettled(runs);
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed.length, 'some ADDs were cut off').toBeGreaterThan(0);
    for (const f of failed) expect((f as PromiseRejectedResult).reason).toBeInstanceOf(CriError);

    // The pods that did come up keep working while braid is down, and after it is back.
    const up = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    await node.startDaemon();
    expect(up.length).toBeGreaterThanOrEqual(2);
    {
      const p = pingFrom(up[0]!.netnsPath, ipv4In(up[1]!.netnsPath, 'net1')[0]!.split('/')[0]!);
      expect(p.ok, p.out).toBe(true);
    }
    // kubelet stops and removes whatever containerd still lists (ready or not).
    // containerd's DEL after each failed ADD found no daemon either: it keeps those sandboxes NotReady.
    const listed = await node.listPods();
    expect(listed.filter((p) => p.state === 'SANDBOX_NOTREADY')).toHaveLength(failed.length);
    expect(listed.filter((p) => p.state === 'SANDBOX_READY').map((p) => p.id).sort()).toEqual(up.map((p) => p.id).sort());
    const removed = await removeAll(node);
    expect(removed.length).toBeGreaterThanOrEqual(up.length);
    expect(await node.listPods()).toEqual([]);
    expect(node.leftovers(removed, subnetIps(node))).toEqual(NOTHING_LEFT);
  }, 120_000);
});

describe.skipIf(!!CONTAINERD_SKIP).each([
  ['one-shot', 'oneshot', 188],
  ['daemon', 'daemon', 192],
] as const)('containerd CRI, braid %s: the runtime times out during an ADD', (_label, mode, base) => {
  const t = useCriNode({ mode, subnetBase: base, extraPlugins: { fake: FAKE } });

  it('cleans up after containerd gives up on the ADD, and the pod can be created again', async () => {
    const { node, world } = t;
    const slow = `${world.tag}-slow`;
    node.addNetworkFile(slow, [{ type: 'fake', fake: { add: 'sleep:6000' } }]);
    const err = await node.runPod('late', { annotations: { [NETWORKS]: slow }, timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriError);
    expect((err as CriError).details).toMatch(/deadline/i);
    // containerd kills the plugin, runs DEL and drops the sandbox; give it the time that takes.
    await waitFor('containerd to drop the sandbox', async () => ((await node.listPods()).length === 0 && node.records().length === 0) || undefined, 30_000, 200);
    await sleep(500);
    expect(await node.listPods()).toEqual([]);
    expect(node.leftovers([], subnetIps(node))).toEqual(NOTHING_LEFT);

    // kubelet's retry with a network that answers in time succeeds with the same name.
    node.addNetworkFile(slow, [{ type: 'fake' }]);
    const pod = await node.runPod('late', { annotations: { [NETWORKS]: slow } });
    expect(pod.status.status.state).toBe('SANDBOX_READY');
    await node.removePod(pod.id);
    expect(node.leftovers([pod.id], subnetIps(node))).toEqual(NOTHING_LEFT);
  }, 120_000);
});
