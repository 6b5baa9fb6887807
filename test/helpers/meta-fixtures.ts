// Results of four attachments for merge and network-status tests.
import type { Result } from '../../src/cni/result.js';
import type { AttachmentResult } from '../../src/meta/result-merge.js';

/** Four attachments: dual-stack cluster (host-side interfaces first), macvlan, an ipvlan that asked
 * default-route 10.10.0.1 without returning a default route, and a plugin with no sandbox interface. */
export function fourAttachments(): AttachmentResult[] {
  const cluster: Result = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'cni0', mac: '0a:58:0a:f4:01:01' }, { name: 'veth1234', mac: '0a:58:0a:f4:01:02' }, { name: 'eth0', mac: '0a:58:0a:f4:01:05', mtu: 1450, sandbox: '/var/run/netns/pod' }],
    ips: [
      { address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 2 },
      { address: 'fd00::5/64', gateway: 'fd00::1', interface: 2 },
    ],
    routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }, { dst: '::/0', gw: 'fd00::1' }, { dst: '10.244.0.0/16', gw: '10.244.1.1' }],
    dns: { nameservers: ['10.96.0.10'], search: ['pod-ns.svc.cluster.local'] },
  };
  const macvlan: Result = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'net1', mac: '02:23:45:67:89:01', sandbox: '/var/run/netns/pod' }],
    ips: [{ address: '192.168.1.200/24', gateway: '192.168.1.1', interface: 0 }],
    routes: [{ dst: '0.0.0.0/0', gw: '192.168.1.1' }],
    dns: { nameservers: ['8.8.8.8'] },
  };
  const ipvlan: Result = {
    cniVersion: '0.4.0',
    interfaces: [{ name: 'net2', sandbox: '/var/run/netns/pod' }],
    ips: [{ address: '10.10.0.5/24', interface: 0 }],
    routes: [{ dst: '10.20.0.0/16', gw: '10.10.0.1' }],
  };
  const hostdev: Result = {
    cniVersion: '1.1.0',
    ips: [{ address: '172.16.0.5/24' }],
    routes: [{ dst: '::/0', gw: 'fd01::1' }, { dst: '0.0.0.0/0', gw: '172.16.0.1', table: 100 }],
  };
  return [
    { network: 'cbr0', ifname: 'eth0', isCluster: true, result: cluster },
    { network: 'default/macvlan-conf', ifname: 'net1', isCluster: false, result: macvlan, deviceInfo: { type: 'pci', version: '1.0.0', pci: { 'pci-address': '0000:03:00.1' } } },
    { network: 'pod-ns/ipvlan', ifname: 'net2', isCluster: false, wantsDefaultRoute: true, defaultRouteGateways: ['10.10.0.1'], result: ipvlan },
    { network: 'pod-ns/hostdev', ifname: 'net3', isCluster: false, result: hostdev },
  ];
}
