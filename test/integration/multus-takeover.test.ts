// A node taken over from Multus without draining: a pod Multus attached (its delegates run for
// real, libcni's result cache and Multus's delegates cache written where and how Multus writes
// them) outlives the switch, and braid (dist/braid) checks it, tears it down completely, or
// garbage-collects it from Multus's cache alone.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, afterEach } from 'vitest';
import { assertBuilt, BRAID, callBraid, k8sArgs } from '../helpers/braid-runner.js';
import { ifaceIn, ipv4Of, NO_TRACES, TestWorld, traces } from '../helpers/netns.js';
import { spawnSync } from 'node:child_process';

let world: TestWorld;
beforeAll(() => assertBuilt());
afterEach(() => world.cleanup());

interface MultusPod {
  containerId: string;
  ns: { name: string; path: string };
}

/**
 * Attach a pod the way Multus does: each delegate through libcni (braid net is cnitool's
 * libcni runner) with Multus's cniDir as the result cache, then Multus's cache of the delegates
 * (pkg/multus saveDelegates: DelegateNetConf as Go marshals it, Bytes base64).
 */
function attachLikeMultus(w: TestWorld, multusDir: string, octet: number, suffix: string): MultusPod {
  const ns = w.netns(`p${suffix}`);
  const containerId = `multus${w.tag}${suffix}`;
  const { a: master } = w.veth(`m${suffix}`);
  const ipam = (o: number) => ({ type: 'host-local', dataDir: w.dir('ipam'), ranges: [[{ subnet: `198.18.${o}.0/24` }]] });
  const delegates = [
    { ifname: 'eth0', conf: { cniVersion: '1.0.0', name: w.name('cl'), plugins: [{ type: 'bridge', bridge: w.name(`c${suffix}`), isGateway: true, ipam: ipam(octet) }] } },
    { ifname: 'net1', nad: 'default/mv', conf: { cniVersion: '0.4.0', name: w.name('mv'), type: 'macvlan', master, mode: 'bridge', ipam: ipam(octet + 1) } },
    { ifname: 'data0', nad: 'default/br', request: 'data0', conf: { cniVersion: '1.0.0', name: w.name('br'), plugins: [{ type: 'bridge', bridge: w.name(`d${suffix}`), ipam: ipam(octet + 2) }] } },
  ];
  const cache = delegates.map((d, i) => {
    const file = w.dir(`delegate-${suffix}-${i}.json`);
    const bytes = JSON.stringify(d.conf);
    writeFileSync(file, bytes);
    const r = spawnSync(BRAID, ['net', 'add', file, ns.path, '--cache-dir', multusDir], {
      encoding: 'utf8',
      env: { ...process.env, CNI_PATH: '/usr/lib/cni', CNI_IFNAME: d.ifname, CNI_CONTAINERID: containerId, CNI_ARGS: k8sArgs('default', `pod${suffix}`) },
    });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const isList = 'plugins' in d.conf;
    return {
      Conf: isList ? { cniVersion: '', name: '', type: '' } : d.conf,
      ConfList: isList ? d.conf : { cniVersion: '', name: '', plugins: null },
      Name: d.nad ?? d.conf.name,
      ...(d.request ? { ifnameRequest: d.request } : {}),
      IsFilterV4Gateway: false,
      IsFilterV6Gateway: false,
      Bytes: Buffer.from(bytes).toString('base64'),
    };
  });
  writeFileSync(join(multusDir, containerId), JSON.stringify(cache));
  for (const ifname of ['eth0', 'net1', 'data0']) expect(ifaceIn(ns.name, ifname), ifname).toBeDefined();
  return { containerId, ns };
}

function braidConfig(w: TestWorld, multusDir: string): Record<string, unknown> {
  // braid's own cluster network is another one: a Multus pod is torn down from Multus's cache.
  const cluster = w.dir('braid-cluster.conflist');
  writeFileSync(cluster, JSON.stringify({ cniVersion: '1.0.0', name: w.name('new'), plugins: [{ type: 'bridge', bridge: w.name('nw'), ipam: { type: 'host-local', dataDir: w.dir('ipam'), ranges: [[{ subnet: '198.18.239.0/24' }]] } }] }));
  return { cniVersion: '1.1.0', name: 'braid', type: 'braid', clusterNetwork: cluster, cniDir: w.dir('braid'), multusCniDir: multusDir, binDir: '/usr/lib/cni', logFile: w.dir('braid.log') };
}

const leftovers = (w: TestWorld, pods: MultusPod[]) =>
  traces({ tag: w.tag, containerIds: pods.map((p) => p.containerId), dataDirs: [w.dir('ipam')], ignoreLinks: w.ownLinks() });

describe('pods Multus attached, after braid took the node over', () => {
  it('CHECK passes, then DEL tears every delegate down from Multus\'s cache and removes it', async () => {
    world = new TestWorld();
    const multusDir = world.dir('multus');
    mkdirSync(multusDir, { recursive: true });
    const pod = attachLikeMultus(world, multusDir, 241, 'a');
    const call = { containerId: pod.containerId, netns: pod.ns.path, ifname: 'eth0', args: k8sArgs('default', 'poda'), config: braidConfig(world, multusDir) };
    world.onCleanup(() => callBraid({ ...call, command: 'DEL' }));
    expect(ipv4Of(pod.ns.name, 'data0')).toEqual(['198.18.243.2/24']);

    const check = await callBraid({ ...call, command: 'CHECK' });
    expect(check.status, check.stdout).toBe(0);

    const del = await callBraid({ ...call, command: 'DEL' });
    expect(del.status, del.stdout).toBe(0);
    for (const ifname of ['eth0', 'net1', 'data0']) expect(ifaceIn(pod.ns.name, ifname), ifname).toBeUndefined();
    expect(leftovers(world, [pod])).toEqual(NO_TRACES);
    expect(readdirSync(multusDir).filter((f) => f !== 'results')).toEqual([]);
    expect(readdirSync(join(multusDir, 'results'))).toEqual([]);
    // braid's own cluster network was never touched.
    expect(existsSync(join(world.dir('braid'), 'plans'))).toBe(false);
    expect((await callBraid({ ...call, command: 'DEL' })).status).toBe(0); // again: nothing left to do
  });

  it('GC removes a Multus pod the runtime no longer has and keeps one it still has', async () => {
    world = new TestWorld();
    const multusDir = world.dir('multus');
    mkdirSync(multusDir, { recursive: true });
    const gone = attachLikeMultus(world, multusDir, 244, 'g');
    const live = attachLikeMultus(world, multusDir, 247, 'l');
    const config = { ...braidConfig(world, multusDir), 'cni.dev/valid-attachments': [{ containerID: live.containerId, ifname: 'eth0' }] };
    world.onCleanup(() => callBraid({ command: 'DEL', containerId: live.containerId, netns: live.ns.path, ifname: 'eth0', args: '', config: braidConfig(world, multusDir) }));
    const gc = await callBraid({ command: 'GC', config });
    expect(gc.status, gc.stdout).toBe(0);
    for (const ifname of ['eth0', 'net1', 'data0']) {
      expect(ifaceIn(gone.ns.name, ifname), ifname).toBeUndefined();
      expect(ifaceIn(live.ns.name, ifname), ifname).toBeDefined();
    }
    expect(existsSync(join(multusDir, gone.containerId))).toBe(false);
    expect(existsSync(join(multusDir, live.containerId))).toBe(true);
    expect(leftovers(world, [gone]).reservations.filter((r) => /198\.18\.24[4-6]/.test(r))).toEqual([]);
  });
});
