// Multus's e2e scenarios over CRI: containerd calls braid (daemon mode, braid install's entry)
// for pods whose NADs and annotations are Multus's own (e2e/templates simple-macvlan1 and
// default-route1: macvlan + static IPAM, with and without the ips capability, default-route),
// with the master a veth end and 198.19.196-199 as the subnets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';
import { CONTAINERD_SKIP, NOTHING_LEFT, ipv4In, pingFrom, useCriNode } from '../helpers/containerd.js';
import { sh } from '../helpers/sh.js';

const NETWORKS = 'k8s.v1.cni.cncf.io/networks';
const STATUS = 'k8s.v1.cni.cncf.io/network-status';
const BASE = 196;

let api: FakeApiServer;
beforeAll(async () => {
  if (!CONTAINERD_SKIP) api = await startFakeApiServer();
});
afterAll(() => api?.close());

const defaultRoutes = (netnsPath: string) =>
  (JSON.parse(sh('nsenter', [`--net=${netnsPath}`, 'ip', '-j', '-4', 'route']) || '[]') as Array<{ dst: string; gateway?: string; dev: string }>).filter((r) => r.dst === 'default');

describe.skipIf(!!CONTAINERD_SKIP)("Multus's e2e pods over containerd CRI, braid daemon", () => {
  const t = useCriNode(() => ({ mode: 'daemon', subnetBase: BASE, api }));

  it('simple-macvlan1 and default-route1: static IPs with and without the ips capability, default-route, ping between pods', async () => {
    const { node, world } = t;
    const { a: master } = world.veth('mv');
    const ns = world.name('ns');
    const net = `198.19.${BASE + 1}`;
    api.addNad(ns, 'macvlan1-config', {
      cniVersion: '0.4.0',
      plugins: [{ type: 'macvlan', capabilities: { ips: true }, master, mode: 'bridge', ipam: { type: 'static' } }, { type: 'tuning' }],
    });
    api.addNad(ns, 'default-route-config', { cniVersion: '0.4.0', plugins: [{ type: 'macvlan', master, mode: 'bridge', ipam: { type: 'static' } }] });
    const spec = (name: string, networks: unknown[]) => api.addPod({ metadata: { name, namespace: ns, annotations: { [NETWORKS]: JSON.stringify(networks) } }, spec: { nodeName: 'node1' } });
    const objs = [
      spec('macvlan1-worker1', [{ name: 'macvlan1-config', ips: [`${net}.11/24`] }]),
      spec('default-route-worker1', [{ name: 'default-route-config', ips: [`${net}.21/24`], 'default-route': [`${net}.254`] }]),
      spec('default-route-worker2', [{ name: 'default-route-config', ips: [`${net}.22/24`] }]),
    ];
    await node.daemon!.waitFor('/readyz');
    const pods = [];
    for (const o of objs) pods.push(await node.runPod(o.metadata.name!, { namespace: ns, uid: o.metadata.uid!, annotations: {} }));
    const [mv1, dr1, dr2] = pods as [(typeof pods)[0], (typeof pods)[0], (typeof pods)[0]];

    expect(ipv4In(mv1.netnsPath, 'net1')).toEqual([`${net}.11/24`]);
    expect(ipv4In(dr1.netnsPath, 'net1')).toEqual([`${net}.21/24`]);
    expect(ipv4In(dr2.netnsPath, 'net1')).toEqual([`${net}.22/24`]);
    expect(defaultRoutes(dr1.netnsPath)).toEqual([expect.objectContaining({ gateway: `${net}.254`, dev: 'net1' })]);
    expect(defaultRoutes(dr2.netnsPath)).toEqual([expect.objectContaining({ dev: 'eth0' })]);
    for (const ip of [`${net}.21`, `${net}.22`]) {
      const p = pingFrom(mv1.netnsPath, ip);
      expect(p.ok, p.out).toBe(true);
    }
    const status = JSON.parse(api.getPod(ns, 'default-route-worker1')!.metadata.annotations![STATUS]!);
    // "default" marks the cluster network, as Multus's network-status does, even when the default route moved.
    expect(status[0]).toMatchObject({ interface: 'eth0', default: true });
    expect(status[1]).toMatchObject({ name: `${ns}/default-route-config`, interface: 'net1', ips: [`${net}.21`] });
    expect(status[1].default).toBeFalsy();

    for (const p of pods) await node.removePod(p.id);
    expect(node.leftovers(pods.map((p) => p.id))).toEqual(NOTHING_LEFT);
  });
});
