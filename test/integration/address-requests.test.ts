// A selection's ips/mac reach the delegates the way Multus sends them (runtimeConfig for the
// plugins that declare the capability, args.cni, CNI_ARGS IP=/MAC=), and the result is checked
// afterwards: real plugins (static, macvlan, tuning, ptp) through dist/braid in real namespaces.
import { describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { ifaceIn, ipv4Of } from '../helpers/netns.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';

const t = useApiWorld();

let n = 0;
// Subnets 198.18.200-207 are this file's.
const scenario = () => new PodScenario(t.world, t.api, 200 + (n++ % 2) * 4, { annotation: '' });

function select(s: PodScenario, elements: unknown[]): void {
  const pod = t.api.getPod(s.podNs, s.podName)!;
  pod.metadata.annotations = { 'k8s.v1.cni.cncf.io/networks': JSON.stringify(elements) };
  t.api.updatePod(pod);
}

const hostLocal = (s: PodScenario, octet: number) => ({ type: 'host-local', dataDir: s.dataDir, ranges: [[{ subnet: `198.18.${octet}.0/24` }]] });
const macOf = (ns: string, ifname: string) => ifaceIn(ns, ifname)?.address;

describe('ips and mac without a declared capability (Multus convention)', () => {
  it('the real static IPAM reads IP= and macvlan reads MAC= from CNI_ARGS', async () => {
    const s = scenario();
    const { a: master } = t.world.veth('st');
    const nad = `${t.world.tag}-st`;
    t.api.addNad(s.podNs, nad, { cniVersion: '1.0.0', plugins: [{ type: 'macvlan', master, mode: 'bridge', ipam: { type: 'static' } }] });
    const ip = `198.18.${s.base + 1}.77/24`;
    // cni-args blank the args.cni copies, so only CNI_ARGS carries the request.
    select(s, [{ name: nad, ips: [ip], mac: '02:42:16:00:00:01', 'cni-args': { ips: null, mac: null } }]);
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(s.ns.name, 'net1')).toEqual([ip]);
    expect(macOf(s.ns.name, 'net1')).toBe('02:42:16:00:00:01');
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('tuning sets the mac a ptp interface would not have; host-local takes the requested IP', async () => {
    const s = scenario();
    const nad = `${t.world.tag}-tu`;
    t.api.addNad(s.podNs, nad, { cniVersion: '1.0.0', plugins: [{ type: 'ptp', ipam: hostLocal(s, s.base + 2) }, { type: 'tuning' }] });
    const ip = `198.18.${s.base + 2}.40`;
    select(s, [{ name: nad, ips: [ip], mac: '02:42:16:00:00:02' }]);
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(s.ns.name, 'net1')).toEqual([`${ip}/24`]);
    expect(macOf(s.ns.name, 'net1')).toBe('02:42:16:00:00:02');
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('a mac no plugin applies fails that attachment after ADD, names it, and rolls everything back', async () => {
    const s = scenario();
    const nad = `${t.world.tag}-pp`;
    t.api.addNad(s.podNs, nad, { cniVersion: '1.0.0', plugins: [{ type: 'ptp', ipam: hostLocal(s, s.base + 2) }] });
    select(s, [{ name: `${t.world.tag}-a` }, { name: nad, mac: '02:42:16:00:00:03' }]);
    const add = await s.call('ADD');
    expect(add.json).toMatchObject({ code: 7, msg: expect.stringMatching(new RegExp(`network ${s.podNs}/${nad} \\(net2\\).*mac 02:42:16:00:00:03 \\(interface net2 has mac `)) });
    expect(ifaceIn(s.ns.name, 'eth0')).toBeUndefined();
    expect(ifaceIn(s.ns.name, 'net1')).toBeUndefined();
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('strictCapabilities: true refuses the same request up front (NPWG v1.3), running nothing', async () => {
    const s = scenario();
    s.config = { ...s.config, strictCapabilities: true };
    const nad = `${t.world.tag}-pp`;
    t.api.addNad(s.podNs, nad, { cniVersion: '1.0.0', plugins: [{ type: 'ptp', ipam: hostLocal(s, s.base + 2) }] });
    select(s, [{ name: nad, mac: '02:42:16:00:00:04' }]);
    const add = await s.call('ADD');
    expect(add.json).toMatchObject({ code: 7, msg: expect.stringContaining('"mac" capability') });
    expect(ifaceIn(s.ns.name, 'eth0')).toBeUndefined();
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('a declared capability gets runtimeConfig too: static and macvlan with ips/mac declared', async () => {
    const s = scenario();
    const { a: master } = t.world.veth('sd');
    const nad = `${t.world.tag}-sd`;
    t.api.addNad(s.podNs, nad, {
      cniVersion: '1.0.0',
      plugins: [{ type: 'macvlan', master, mode: 'bridge', capabilities: { ips: true, mac: true }, ipam: { type: 'static' } }],
    });
    const ips = [`198.18.${s.base + 1}.5/24`, `198.18.${s.base + 1}.6/24`];
    select(s, [{ name: nad, interface: 'data0', ips, mac: '02:42:16:00:00:05' }]);
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(s.ns.name, 'data0').sort()).toEqual(ips);
    expect(macOf(s.ns.name, 'data0')).toBe('02:42:16:00:00:05');
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});
