import { describe, expect, it } from 'vitest';
import {
  NETWORK_STATUS_ANNOTATION,
  formatNetworkStatus,
  networkStatus,
  networkStatusPatch,
} from '../../src/meta/network-status.js';
import type { AttachmentResult } from '../../src/meta/result-merge.js';
import { fourAttachments } from '../helpers/meta-fixtures.js';



describe('networkStatus', () => {
  it('builds one entry per pod interface of four attachments, default only on the cluster', () => {
    const entries = networkStatus(fourAttachments());
    expect(entries).toEqual([
      {
        name: 'cbr0',
        interface: 'eth0',
        ips: ['10.244.1.5', 'fd00::5'],
        mac: '0a:58:0a:f4:01:05',
        mtu: 1450,
        default: true,
        dns: { nameservers: ['10.96.0.10'], search: ['pod-ns.svc.cluster.local'] },
        // no gateway: default-route on pod-ns/ipvlan took the default routes away (Multus's filter)
      },
      {
        name: 'default/macvlan-conf',
        interface: 'net1',
        ips: ['192.168.1.200'],
        mac: '02:23:45:67:89:01',
        dns: { nameservers: ['8.8.8.8'] },
        'device-info': { type: 'pci', version: '1.0.0', pci: { 'pci-address': '0000:03:00.1' } },
      },
      { name: 'pod-ns/ipvlan', interface: 'net2', ips: ['10.10.0.5'], gateway: ['10.10.0.1'] },
      { name: 'pod-ns/hostdev', interface: 'net3', ips: ['172.16.0.5'] }, // no sandbox interface: its ifname
    ]);
    expect(entries.filter((e) => e.default)).toHaveLength(1);
    expect(entries.slice(1).every((e) => !('default' in e))).toBe(true); // Go's omitempty
  });

  it("keeps the Go client's key order", () => {
    const calm = fourAttachments().map((a) => ({ ...a, wantsDefaultRoute: false }));
    expect(Object.keys(networkStatus(calm)[0]!)).toEqual(['name', 'interface', 'ips', 'mac', 'mtu', 'default', 'dns', 'gateway']);
    expect(Object.keys(networkStatus(fourAttachments())[1]!)).toEqual(['name', 'interface', 'ips', 'mac', 'dns', 'device-info']);
  });

  it('without default-route the cluster entry carries both gateways and the others none', () => {
    const entries = networkStatus(fourAttachments().map((a) => ({ ...a, wantsDefaultRoute: false })));
    expect(entries[0]!.gateway).toEqual(['10.244.1.1', 'fd00::1']);
    expect(entries.slice(1).map((e) => e.gateway)).toEqual([undefined, undefined, undefined]);
  });

  it('splits an attachment with several pod interfaces; default goes to the gateway one', () => {
    const a: AttachmentResult = {
      network: 'cluster',
      ifname: 'eth0',
      isCluster: true,
      result: {
        cniVersion: '1.1.0',
        interfaces: [
          { name: 'eth0', sandbox: '/ns', mac: '02:00:00:00:00:01' },
          { name: 'host-veth' },
          { name: 'eth1', sandbox: '/ns', mac: '02:00:00:00:00:02' },
        ],
        ips: [
          { address: '10.0.0.2/24', interface: 0 },
          { address: '10.1.0.2/24', gateway: '10.1.0.1', interface: 2 },
          { address: '169.254.1.1/32', interface: 1 }, // host side: never shown
          { address: '10.9.9.9/32' }, // unindexed with two pod interfaces: ambiguous, left out
        ],
      },
    };
    expect(networkStatus([a])).toEqual([
      { name: 'cluster', interface: 'eth0', ips: ['10.0.0.2'], mac: '02:00:00:00:00:01' },
      { name: 'cluster', interface: 'eth1', ips: ['10.1.0.2'], mac: '02:00:00:00:00:02', default: true },
    ]);
  });

  it('defaults to the first pod interface when no ip has a gateway', () => {
    const a: AttachmentResult = {
      network: 'cluster',
      ifname: 'eth0',
      isCluster: true,
      result: { cniVersion: '1.1.0', interfaces: [{ name: 'eth0', sandbox: '/ns' }, { name: 'eth1', sandbox: '/ns' }] },
    };
    expect(networkStatus([a]).map((e) => e.default)).toEqual([true, undefined]);
  });

  it('assigns unindexed ips to a single pod interface, writes IPv6 as Go does, drops empty DNS', () => {
    const a: AttachmentResult = {
      network: 'ns/n',
      ifname: 'net1',
      isCluster: false,
      result: {
        cniVersion: '0.3.1',
        interfaces: [{ name: 'net1', sandbox: '/ns', mtu: 0 }],
        ips: [{ address: '2001:DB8:0:0::5/64' }],
        dns: { nameservers: [], search: [] },
      },
    };
    expect(networkStatus([a])).toEqual([{ name: 'ns/n', interface: 'net1', ips: ['2001:db8::5'] }]);
  });
});

describe('annotation value and patch', () => {
  it("formats entries as Multus writes them (each MarshalIndent'ed, joined by ',')", () => {
    const value = formatNetworkStatus([
      { name: 'cbr0', interface: 'eth0', ips: ['10.244.1.5'], default: true },
      { name: 'ns/n', interface: 'net1' },
    ]);
    expect(value).toBe(
      '[{\n    "name": "cbr0",\n    "interface": "eth0",\n    "ips": [\n        "10.244.1.5"\n    ],\n    "default": true\n},{\n    "name": "ns/n",\n    "interface": "net1"\n}]',
    );
    expect(formatNetworkStatus([])).toBe('[]');
  });

  it('builds a merge patch whose annotation parses back to the entries', () => {
    const entries = networkStatus(fourAttachments());
    const patch = networkStatusPatch(entries);
    expect(Object.keys(patch.metadata.annotations)).toEqual([NETWORK_STATUS_ANNOTATION]);
    expect(JSON.parse(patch.metadata.annotations[NETWORK_STATUS_ANNOTATION]!)).toEqual(entries);
  });
});
