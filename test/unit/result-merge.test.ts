import { describe, expect, it } from 'vitest';
import { clusterOnly, isDefaultRoute, keptDefaultRoutes, mergeResults } from '../../src/meta/result-merge.js';
import { fourAttachments } from '../helpers/meta-fixtures.js';

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.values(o).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
}


describe('mergeResults', () => {
  it('merges four attachments: interfaces, remapped ips, one default route per family, cluster DNS', () => {
    const input = deepFreeze(fourAttachments());
    const before = JSON.stringify(input);
    expect(mergeResults(input)).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'cni0', mac: '0a:58:0a:f4:01:01' },
        { name: 'veth1234', mac: '0a:58:0a:f4:01:02' },
        { name: 'eth0', mac: '0a:58:0a:f4:01:05', mtu: 1450, sandbox: '/var/run/netns/pod' },
        { name: 'net1', mac: '02:23:45:67:89:01', sandbox: '/var/run/netns/pod' },
        { name: 'net2', sandbox: '/var/run/netns/pod' },
      ],
      ips: [
        { address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 2 },
        { address: 'fd00::5/64', gateway: 'fd00::1', interface: 2 },
        { address: '192.168.1.200/24', gateway: '192.168.1.1', interface: 3 },
        { address: '10.10.0.5/24', interface: 4 },
        { address: '172.16.0.5/24' }, // no index stays without one
      ],
      routes: [
        // the cluster's IPv4 and IPv6 defaults are gone: default-route moved the default (IPv6 has
        // none now, exactly as default-route.ts leaves the pod and as Multus's gateway filter does)
        { dst: '10.244.0.0/16', gw: '10.244.1.1' },
        { dst: '10.20.0.0/16', gw: '10.10.0.1' },
        { dst: '0.0.0.0/0', gw: '10.10.0.1' }, // synthesised from default-route
        { dst: '0.0.0.0/0', gw: '172.16.0.1', table: 100 }, // policy-routing table: not the default
      ],
      dns: { nameservers: ['10.96.0.10'], search: ['pod-ns.svc.cluster.local'] },
    });
    expect(JSON.stringify(input)).toBe(before);
  });

  it('without default-route keeps the cluster default routes and drops the others', () => {
    const input = fourAttachments().map((a) => ({ ...a, wantsDefaultRoute: false }));
    const defaults = mergeResults(input).routes!.filter(isDefaultRoute);
    expect(defaults).toEqual([{ dst: '0.0.0.0/0', gw: '10.244.1.1' }, { dst: '::/0', gw: 'fd00::1' }]);
  });

  it.each([
    ['the gateway it asked for wins over its own default route', ['192.168.1.254'], [{ dst: '0.0.0.0/0', gw: '192.168.1.254' }]],
    ['its own default route is kept (fields and all) when it has that gateway', ['192.168.1.1'], [{ dst: '0.0.0.0/0', gw: '192.168.1.1', mtu: 1400 }]],
    ['with no gateways named, its ips gateways are used', [], [{ dst: '0.0.0.0/0', gw: '192.168.1.1', mtu: 1400 }]],
    ['a family it names no gateway for keeps its own default routes', ['2001:db8::1'], [{ dst: '0.0.0.0/0', gw: '192.168.1.1', mtu: 1400 }, { dst: '::/0', gw: '2001:db8::1' }]],
  ])('asker with a default route: %s', (_what, gateways, expected) => {
    const input = fourAttachments();
    const macvlan = input[1]!.result;
    input[1] = { ...input[1]!, wantsDefaultRoute: true, defaultRouteGateways: gateways, result: { ...macvlan, routes: [{ dst: '0.0.0.0/0', gw: '192.168.1.1', mtu: 1400 }] } };
    input[2] = { ...input[2]!, wantsDefaultRoute: false };
    expect(mergeResults(input).routes!.filter(isDefaultRoute)).toEqual(expected);
  });

  it('moves both families when the asker covers both', () => {
    const input = fourAttachments();
    input[2] = { ...input[2]!, defaultRouteGateways: ['10.10.0.1', '2001:db8::1'] };
    expect(keptDefaultRoutes(input)).toEqual([[], [], [{ dst: '0.0.0.0/0', gw: '10.10.0.1' }, { dst: '::/0', gw: '2001:db8::1' }], []]);
    expect(mergeResults(input).routes!.filter(isDefaultRoute)).toEqual([
      { dst: '0.0.0.0/0', gw: '10.10.0.1' },
      { dst: '::/0', gw: '2001:db8::1' },
    ]);
  });

  it('drops an interface index that points outside its own attachment', () => {
    const input = fourAttachments();
    input[1] = { ...input[1]!, result: { ...input[1]!.result, ips: [{ address: '192.168.1.200/24', interface: 5 }] } };
    expect(mergeResults(input).ips![2]).toEqual({ address: '192.168.1.200/24' });
  });

  it('takes cniVersion and DNS from the cluster network even when it is not first', () => {
    const [cluster, ...rest] = fourAttachments();
    const merged = mergeResults([...rest, cluster!]);
    expect(merged.cniVersion).toBe('1.0.0');
    expect(merged.dns).toEqual({ nameservers: ['10.96.0.10'], search: ['pod-ns.svc.cluster.local'] });
    expect(merged.interfaces!.map((i) => i.name)).toEqual(['net1', 'net2', 'cni0', 'veth1234', 'eth0']);
  });

  it('refuses an empty list', () => {
    expect(() => mergeResults([])).toThrow(/no attachments/);
  });
});

describe('isDefaultRoute', () => {
  it.each([
    [{ dst: '0.0.0.0/0' }, true],
    [{ dst: '::/0' }, true],
    [{ dst: '::0/0' }, true],
    [{ dst: '0.0.0.0/0', table: 100 }, false],
    [{ dst: '0.0.0.0/1' }, false],
    [{ dst: '10.0.0.0/8' }, false],
    [{ dst: 'garbage' }, false],
  ])('%j -> %s', (route, expected) => {
    expect(isDefaultRoute(route)).toBe(expected);
  });
});

describe('clusterOnly', () => {
  it("returns the cluster's result minus the default routes default-route took away", () => {
    const input = deepFreeze(fourAttachments());
    const out = clusterOnly(input);
    expect(out.routes).toEqual([{ dst: '10.244.0.0/16', gw: '10.244.1.1' }]);
    expect(out.interfaces).toEqual(input[0]!.result.interfaces);
    expect(out.interfaces).not.toBe(input[0]!.result.interfaces);
  });

  it('is the whole cluster result when nothing asked default-route', () => {
    const input = fourAttachments().map((a) => ({ ...a, wantsDefaultRoute: false }));
    expect(clusterOnly(input)).toEqual(input[0]!.result);
  });

  it('needs a cluster attachment', () => {
    expect(() => clusterOnly(fourAttachments().slice(1))).toThrow(/no cluster/);
  });
});
