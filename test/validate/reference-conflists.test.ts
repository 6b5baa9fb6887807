// The schemas must accept what the reference plugins themselves use: the conflists of
// containernetworking/plugins integration/testdata/ and configs from the plugins' own tests.
import { describe, expect, it } from 'vitest';
import { validateTexts } from './helpers.js';

// integration/testdata/*.{json,conflist} (containernetworking/plugins, Apache-2.0)
const INTEGRATION: Record<string, unknown> = {
  'basic-ptp.json': {
    cniVersion: '0.3.0', name: 'basic-ptp', type: 'ptp', ipMasq: true, mtu: 512,
    ipam: { type: 'host-local', subnet: '10.1.2.0/24', dataDir: '/tmp/basic-ptp-test' },
  },
  'chained-bridge-bandwidth.conflist': {
    cniVersion: '0.3.1', name: 'chained-bridge-bandwidth',
    plugins: [
      { type: 'bridge', ipam: { type: 'host-local', subnet: '10.11.2.0/24' } },
      { type: 'bandwidth', ingressRate: 800, ingressBurst: 200, egressRate: 800, egressBurst: 200 },
    ],
  },
  'chained-bridge-bandwidth/network-chain-test.conflist': {
    cniVersion: '0.3.1', name: 'network-chain-test',
    plugins: [
      { type: 'bridge', bridge: 'test-bridge-0', isDefaultGateway: true, ipam: { type: 'host-local', subnet: '10.11.2.0/24', dataDir: '/tmp/foo' } },
      { type: 'bandwidth', ingressRate: 8000, ingressBurst: 16000, egressRate: 8000, egressBurst: 16000 },
    ],
  },
  'chained-ptp-bandwidth.conflist': {
    cniVersion: '0.3.1', name: 'chained-ptp-bandwidth',
    plugins: [
      { type: 'ptp', ipMasq: true, mtu: 512, ipam: { type: 'host-local', subnet: '10.9.2.0/24', dataDir: '/tmp/chained-ptp-bandwidth-test' } },
      // runtimeConfig key spelled "bandWidth": Go matches it case-insensitively
      { type: 'bandwidth', runtimeConfig: { bandWidth: { ingressRate: 800, ingressBurst: 200, egressRate: 800, egressBurst: 200 } } },
    ],
  },
};

// Shapes from the plugins' unit tests (bridge_test.go, macvlan_test.go, ..., portmap_test.go).
const UNIT: Record<string, unknown> = {
  'bridge-vlan-trunk.conf': {
    cniVersion: '1.0.0', name: 'testConfig', type: 'bridge', bridge: 'bridge0', vlanTrunk: [{ minID: 101, maxID: 105 }, { id: 110 }],
    preserveDefaultVlan: false, ipMasq: false, isGateway: true, isDefaultGateway: true, forceAddress: false, mtu: 5000,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.1.2.0/24', gateway: '10.1.2.1' }], [{ subnet: '2001:db8:1::0/66' }]], routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }] },
  },
  'macvlan.conf': { cniVersion: '1.0.0', name: 'mynet', type: 'macvlan', master: 'eth0', mode: 'bridge', linkInContainer: false, ipam: { type: 'host-local', subnet: '10.1.2.0/24' } },
  'macvlan-l2.conf': { cniVersion: '0.3.1', name: 'mynet', type: 'macvlan', master: 'eth0', ipam: {} as object },
  'ipvlan.conf': { cniVersion: '1.0.0', name: 'mynet', type: 'ipvlan', master: 'eth0', mode: 'l3s', mtu: 1400, ipam: { type: 'host-local', subnet: '10.1.2.0/24' } },
  'vlan.conf': { cniVersion: '1.0.0', name: 'mynet', type: 'vlan', master: 'eth0', vlanId: 1234, mtu: 1500, ipam: { type: 'host-local', subnet: '10.1.2.0/24' } },
  'host-device.conf': { cniVersion: '1.0.0', name: 'cni-plugin-host-device-test', type: 'host-device', device: 'dummy0', ipam: { type: 'static', addresses: [{ address: '10.10.0.1/24', gateway: '10.10.0.254' }] } },
  'loopback.conf': { cniVersion: '1.0.0', name: 'loopback', type: 'loopback' },
  'dhcp.conflist': {
    cniVersion: '1.0.0', name: 'testConfig',
    plugins: [{ type: 'macvlan', master: 'eth0', ipam: { type: 'dhcp', daemonSocketPath: '/run/cni/dhcp.sock', request: [{ skipDefault: false, option: 'classless-static-routes' }], provide: [{ option: 'host-name', fromArg: 'K8S_POD_NAME' }] } }],
  },
  'static-dns.conf': {
    cniVersion: '1.0.0', name: 'mynet', type: 'ipvlan', master: 'foo0',
    ipam: { type: 'static', addresses: [{ address: '10.10.0.1/24', gateway: '10.10.0.254' }, { address: '3ffe:ffff:0:01ff::1/64', gateway: '3ffe:ffff:0::1' }], routes: [{ dst: '0.0.0.0/0' }, { dst: '192.168.0.0/16', gw: '10.10.5.1' }, { dst: '3ffe:ffff:0:01ff::1/64' }], dns: { nameservers: ['8.8.8.8'], domain: 'example.com', search: ['example.com'] } },
  },
  'tuning.conflist': {
    cniVersion: '1.0.0', name: 'test',
    plugins: [
      { type: 'ptp', ipam: { type: 'host-local', subnet: '10.1.2.0/24' } },
      { type: 'tuning', sysctl: { 'net.ipv4.conf.all.log_martians': '1' }, promisc: true, mtu: 1454, mac: 'c2:11:22:33:44:55', allmulti: true, capabilities: { mac: true } },
    ],
  },
  'portmap-firewall.conflist': {
    cniVersion: '1.0.0', name: 'cni-portmap-unit-test',
    plugins: [
      { type: 'bridge', ipam: { type: 'host-local', subnet: '10.1.2.0/24' } },
      { type: 'portmap', capabilities: { portMappings: true }, snat: false, conditionsV4: ['-s', '1.2.3.4'], conditionsV6: ['!', '-s', 'fe80::/10'], externalSetMarkChain: 'KUBE-MARK-MASQ' },
      { type: 'firewall', backend: 'iptables', iptablesAdminChainName: 'CNI-ADMIN', firewalldZone: 'trusted' },
    ],
  },
  'sbr-vrf.conflist': {
    cniVersion: '1.0.0', name: 'cni-plugin-sbr-test',
    plugins: [{ type: 'macvlan', master: 'eth0', ipam: { type: 'host-local', subnet: '10.1.2.0/24' } }, { type: 'sbr' }, { type: 'vrf', vrfname: 'vrf-test', table: 1001 }],
  },
  'bandwidth-shaped.conflist': {
    cniVersion: '1.0.0', name: 'cni-plugin-bandwidth-test',
    plugins: [{ type: 'ptp', ipam: { type: 'host-local', subnet: '10.1.2.0/24' } }, { type: 'bandwidth', ingressRate: 8, ingressBurst: 8, egressRate: 16, egressBurst: 9, shapedSubnets: ['10.0.0.0/8', 'fd00:db8:abcd:1234:e000::/68'] }],
  },
};

// Deliberate: static's unit test only runs the IPAM; on a real interface an IPv6 gateway outside
// the address's subnet makes the route add fail, so braid reports it.
const EXPECTED: Record<string, string[]> = { 'static-dns.conf': ['BRD313 /ipam/addresses/1/gateway'] };

describe('reference plugins configs', () => {
  it.each(Object.entries({ ...INTEGRATION, ...UNIT }))('%s passes the schemas and has no unexpected error', async (name, conf) => {
    const { findings } = await validateTexts({ [name]: JSON.stringify(conf, null, 2) });
    expect(findings.filter((f) => f.code.startsWith('BRD2'))).toEqual([]);
    expect(findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.pointer}`)).toEqual(EXPECTED[name] ?? []);
  });
});
