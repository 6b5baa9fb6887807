// The schemas of the plugins Multus users run, each against a config shaped like the plugin's
// own documentation (valid) and one with a mistake the plugin would trip on (the field named).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FindingCode } from '../../src/validate/codes.js';
import { REPO, validateTexts } from './helpers.js';

type Json = Record<string, unknown>;
const list = (name: string, ...plugins: Json[]) => JSON.stringify({ cniVersion: '1.0.0', name, plugins });

// [schema, valid config, broken config, code, pointer]
const CASES: [string, string, string, FindingCode, string][] = [
  ['tap', list('tap-net', { type: 'tap', mac: '02:00:00:00:00:01', mtu: 1500, selinuxcontext: 'system_u:system_r:container_t:s0', multiQueue: true, owner: 0, group: 0, bridge: 'braid-br0', ipam: {} }),
    list('tap-net', { type: 'tap', multiqueue: true }), 'BRD207', '/plugins/0/multiqueue'],
  ['sriov', list('sriov-net', { type: 'sriov', vlan: 1000, spoofchk: 'off', trust: 'on', link_state: 'enable', min_tx_rate: 100, max_tx_rate: 200, ipam: { type: 'host-local', subnet: '198.18.50.0/24' } }),
    list('sriov-net', { type: 'sriov', spoofchk: false }), 'BRD202', '/plugins/0/spoofchk'],
  ['ib-sriov', list('ib-net', { type: 'ib-sriov', pkey: '0x6611', link_state: 'enable', rdmaIsolation: true, ibKubernetesEnabled: false, capabilities: { infinibandGUID: true } }),
    list('ib-net', { type: 'ib-sriov', link_state: 'up' }), 'BRD203', '/plugins/0/link_state'],
  ['ovs', list('ovs-net', { type: 'ovs', bridge: 'br1', vlan: 100, trunk: [{ id: 42 }, { minID: 1000, maxID: 1010 }], mtu: 1400 }),
    list('ovs-net', { type: 'ovs', bridge: 'br1', trunk: [{ id: 5000 }] }), 'BRD204', '/plugins/0/trunk/0/id'],
  ['macvtap', list('macvtap-net', { type: 'macvtap', master: 'eth0', mode: 'bridge', mtu: 1500, promiscMode: true }),
    list('macvtap-net', { type: 'macvtap', master: 'eth0', mode: 'vepa-bridge' }), 'BRD203', '/plugins/0/mode'],
  ['bond', list('bond-net', { type: 'bond', mode: 'active-backup', failOverMac: 1, linksInContainer: true, miimon: '100', mtu: 1500, links: [{ name: 'net1' }, { name: 'net2' }], ipam: { type: 'host-local', subnet: '198.18.51.0/24' } }),
    list('bond-net', { type: 'bond', mode: 'active-backup', miimon: 100, links: [{ name: 'net1' }] }), 'BRD202', '/plugins/0/miimon'],
  ['route-override', list('ro-net', { type: 'macvlan', master: 'eth0', ipam: { type: 'host-local', subnet: '198.18.52.0/24' } }, { type: 'route-override', flushroutes: true, delroutes: [{ dst: '198.18.0.0/16' }], addroutes: [{ dst: '198.19.0.0/16', gw: '198.18.52.1' }] }),
    list('ro-net', { type: 'macvlan', master: 'eth0', ipam: { type: 'host-local', subnet: '198.18.53.0/24' } }, { type: 'route-override', addroute: [{ dst: '198.19.0.0/16' }] }), 'BRD206', '/plugins/1/addroute'],
  ['whereabouts', list('wa-net', { type: 'macvlan', master: 'eth0', ipam: { type: 'whereabouts', range: '198.18.54.0/24', exclude: ['198.18.54.0/28'], gateway: '198.18.54.1', log_level: 'debug', enable_overlapping_ranges: true } }),
    list('wa-net', { type: 'macvlan', master: 'eth0', ipam: { type: 'whereabouts', range: '198.18.55.0/24', range_strat: '198.18.55.10' } }), 'BRD206', '/plugins/0/ipam/range_strat'],
  ['host-device', list('hd-net', { type: 'host-device', pciBusID: '0000:3b:00.1', deviceID: '0000:3b:00.1' }),
    list('hd-net', { type: 'host-device', pciBusId: '0000:3b:00.1' }), 'BRD207', '/plugins/0/pciBusId'],
  ['static', list('st-net', { type: 'macvlan', master: 'eth0', capabilities: { ips: true }, ipam: { type: 'static' } }),
    list('st-net', { type: 'macvlan', master: 'eth0', ipam: { type: 'static', addresses: [{ adress: '198.18.56.10/24' }] } }), 'BRD206', '/plugins/0/ipam/addresses/0/adress'],
  ['multus', JSON.stringify({ cniVersion: '0.3.1', name: 'multus-cni-network', type: 'multus', kubeconfig: '/etc/cni/net.d/multus.d/multus.kubeconfig', clusterNetwork: 'k8s-pod-network', namespaceIsolation: true, globalNamespaces: 'default,infra', logLevel: 'verbose' }),
    JSON.stringify({ cniVersion: '0.3.1', name: 'multus-cni-network', type: 'multus', kubeconfig: '/etc/cni/net.d/multus.d/multus.kubeconfig', clusterNetwork: 'k8s-pod-network', defaultNetworks: 'sidecar' }), 'BRD202', '/defaultNetworks'],
  ['multus-daemon-config', JSON.stringify({ chrootDir: '/hostroot', cniVersion: '0.3.1', logLevel: 'verbose', logToStderr: true, cniConfigDir: '/host/etc/cni/net.d', multusAutoconfigDir: '/host/etc/cni/net.d', multusConfigFile: 'auto', socketDir: '/host/run/multus/', metricsPort: 9091 }),
    JSON.stringify({ cniConfigDir: '/host/etc/cni/net.d', multusConfigFile: 'auto', socketdir: '/host/run/multus/' }), 'BRD207', '/socketdir'],
];

describe('third-party and Multus schemas', () => {
  it.each(CASES)('%s: the documented shape is clean, the mistake is named', async (schema, good, bad, code, pointer) => {
    const ok = await validateTexts({ 'good.conflist': good });
    expect(ok.findings.filter((f) => f.severity !== 'info'), JSON.stringify(ok.findings, null, 1)).toEqual([]);
    expect(ok.findings.filter((f) => f.code === 'BRD208')).toEqual([]); // the schema is known
    const r = await validateTexts({ 'bad.conflist': bad });
    expect(r.findings.map((f) => `${f.code} ${f.pointer}`), schema).toContain(`${code} ${pointer}`);
  });

  it.each(CASES.map((c) => [c[0]]))('%s.schema.json records the release it describes', (schema) => {
    const s = JSON.parse(readFileSync(join(REPO, 'conflist-schemas', `${schema}.schema.json`), 'utf8')) as Json;
    expect(String(s.$comment)).toMatch(/^Describes .*(v\d+\.\d+)/);
  });
});
