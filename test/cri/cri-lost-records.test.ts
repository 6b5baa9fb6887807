// Lost records under a real containerd, braid reading the Kubernetes API (the stand-in): a
// pod's plan and result records deleted before kubelet's stop + remove. With the API up, the
// DELs containerd sends rebuild what to tear down from the pod's network-status and its NADs
// and leave nothing; with the API down (one-shot), DEL keeps a record that braid gc finishes.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';
import { braidCli } from '../helpers/braid-runner.js';
import { CONTAINERD_SKIP, NOTHING_LEFT, useCriNode, type CriNode, type Pod } from '../helpers/containerd.js';
import { bandwidthIfbName, hostLinks } from '../helpers/netns.js';

const NETWORKS = 'k8s.v1.cni.cncf.io/networks';

let api: FakeApiServer;
beforeAll(async () => {
  if (!CONTAINERD_SKIP) api = await startFakeApiServer();
});
afterAll(() => api?.close());

async function podWithTwoNads(node: CriNode, name: string): Promise<Pod> {
  const { world } = node;
  const podNs = world.name('ns');
  const nadA = `${world.tag}-a`;
  const nadB = `${world.tag}-b`;
  api.addNad(podNs, nadA, { cniVersion: '1.0.0', plugins: [{ type: 'bridge', bridge: world.name('a0'), ipam: node.ipam(1) }] });
  api.addNad(podNs, nadB, {
    cniVersion: '1.0.0',
    plugins: [{ type: 'bridge', bridge: world.name('b0'), ipam: node.ipam(2) }, { type: 'bandwidth', egressRate: 1_000_000, egressBurst: 10_000 }],
  });
  const obj = api.addPod({ metadata: { name, namespace: podNs, annotations: { [NETWORKS]: `${nadA},${nadB}` } }, spec: { nodeName: 'node1' } });
  if (node.daemon) await node.daemon.waitFor('/readyz');
  return node.runPod(name, { namespace: podNs, uid: obj.metadata.uid!, annotations: {} });
}

function loseRecords(node: CriNode): void {
  for (const d of ['plans', 'results']) for (const f of readdirSync(join(node.cniDir, d))) rmSync(join(node.cniDir, d, f));
}

/** The bandwidth plugin's ifb of the pod's second NAD, if it is still on the host. */
const ifbLeft = (node: CriNode, pod: Pod) => hostLinks().filter((l) => l === bandwidthIfbName(`${node.world.tag}-b`, pod.id));

/** kubelet's stop + remove of a pod whose records were lost, while the API server is down. */
async function removeWithApiDown(node: CriNode, name: string): Promise<Pod> {
  const pod = await podWithTwoNads(node, name);
  loseRecords(node);
  await api.stop();
  try {
    await node.removePod(pod.id);
  } finally {
    await api.start();
  }
  expect(await node.listPods()).toEqual([]);
  return pod;
}

const subnetIps = (node: CriNode) => [0, 1, 2].flatMap((n) => Array.from({ length: 6 }, (_, h) => `198.19.${node.opts.subnetBase + n}.${h + 2}`));

describe.skipIf(!!CONTAINERD_SKIP).each([
  ['one-shot', 'oneshot', 140],
  ['daemon', 'daemon', 144],
] as const)('containerd CRI, braid %s: records lost before the pod is removed', (_label, mode, base) => {
  const t = useCriNode(() => ({ mode, subnetBase: base, api }));

  it('API up: stop + remove leave no reservation, link, ifb or record', async () => {
    const { node } = t;
    const pod = await podWithTwoNads(node, 'lost-up');
    expect(node.records().length).toBeGreaterThan(0);
    expect(ifbLeft(node, pod)).toHaveLength(1);
    loseRecords(node);
    await node.removePod(pod.id);
    expect(await node.listPods()).toEqual([]);
    expect(node.leftovers([pod.id], subnetIps(node))).toEqual(NOTHING_LEFT);
    expect(ifbLeft(node, pod)).toEqual([]);
  });

  it.runIf(mode === 'daemon')("API down: the daemon's informers still know the pod and its NADs; nothing is left", async () => {
    const { node } = t;
    const pod = await removeWithApiDown(node, 'lost-cached');
    expect(node.leftovers([pod.id], subnetIps(node))).toEqual(NOTHING_LEFT);
    expect(ifbLeft(node, pod)).toEqual([]);
  });

  it.skipIf(mode === 'daemon')('API down: the pod is still removed, a record is kept, and braid gc finishes the job once the API is back', async () => {
    const { node } = t;
    const pod = await removeWithApiDown(node, 'lost-down');
    expect(node.records()).toEqual([`plans/${pod.id}-eth0`]);
    expect(node.leftovers([pod.id], subnetIps(node)).reservations.length).toBeGreaterThan(0);
    const gc = await braidCli(['gc', '--config', join(node.ctd.cniConfDir, '00-braid.conflist')], { CNI_PATH: node.ctd.cniBinDir });
    expect(gc.stdout).toContain(`removed: plans/${pod.id}-eth0`);
    expect(node.leftovers([pod.id], subnetIps(node))).toEqual(NOTHING_LEFT);
    expect(ifbLeft(node, pod)).toEqual([]);
  });
});
