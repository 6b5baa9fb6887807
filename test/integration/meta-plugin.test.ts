// braid as the meta-plugin (issue 3): a pod selecting three NADs through the real binary,
// the real reference plugins and a loopback API server.
import { mkdirSync, readdirSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';
import { NO_TRACES, TestWorld, ifaceIn, ipv4Of, nsRoutes, traces } from '../helpers/netns.js';
import { assertBuilt, callBraid, k8sArgs } from '../helpers/braid-runner.js';

const FAKE = join(import.meta.dirname, '../fixtures/plugins/fake-plugin');
let api: FakeApiServer;
let world: TestWorld;
let kubeconfig: string;

beforeAll(async () => {
  assertBuilt();
  api = await startFakeApiServer();
});
afterAll(() => api.close());
beforeEach(() => {
  world = new TestWorld();
  kubeconfig = api.writeKubeconfig(world.dir('kubeconfig'));
  api.reset();
});
afterEach(() => world.cleanup());

interface Scenario {
  ns: { name: string; path: string };
  config: Record<string, unknown>;
  dataDir: string;
  cniDir: string;
  containerId: string;
  podName: string;
  networks: string[];
}

/** cluster network (file) + three NADs, each on its own 198.18.<base+i>.0/24. */
function scenario(base: number, opts: { parallel?: boolean; annotation?: string; failAt?: number; failCode?: number } = {}): Scenario {
  const ns = world.netns('pod');
  const { a: master } = world.veth('m');
  const dataDir = world.dir('ipam');
  const cniDir = world.dir('braid');
  const confDir = world.dir('net.d');
  const binDir = world.dir('bin');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(binDir, { recursive: true });
  copyFileSync(FAKE, join(binDir, 'fake'));
  const ipam = (i: number) => ({ type: 'host-local', dataDir, ranges: [[{ subnet: `198.18.${base + i}.0/24` }]], ...(i === 0 ? { routes: [{ dst: '0.0.0.0/0' }] } : {}) });
  const fail = (i: number) => (opts.failAt === i ? [{ type: 'fake', fake: { add: `error:${opts.failCode ?? 7}` } }] : []);
  const clusterName = world.name('cl');
  const clusterFile = join(confDir, '10-cluster.conflist');
  writeFileSync(
    clusterFile,
    JSON.stringify({ cniVersion: '1.0.0', name: clusterName, plugins: [{ type: 'bridge', bridge: world.name('c0'), isGateway: true, ipam: ipam(0) }, ...fail(0)] }),
  );
  const podNs = world.name('ns');
  const nads = [
    { name: `${world.tag}-a`, config: { cniVersion: '1.0.0', plugins: [{ type: 'bridge', bridge: world.name('a0'), ipam: ipam(1) }, ...fail(1)] } },
    { name: `${world.tag}-b`, config: { cniVersion: '0.4.0', plugins: [{ type: 'macvlan', master, mode: 'bridge', ipam: ipam(2) }, ...fail(2)] } },
    {
      name: `${world.tag}-c`,
      config: {
        cniVersion: '1.0.0',
        plugins: [
          { type: 'bridge', bridge: world.name('c1'), ipam: ipam(3) },
          { type: 'bandwidth', capabilities: { bandwidth: true } },
          ...fail(3),
        ],
      },
    },
  ];
  for (const n of nads) api.addNad(podNs, n.name, n.config);
  const podName = world.name('pod');
  // JSON form; the third selection also asks for bandwidth (its NAD declares the capability).
  const annotation =
    opts.annotation ??
    JSON.stringify([
      { name: nads[0]!.name },
      { name: nads[1]!.name, namespace: podNs },
      { name: nads[2]!.name, bandwidth: { ingressRate: 2_000_000, ingressBurst: 20_000, egressRate: 2_000_000, egressBurst: 20_000 } },
    ]);
  const pod = api.addPod({ metadata: { name: podName, namespace: podNs, annotations: { 'k8s.v1.cni.cncf.io/networks': annotation } }, spec: { nodeName: 'node1' } });
  const config = {
    cniVersion: '1.0.0',
    name: 'braid-net',
    type: 'braid',
    kubeconfig,
    clusterNetwork: clusterFile,
    confDir,
    cniDir,
    binDir: `${binDir}:/usr/lib/cni`,
    logFile: world.dir('braid.log'),
    parallel: opts.parallel ?? false,
  };
  return {
    ns,
    config,
    dataDir,
    cniDir,
    containerId: `ctr${world.tag}`,
    podName: `${podNs}/${podName}:${(pod as any).metadata.uid}`,
    networks: [clusterName, ...nads.map((n) => `${podNs}/${n.name}`)],
  };
}

async function call(s: Scenario, command: 'ADD' | 'DEL' | 'CHECK', extra: Record<string, unknown> = {}) {
  const [podNs, rest] = s.podName.split('/') as [string, string];
  const [name, uid] = rest.split(':') as [string, string];
  const r = await callBraid({ command, containerId: s.containerId, netns: s.ns.path, ifname: 'eth0', args: k8sArgs(podNs, name, uid), config: { ...s.config, ...extra } });
  if (command === 'ADD') world.onCleanup(() => callBraid({ command: 'DEL', containerId: s.containerId, netns: s.ns.path, args: k8sArgs(podNs, name, uid), config: s.config }));
  return r;
}

const leftovers = (s: Scenario) =>
  traces({ tag: world.tag, containerIds: [s.containerId], dataDirs: [s.dataDir], networks: s.networks.map((n) => n.split('/').pop()!), ignoreLinks: world.ownLinks() });
const records = (s: Scenario) =>
  ['results', 'plans'].flatMap((d) => (existsSync(join(s.cniDir, d)) ? readdirSync(join(s.cniDir, d)).map((f) => `${d}/${f}`) : []));

describe.each([false, true])('a pod selecting three NADs (parallel: %s)', (parallel) => {
  it('ADD gives eth0, net1, net2, net3; network-status lists four; DEL with the API down leaves nothing', async () => {
    const base = parallel ? 50 : 44;
    const s = scenario(base, { parallel });
    const add = await call(s, 'ADD');
    expect(add.status, add.stdout + add.stderr).toBe(0);

    for (const [i, ifname] of ['eth0', 'net1', 'net2', 'net3'].entries()) {
      expect(ipv4Of(s.ns.name, ifname)).toEqual([`198.18.${base + i}.2/24`]);
    }
    const r = add.json;
    expect(r.cniVersion).toBe('1.0.0');
    const sandboxIfs = r.interfaces.filter((i: any) => i.sandbox).map((i: any) => i.name);
    expect(sandboxIfs).toEqual(['eth0', 'net1', 'net2', 'net3']);
    for (const ip of r.ips) {
      const iface = r.interfaces[ip.interface];
      const idx = ['eth0', 'net1', 'net2', 'net3'].indexOf(iface.name);
      expect(iface.sandbox).toBe(s.ns.path);
      expect(ip.address).toBe(`198.18.${base + idx}.2/24`);
    }
    expect(r.routes.filter((rt: any) => rt.dst === '0.0.0.0/0')).toHaveLength(1);
    expect(nsRoutes(s.ns.name).filter((rt) => rt.dst === 'default')).toHaveLength(1);

    const [podNs, podName] = s.podName.split(':')[0]!.split('/') as [string, string];
    const status = JSON.parse(api.getPod(podNs, podName)!.metadata.annotations!['k8s.v1.cni.cncf.io/network-status']!);
    expect(status.map((e: any) => [e.name, e.interface, e.default === true])).toEqual([
      [s.networks[0], 'eth0', true],
      [s.networks[1], 'net1', false],
      [s.networks[2], 'net2', false],
      [s.networks[3], 'net3', false],
    ]);
    expect(status[2].ips).toEqual([`198.18.${base + 2}.2`]);

    // One pod GET, one GET per distinct NAD, one status PATCH; nothing else.
    expect(api.count({ method: 'GET', pathPrefix: '/api/v1/namespaces/' })).toBe(1);
    expect(api.count({ method: 'GET', pathPrefix: '/apis/k8s.cni.cncf.io/' })).toBe(3);
    expect(api.count({ method: 'PATCH' })).toBe(1);
    expect(api.requests).toHaveLength(5);

    const check = await call(s, 'CHECK');
    expect(check.status, check.stdout).toBe(0);

    api.stop();
    try {
      api.reset();
      const del = await call(s, 'DEL');
      expect(del.status, del.stdout).toBe(0);
      expect(api.requests).toHaveLength(0);
    } finally {
      await api.start();
    }
    for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
    expect(leftovers(s)).toEqual(NO_TRACES);
    expect(records(s)).toEqual([]);
    expect((await call(s, 'DEL')).status).toBe(0); // a second DEL is fine
  });
});

describe('a failure at each position rolls back everything', () => {
  it.each([0, 1, 2, 3])('failing network at position %i', async (pos) => {
    const s = scenario(56 + pos * 4, { failAt: pos, failCode: 7 });
    const add = await call(s, 'ADD');
    expect(add.status).not.toBe(0);
    expect(add.json.code).toBe(7);
    expect(add.json.msg).toContain(`network ${s.networks[pos]}`);
    expect(add.json.msg).toContain('plugin fake failed (add): injected failure');
    // Nothing left even before the runtime's DEL.
    for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
    expect(leftovers(s)).toEqual(NO_TRACES);
    expect(records(s)).toEqual([]);
    expect((await call(s, 'DEL')).status).toBe(0);
  });
});

describe('invalid annotations fail ADD with code 7 and a precise message', () => {
  it.each([
    ['[{"name": "x", "interface": "averyveryverylongname"}]', /interface.*averyveryverylongname/],
    ['[{"namespace": "a"}]', /name/],
    ['a,,b', /networks\[1\]/],
    ['[{"name": "x", "ips": ["not-an-ip"]}]', /not-an-ip/],
    ['[{"name":"a","default-route":["198.18.0.1"]},{"name":"b","default-route":["198.18.0.1"]}]', /default-route/],
    ['[{"name": "../../etc"}]', /\.\.\/\.\.\/etc/],
    ['[{"name":"x","ips":["198.18.0.5/24"],"ipam-claim-reference":"c"}]', /ipam-claim-reference/],
  ])('%s', async (annotation, msg) => {
    const s = scenario(72, { annotation });
    const add = await call(s, 'ADD');
    expect(add.status).not.toBe(0);
    expect(add.json.code).toBe(7);
    expect(add.json.msg).toMatch(msg);
    expect(ifaceIn(s.ns.name, 'eth0')).toBeUndefined();
    expect(records(s)).toEqual([]);
  });
});
