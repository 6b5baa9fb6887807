// Daemon mode end to end: a pod selecting two NADs, ADD/CHECK/DEL through each shim
// (native and Node.js) into `braid daemon`, real plugins in a real namespace, a loopback API
// server. Once the informers have synced an ADD costs one PATCH and nothing else; DEL costs
// nothing; the answer has the same shape as one-shot mode's.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_TRACES, TestWorld, ifaceIn, traces } from '../helpers/netns.js';
import { callBraid, k8sArgs } from '../helpers/braid-runner.js';
import { useDaemonApi, DaemonProcess, SHIMS, SHIM_C, callShim, killAllDaemons, shimEntry } from './daemon-harness.js';

const FAKE = join(import.meta.dirname, '../fixtures/plugins/fake-plugin');
let world: TestWorld;
const t = useDaemonApi();
beforeEach(() => {
  world = new TestWorld();
  t.api.reset();
});
afterEach(async () => {
  await killAllDaemons();
  await world.cleanup();
});

interface Setup {
  config: Record<string, unknown>;
  configFile: string;
  socket: string;
  podNs: string;
  dataDir: string;
  cniDir: string;
  networks: string[];
}

/** Daemon config: cluster network (file) plus NADs; `real` uses bridge/macvlan, else the fake plugin. */
function setup(base: number, real: boolean): Setup {
  const dataDir = world.dir('ipam');
  const cniDir = world.dir('braid');
  const confDir = world.dir('net.d');
  const binDir = world.dir('bin');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(binDir, { recursive: true });
  copyFileSync(FAKE, join(binDir, 'fake'));
  const ipam = (i: number) => ({ type: 'host-local', dataDir, ranges: [[{ subnet: `198.18.${base + i}.0/24` }]], ...(i === 0 ? { routes: [{ dst: '0.0.0.0/0' }] } : {}) });
  const clusterName = world.name('cl');
  const clusterFile = join(confDir, '10-cluster.conflist');
  const clusterPlugins = real ? [{ type: 'bridge', bridge: world.name('c0'), isGateway: true, ipam: ipam(0) }] : [{ type: 'fake' }];
  writeFileSync(clusterFile, JSON.stringify({ cniVersion: '1.0.0', name: clusterName, plugins: clusterPlugins }));
  const podNs = world.name('ns');
  const master = real ? world.veth('m').a : '';
  const nads = [
    { name: `${world.tag}-a`, plugins: real ? [{ type: 'bridge', bridge: world.name('a0'), ipam: ipam(1) }] : [{ type: 'fake' }] },
    { name: `${world.tag}-b`, plugins: real ? [{ type: 'macvlan', master, mode: 'bridge', ipam: ipam(2) }] : [{ type: 'fake' }] },
  ];
  for (const n of nads) t.api.addNad(podNs, n.name, { cniVersion: '1.0.0', plugins: n.plugins });
  const config = {
    cniVersion: '1.0.0',
    name: 'braid-net',
    type: 'braid',
    kubeconfig: t.api.writeKubeconfig(world.dir('kubeconfig')),
    clusterNetwork: clusterFile,
    confDir,
    cniDir,
    binDir: `${binDir}:/usr/lib/cni`,
    logFile: world.dir('braid.log'),
    logLevel: 'debug',
  };
  const configFile = world.dir('braid.conf');
  writeFileSync(configFile, JSON.stringify(config));
  return { config, configFile, socket: world.dir('run/braid.sock'), podNs, dataDir, cniDir, networks: [clusterName, ...nads.map((n) => `${podNs}/${n.name}`)] };
}

function addPod(s: Setup, name: string, nodeName = 'node1'): { name: string; uid: string } {
  const annotation = JSON.stringify([{ name: `${world.tag}-a` }, { name: `${world.tag}-b`, namespace: s.podNs }]);
  const pod = t.api.addPod({ metadata: { name, namespace: s.podNs, annotations: { 'k8s.v1.cni.cncf.io/networks': annotation } }, spec: { nodeName } });
  return { name, uid: pod.metadata.uid! };
}

const records = (s: Setup) =>
  ['results', 'plans'].flatMap((d) => (existsSync(join(s.cniDir, d)) ? readdirSync(join(s.cniDir, d)).map((f) => `${d}/${f}`) : []));

/** Requests other than the informers' long-lived watches (one may still be connecting). */
const calls = () => t.api.requests.filter((r) => r.query.watch !== 'true');
const gets = (prefix: string) => calls().filter((r) => r.method === 'GET' && r.path.startsWith(prefix)).length;

/** What must match between daemon and one-shot answers: everything but addresses and MACs. */
function shape(r: any) {
  return {
    cniVersion: r.cniVersion,
    interfaces: r.interfaces.map((i: any) => ({ name: i.sandbox || !i.name.startsWith('veth') ? i.name : 'veth*', sandbox: !!i.sandbox })),
    ips: r.ips.map((ip: any) => ({ interface: ip.interface, prefix: ip.address.split('/')[1], gateway: !!ip.gateway })),
    routes: r.routes,
  };
}

// The two shims also cover the daemon's two ways of starting delegates: through braid-spawner
// (beside dist/braid when the build had a C compiler) and forking them itself (--no-spawner).
const SPAWNER_BUILT = existsSync(join(import.meta.dirname, '../../dist/braid-spawner'));
if (!SPAWNER_BUILT) console.log('skipping the braid-spawner daemon run: dist/braid-spawner was not built (no C compiler)');

describe.each(SHIMS)('ADD/CHECK/DEL through the %s shim', (shimName, shim) => {
  const viaSpawner = shimName === 'C' && SPAWNER_BUILT;
  it(`serves a pod with two NADs: one PATCH on ADD, no API call on DEL, same answer as one-shot (delegates ${viaSpawner ? 'through braid-spawner' : 'forked by the daemon'})`, async () => {
    const base = shimName === 'C' ? 80 : 84;
    const s = setup(base, true);
    const ns = world.netns('pod');
    const pod = addPod(s, world.name('pod'));
    const daemon = await DaemonProcess.start({ config: s.configFile, socket: s.socket, args: viaSpawner ? [] : ['--no-spawner'] });
    t.api.reset();

    const containerId = `ctr${world.tag}`;
    const call = { containerId, netns: ns.path, args: k8sArgs(s.podNs, pod.name, pod.uid), config: shimEntry(s.socket) };
    world.onCleanup(() => callBraid({ ...call, command: 'DEL', config: s.config }));
    const add = await callShim(shim, { ...call, command: 'ADD' });
    expect(add.status, add.stdout + add.stderr).toBe(0);
    expect(add.json.interfaces.filter((i: any) => i.sandbox).map((i: any) => i.name)).toEqual(['eth0', 'net1', 'net2']);
    expect(add.json.ips.map((ip: any) => ip.address)).toEqual([0, 1, 2].map((i) => `198.18.${base + i}.2/24`));

    // Informers answered the pod and both NADs: the status PATCH is the only request.
    expect(gets('/')).toBe(0);
    expect(t.api.count({ method: 'PATCH', path: `/api/v1/namespaces/${s.podNs}/pods/${pod.name}/status` })).toBe(1);
    expect(calls()).toHaveLength(1);
    const status = JSON.parse(t.api.getPod(s.podNs, pod.name)!.metadata.annotations!['k8s.v1.cni.cncf.io/network-status']!);
    expect(status.map((e: any) => [e.name, e.interface])).toEqual([
      [s.networks[0], 'eth0'],
      [s.networks[1], 'net1'],
      [s.networks[2], 'net2'],
    ]);

    // Per-plugin CPU is known only when braid-spawner reaps the plugin (wait4).
    const bridgeCpu = await daemon.metric('braid_delegate_cpu_seconds_total', { plugin: 'bridge', command: 'ADD' });
    if (viaSpawner) expect(bridgeCpu).toBeGreaterThan(0);
    else expect(bridgeCpu).toBeUndefined();
    const spawners = readFileSync(`/proc/${daemon.pid}/task/${daemon.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    expect(spawners.map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim())).toEqual(viaSpawner ? ['braid-spawner'] : []);

    const check = await callShim(shim, { ...call, command: 'CHECK' });
    expect(check.status, check.stdout).toBe(0);
    expect(check.stdout).toBe('');

    t.api.reset();
    const del = await callShim(shim, { ...call, command: 'DEL' });
    expect(del.status, del.stdout).toBe(0);
    expect(del.stdout).toBe('');
    expect(calls()).toHaveLength(0);
    for (const ifname of ['eth0', 'net1', 'net2']) expect(ifaceIn(ns.name, ifname)).toBeUndefined();
    expect(traces({ tag: world.tag, containerIds: [containerId], dataDirs: [s.dataDir], ignoreLinks: world.ownLinks() })).toEqual(NO_TRACES);
    expect(records(s)).toEqual([]);

    // One-shot braid with the full config answers the same shape.
    const oneShot = await callBraid({ ...call, command: 'ADD', config: s.config });
    expect(oneShot.status, oneShot.stdout).toBe(0);
    expect(shape(add.json)).toEqual(shape(oneShot.json));
    expect((await callBraid({ ...call, command: 'DEL', config: s.config })).status).toBe(0);
    expect((await callShim(shim, { ...call, command: 'DEL' })).status).toBe(0); // DEL again: fine
  });
});

describe('cache misses fall back to one GET', () => {
  it('a pod the informer has not seen (scheduled elsewhere, or just created) still gets its networks', async () => {
    const s = setup(0, false);
    const d = await DaemonProcess.start({ config: s.configFile, socket: s.socket });

    // Not on this node's informer at all: exactly one pod GET, the NADs still from the cache.
    const far = addPod(s, world.name('far'), 'node2');
    t.api.reset();
    const call = { containerId: `far${world.tag}`, netns: '/var/run/netns/none', args: k8sArgs(s.podNs, far.name, far.uid), config: shimEntry(s.socket) };
    const add = await callShim(SHIM_C, { ...call, command: 'ADD' });
    expect(add.status, add.stdout).toBe(0);
    expect(gets('/api/v1/namespaces/')).toBe(1);
    expect(gets('/apis/')).toBe(0);
    expect(t.api.count({ method: 'PATCH' })).toBe(1);
    expect(await d.metric('braid_informer_cache_lookups_total', { resource: 'pods', result: 'miss' })).toBe(1);
    expect((await callShim(SHIM_C, { ...call, command: 'DEL' })).status).toBe(0);

    // Created a moment before its ADD: served from the watch or by the fallback, never refused.
    const fresh = addPod(s, world.name('new'));
    const freshCall = { ...call, containerId: `new${world.tag}`, args: k8sArgs(s.podNs, fresh.name, fresh.uid) };
    const add2 = await callShim(SHIM_C, { ...freshCall, command: 'ADD' });
    expect(add2.status, add2.stdout).toBe(0);
    expect((await callShim(SHIM_C, { ...freshCall, command: 'DEL' })).status).toBe(0);

    // A NAD that does not exist: one GET (404), then remembered briefly; the error is braid's usual.
    const ghost = t.api.addPod({
      metadata: { name: world.name('gh'), namespace: s.podNs, annotations: { 'k8s.v1.cni.cncf.io/networks': 'nosuchnet' } },
      spec: { nodeName: 'node1' },
    });
    await new Promise((r) => setTimeout(r, 300)); // let the watch deliver the pod
    t.api.reset();
    const ghostCall = { ...call, containerId: `gh${world.tag}`, args: k8sArgs(s.podNs, ghost.metadata.name!, ghost.metadata.uid!) };
    for (let i = 0; i < 2; i++) {
      const r = await callShim(SHIM_C, { ...ghostCall, command: 'ADD' });
      expect(r.json.code).toBe(7);
      expect(r.json.msg).toContain('nosuchnet');
    }
    expect(gets('/apis/')).toBe(1);
    expect(gets('/api/v1/')).toBe(0);
    expect((await callShim(SHIM_C, { ...ghostCall, command: 'DEL' })).status).toBe(0);
  });
});
