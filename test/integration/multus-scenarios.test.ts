// Multus's own scenarios, rebuilt as braid tests: the pods and NADs of Multus's how-to guide
// (docs/how-to-use.md: pod-case-01 to -06, the default-route sample) and of its e2e suite
// (e2e/templates: simple-macvlan1, default-route1), plus cni-args and the default-network
// annotation. Each NAD keeps Multus's plugins and options; only what must differ on a test
// machine does: the master is a veth end, the subnets are 198.18.100-119 (this file's), and
// host-local keeps its reservations in the test's own dataDir. Through the API stand-in with
// dist/braid, real plugins in real namespaces.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { ifaceIn, ipv4Of, nsRoutes } from '../helpers/netns.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';
import { sh } from '../helpers/sh.js';

const t = useApiWorld();
let n = 0;
const scenario = () => new PodScenario(t.world, t.api, 100 + (n++ % 5) * 4, { annotation: '' });

function annotate(s: PodScenario, annotations: Record<string, string>, pod = { ns: s.podNs, name: s.podName }): void {
  const p = t.api.getPod(pod.ns, pod.name)!;
  p.metadata.annotations = annotations;
  t.api.updatePod(p);
}

const networkStatus = (s: PodScenario) =>
  JSON.parse(t.api.getPod(s.podNs, s.podName)!.metadata.annotations!['k8s.v1.cni.cncf.io/network-status']!) as Array<{ name: string; interface?: string; ips?: string[]; default?: boolean }>;

/** Multus's macvlan-conf-N NAD: macvlan on `master`, host-local over 198.18.<octet>.0/24 from .20 to .50. */
const macvlanConf = (s: PodScenario, master: string, octet: number, gateway = true) => ({
  cniVersion: '0.3.0',
  type: 'macvlan',
  master,
  mode: 'bridge',
  ipam: {
    type: 'host-local',
    dataDir: s.dataDir,
    ranges: [[{ subnet: `198.18.${octet}.0/24`, rangeStart: `198.18.${octet}.20`, rangeEnd: `198.18.${octet}.50`, ...(gateway ? { gateway: `198.18.${octet}.254` } : {}) }]],
  },
});

describe("Multus's how-to guide", () => {
  it('pod-case-01: text annotation with a NAD config and a NAD without spec (its config a file in confDir)', async () => {
    const s = scenario();
    const { a: master } = t.world.veth('mv');
    t.api.addNad(s.podNs, 'macvlan-conf-1', macvlanConf(s, master, s.base + 1));
    t.api.addNad(s.podNs, 'macvlan-conf-2', '');
    writeFileSync(join(String(s.config.confDir), 'macvlan2.conf'), JSON.stringify({ ...macvlanConf(s, master, s.base + 2, false), name: 'macvlan-conf-2' }));
    annotate(s, { 'k8s.v1.cni.cncf.io/networks': 'macvlan-conf-1, macvlan-conf-2' });
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(s.ns.name, 'net1')).toEqual([`198.18.${s.base + 1}.20/24`]);
    expect(ipv4Of(s.ns.name, 'net2')).toEqual([`198.18.${s.base + 2}.20/24`]);
    expect(networkStatus(s).map((e) => [e.name, e.interface, e.default ?? false])).toEqual([
      [s.networks[0], 'eth0', true],
      [`${s.podNs}/macvlan-conf-1`, 'net1', false],
      [`${s.podNs}/macvlan-conf-2`, 'net2', false],
    ]);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('pod-case-02, -03, -05, -06: NADs in another namespace, interface names, text and JSON forms', async () => {
    const s = scenario();
    const { a: master } = t.world.veth('mv');
    const testns1 = `${t.world.tag}-testns1`;
    t.api.addNad(s.podNs, 'macvlan-conf-1', macvlanConf(s, master, s.base + 1));
    t.api.addNad(testns1, 'macvlan-conf-3', macvlanConf(s, master, s.base + 3));
    // pod-case-02 and -03 in one text annotation, then -05 and -06 in JSON.
    annotate(s, { 'k8s.v1.cni.cncf.io/networks': `${testns1}/macvlan-conf-3, macvlan-conf-1@macvlan1` });
    let add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(s.ns.name, 'net1')).toEqual([`198.18.${s.base + 3}.20/24`]);
    expect(ipv4Of(s.ns.name, 'macvlan1')).toEqual([`198.18.${s.base + 1}.20/24`]);
    expect((await s.call('DEL')).status).toBe(0);

    annotate(s, { 'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'macvlan-conf-1', interface: 'macvlan1' }, { name: 'macvlan-conf-3', namespace: testns1 }]) });
    add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    // Multus numbers by position: the second selection is net2 (the guide's pod-case-06 output).
    expect(ifaceIn(s.ns.name, 'macvlan1')).toBeDefined();
    // host-local goes round the range: the next address after the one the first ADD released.
    expect(ipv4Of(s.ns.name, 'net2')).toEqual([`198.18.${s.base + 3}.21/24`]);
    expect(networkStatus(s).map((e) => e.name)).toEqual([s.networks[0], `${s.podNs}/macvlan-conf-1`, `${testns1}/macvlan-conf-3`]);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('the default-route sample: default via the macvlan gateway on net1, not eth0', async () => {
    const s = scenario();
    const { a: master } = t.world.veth('mv');
    const o = s.base + 2;
    // The guide's NAD: host-local in its flat form, with a default route and a gateway.
    t.api.addNad(s.podNs, 'macvlan-conf', {
      cniVersion: '0.3.0',
      type: 'macvlan',
      master,
      mode: 'bridge',
      ipam: { type: 'host-local', dataDir: s.dataDir, subnet: `198.18.${o}.0/24`, rangeStart: `198.18.${o}.200`, rangeEnd: `198.18.${o}.216`, routes: [{ dst: '0.0.0.0/0' }], gateway: `198.18.${o}.1` },
    });
    annotate(s, { 'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'macvlan-conf', 'default-route': [`198.18.${o}.1`] }]) });
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    const defaults = nsRoutes(s.ns.name).filter((r) => r.dst === 'default');
    expect(defaults).toEqual([expect.objectContaining({ gateway: `198.18.${o}.1`, dev: 'net1' })]);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});

describe("Multus's e2e templates", () => {
  it('simple-macvlan1: two pods, macvlan (ips capability) + static + tuning, reach each other on their static IPs', async () => {
    const s1 = scenario();
    const { a: master } = t.world.veth('mv');
    const o = s1.base + 1;
    const config = {
      cniVersion: '0.4.0',
      plugins: [{ type: 'macvlan', capabilities: { ips: true }, master, mode: 'bridge', ipam: { type: 'static' } }, { type: 'tuning' }],
    };
    t.api.addNad(s1.podNs, 'macvlan1-config', config);
    annotate(s1, { 'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'macvlan1-config', ips: [`198.18.${o}.11/24`] }]) });
    // The second pod: its own netns and container, same namespace and NAD.
    const ns2 = t.world.netns('pod2');
    const pod2 = t.api.addPod({ metadata: { name: `${s1.podName}-2`, namespace: s1.podNs, annotations: { 'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'macvlan1-config', ips: [`198.18.${o}.12/24`] }]) } }, spec: { nodeName: 'node1' } }) as { metadata: { uid?: string } };
    const call2 = (command: 'ADD' | 'DEL') =>
      import('../helpers/braid-runner.js').then(({ callBraid, k8sArgs }) =>
        callBraid({ command, containerId: `${s1.containerId}2`, netns: ns2.path, ifname: 'eth0', args: k8sArgs(s1.podNs, `${s1.podName}-2`, pod2.metadata.uid), config: s1.config }),
      );
    t.world.onCleanup(() => call2('DEL'));
    // The second pod's eth0 comes from the same cluster range: host-local hands it the next address.
    expect((await s1.call('ADD')).status).toBe(0);
    const add2 = await call2('ADD');
    expect(add2.status, add2.stdout).toBe(0);
    expect(ipv4Of(s1.ns.name, 'net1')).toEqual([`198.18.${o}.11/24`]);
    expect(ipv4Of(ns2.name, 'net1')).toEqual([`198.18.${o}.12/24`]);
    sh('ip', ['netns', 'exec', s1.ns.name, 'ping', '-c', '1', '-W', '2', `198.18.${o}.12`]);
    expect((await call2('DEL')).status).toBe(0);
    expect((await s1.call('DEL')).status).toBe(0);
    expect(s1.leftovers()).toEqual(CLEAN);
  });

  it('default-route1: macvlan + static with no ips capability; worker1 also moves its default route', async () => {
    const s = scenario();
    const { a: master } = t.world.veth('mv');
    const o = s.base + 1;
    t.api.addNad(s.podNs, 'default-route-config', { cniVersion: '0.4.0', plugins: [{ type: 'macvlan', master, mode: 'bridge', ipam: { type: 'static' } }] });
    annotate(s, { 'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'default-route-config', ips: [`198.18.${o}.21/24`], 'default-route': [`198.18.${o}.254`] }]) });
    let add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(s.ns.name, 'net1')).toEqual([`198.18.${o}.21/24`]);
    expect(nsRoutes(s.ns.name).filter((r) => r.dst === 'default')).toEqual([expect.objectContaining({ gateway: `198.18.${o}.254`, dev: 'net1' })]);
    expect((await s.call('DEL')).status).toBe(0);

    // worker2: ips only; the cluster network keeps the default route.
    annotate(s, { 'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'default-route-config', ips: [`198.18.${o}.22/24`] }]) });
    add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(s.ns.name, 'net1')).toEqual([`198.18.${o}.22/24`]);
    expect(nsRoutes(s.ns.name).filter((r) => r.dst === 'default')).toEqual([expect.objectContaining({ dev: 'eth0' })]);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});

describe('other Multus conventions', () => {
  it('cni-args reach every plugin as args.cni: tuning sets the MAC it names', async () => {
    const s = scenario();
    t.api.addNad(s.podNs, 'tuned', {
      cniVersion: '1.0.0',
      plugins: [{ type: 'bridge', bridge: t.world.name('tb'), ipam: { type: 'host-local', dataDir: s.dataDir, ranges: [[{ subnet: `198.18.${s.base + 1}.0/24` }]] } }, { type: 'tuning' }],
    });
    annotate(s, { 'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'tuned', 'cni-args': { mac: '02:42:16:0c:0a:01' } }]) });
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ifaceIn(s.ns.name, 'net1')?.address).toBe('02:42:16:0c:0a:01');
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('v1.multus-cni.io/default-network: eth0 from a NAD in multusNamespace instead of the cluster network', async () => {
    const s = scenario();
    t.api.addNad('kube-system', `${t.world.tag}-alt`, {
      cniVersion: '1.0.0',
      plugins: [{ type: 'bridge', bridge: t.world.name('al'), isGateway: true, ipam: { type: 'host-local', dataDir: s.dataDir, ranges: [[{ subnet: `198.18.${s.base + 3}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }] } }],
    });
    annotate(s, { 'v1.multus-cni.io/default-network': `${t.world.tag}-alt` });
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(s.ns.name, 'eth0')).toEqual([`198.18.${s.base + 3}.2/24`]);
    expect(networkStatus(s)).toEqual([expect.objectContaining({ name: `kube-system/${t.world.tag}-alt`, interface: 'eth0', default: true })]);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});
