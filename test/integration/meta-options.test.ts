// braid's options and annotation sources, each through dist/braid in a real
// namespace, with API requests counted.
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { ifaceIn, ipv4Of, nsRoutes } from '../helpers/netns.js';
import { callBraid } from '../helpers/braid-runner.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';

const t = useApiWorld();

let n = 0;
const scenario = (opts: ConstructorParameters<typeof PodScenario>[3] = {}) => new PodScenario(t.world, t.api, 160 + (n++ % 8) * 4, opts);
const podGets = () => t.api.count({ method: 'GET', pathPrefix: '/api/v1/' });

describe('where the annotations come from', () => {
  it("CRI-O's io.kubernetes.cri.pod-annotations capability: no pod GET", async () => {
    const s = scenario();
    const annotations = { 'k8s.v1.cni.cncf.io/networks': `${t.world.tag}-a,${t.world.tag}-b@mv9` };
    const add = await s.call('ADD', { config: { runtimeConfig: { 'io.kubernetes.cri.pod-annotations': annotations } } });
    expect(add.status, add.stdout).toBe(0);
    expect(podGets()).toBe(0);
    expect(ifaceIn(s.ns.name, 'net1')).toBeDefined();
    expect(ifaceIn(s.ns.name, 'mv9')).toBeDefined();
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('a pod UID that differs from the runtime\'s fails with code 3 and attaches nothing', async () => {
    const s = scenario();
    const r = await callBraid({ command: 'ADD', containerId: s.containerId, netns: s.ns.path, args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${s.podNs};K8S_POD_NAME=${s.podName};K8S_POD_UID=not-the-uid`, config: s.config });
    expect(r.json).toMatchObject({ code: 3, msg: expect.stringContaining('recreated') });
    expect(ifaceIn(s.ns.name, 'eth0')).toBeUndefined();
  });

  it('no Kubernetes at all: the cluster network and static delegates only', async () => {
    const s = scenario();
    const { kubeconfig: _k, clusterNetwork: _c, ...noK8s } = s.config;
    const cluster = JSON.parse(JSON.stringify(await import('node:fs').then((fs) => JSON.parse(fs.readFileSync(String(s.config.clusterNetwork), 'utf8')))));
    const extra = { cniVersion: '1.0.0', name: t.world.name('st'), plugins: [{ type: 'bridge', bridge: t.world.name('s0'), ipam: { type: 'host-local', dataDir: s.dataDir, ranges: [[{ subnet: `198.18.${s.base + 3}.0/24` }]] } }] };
    s.config = { ...noK8s, delegates: [cluster, extra] };
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(t.api.requests).toHaveLength(0);
    expect(ipv4Of(s.ns.name, 'net1')).toEqual([`198.18.${s.base + 3}.2/24`]);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('pods in systemNamespaces get the cluster network only, with no pod GET', async () => {
    const s = scenario();
    s.config = { ...s.config, systemNamespaces: [s.podNs] };
    expect((await s.call('ADD')).status).toBe(0);
    expect(podGets()).toBe(0);
    expect(ifaceIn(s.ns.name, 'eth0')).toBeDefined();
    expect(ifaceIn(s.ns.name, 'net1')).toBeUndefined();
    expect((await s.call('DEL')).status).toBe(0);
  });
});

describe('annotation forms and selection options', () => {
  it("CNI-Genie's cni annotation and cni-args into args.cni", async () => {
    const s = scenario({ annotation: '' });
    const pod = t.api.getPod(s.podNs, s.podName)!;
    pod.metadata.annotations = { cni: `${t.world.tag}-a, ${t.world.tag}-c` };
    t.api.updatePod(pod);
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(s.ns.name, 'net1')).toEqual([`198.18.${s.base + 1}.2/24`]);
    expect(ipv4Of(s.ns.name, 'net2')).toEqual([`198.18.${s.base + 3}.2/24`]);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('default-route moves the pod default route to the chosen network', async () => {
    const gw = `198.18.${n * 4 + 160 + 1}.1`;
    const s = scenario({ annotation: JSON.stringify([{ name: `${t.world.tag}-a`, 'default-route': [gw] }]) });
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    const defaults = nsRoutes(s.ns.name).filter((r) => r.dst === 'default');
    expect(defaults).toEqual([expect.objectContaining({ gateway: gw, dev: 'net1' })]);
    const r = add.json;
    const v4defaults = r.routes.filter((rt: any) => rt.dst === '0.0.0.0/0');
    expect(v4defaults).toEqual([{ dst: '0.0.0.0/0', gw }]);
    const status = JSON.parse(t.api.getPod(s.podNs, s.podName)!.metadata.annotations!['k8s.v1.cni.cncf.io/network-status']!);
    expect(status.find((e: any) => e.interface === 'net1').gateway).toEqual([gw]);
    expect((await s.call('DEL')).status).toBe(0);
  });

  it('the default-network annotation replaces the cluster network (resolved in multusNamespace)', async () => {
    const s = scenario({ annotation: '' });
    const alt = { cniVersion: '1.0.0', plugins: [{ type: 'bridge', bridge: t.world.name('d0'), isGateway: true, ipam: { type: 'host-local', dataDir: s.dataDir, ranges: [[{ subnet: `198.18.${s.base + 2}.0/24` }]] } }] };
    t.api.addNad('kube-system', `${t.world.tag}-alt`, alt);
    const pod = t.api.getPod(s.podNs, s.podName)!;
    pod.metadata.annotations = { 'v1.multus-cni.io/default-network': `${t.world.tag}-alt` };
    t.api.updatePod(pod);
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(s.ns.name, 'eth0')).toEqual([`198.18.${s.base + 2}.2/24`]);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('namespaceIsolation refuses a cross-namespace reference with code 7', async () => {
    const s = scenario({ annotation: `other-ns/${t.world.tag}-a` });
    s.config = { ...s.config, namespaceIsolation: true };
    const add = await s.call('ADD');
    expect(add.json).toMatchObject({ code: 7, msg: expect.stringContaining('namespaceIsolation') });
    expect(ifaceIn(s.ns.name, 'eth0')).toBeUndefined();
  });

  it('namespaceIsolation also covers defaultNetworks and the default-network annotation', async () => {
    const s = scenario({ annotation: '' });
    s.config = { ...s.config, namespaceIsolation: true, defaultNetworks: ['elsewhere/x'] };
    expect((await s.call('ADD')).json).toMatchObject({ code: 7, msg: expect.stringContaining('namespaceIsolation') });
    const pod = t.api.getPod(s.podNs, s.podName)!;
    pod.metadata.annotations = { 'v1.multus-cni.io/default-network': 'elsewhere/x' };
    t.api.updatePod(pod);
    s.config = { ...s.config, defaultNetworks: [] };
    expect((await s.call('ADD')).json).toMatchObject({ code: 7, msg: expect.stringContaining('namespaceIsolation') });
    expect(t.api.count({ pathPrefix: '/apis/' })).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('strictCapabilities: a selection asking for a capability no plugin declares fails with code 7', async () => {
    const s = scenario({ annotation: JSON.stringify([{ name: `${t.world.tag}-a`, mac: '02:00:00:00:00:01' }]) });
    s.config = { ...s.config, strictCapabilities: true };
    const add = await s.call('ADD');
    expect(add.json).toMatchObject({ code: 7, msg: expect.stringContaining('"mac" capability') });
    expect(s.leftovers()).toEqual(CLEAN);
  });
});

describe('result and verbs', () => {
  it('result: "cluster" returns only the cluster network, like Multus', async () => {
    const s = scenario();
    s.config = { ...s.config, result: 'cluster', cniVersion: '0.4.0' };
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(add.json.cniVersion).toBe('0.4.0');
    expect(add.json.ips).toEqual([expect.objectContaining({ version: '4', address: `198.18.${s.base}.2/24` })]);
    expect(ifaceIn(s.ns.name, 'net3')).toBeDefined();
    expect((await s.call('DEL')).status).toBe(0);
  });

  it('STATUS is code 50 until the readiness indicator file exists', async () => {
    const s = scenario();
    const ready = t.world.dir('ready');
    const config = { ...s.config, cniVersion: '1.1.0', readinessindicatorfile: ready };
    const notReady = await callBraid({ command: 'STATUS', config });
    expect(notReady.json).toMatchObject({ code: 50, msg: expect.stringContaining(ready) });
    writeFileSync(ready, '');
    const ok = await callBraid({ command: 'STATUS', config });
    expect(ok.status, ok.stdout).toBe(0);
    expect(existsSync(join(s.cniDir, 'plans'))).toBe(false);
  });
});
