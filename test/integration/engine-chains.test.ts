// The engine against the Debian reference plugins in real namespaces.
import { existsSync, readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toVersion } from '../../src/cni/result.js';
import { NO_TRACES, TestWorld, bandwidthIfbName, ifaceIn, ipv4Of, nsRoutes, traces } from '../helpers/netns.js';
import { engineFor, makeList, runtime } from '../helpers/engine-fixture.js';
import { sh } from '../helpers/sh.js';

let world: TestWorld;
beforeEach(() => {
  world = new TestWorld();
});
afterEach(() => world.cleanup());

const hostLocal = (subnet: string, dataDir: string, extra: Record<string, unknown> = {}) => ({
  type: 'host-local',
  dataDir,
  ranges: [[{ subnet }]],
  routes: [{ dst: '0.0.0.0/0' }],
  ...extra,
});

function cacheFiles(): string[] {
  const d = world.dir('cache/results');
  return existsSync(d) ? readdirSync(d).filter((f) => !f.startsWith('.')) : [];
}

describe.each(['0.3.1', '0.4.0', '1.0.0'])('bridge + host-local, cniVersion %s', (cniVersion) => {
  it('ADD configures the namespace, CHECK passes, DEL leaves nothing', async () => {
    const ns = world.netns();
    const octet = 10 + ['0.3.1', '0.4.0', '1.0.0'].indexOf(cniVersion);
    const dataDir = world.dir('ipam');
    const list = makeList({
      cniVersion,
      name: world.name('net'),
      plugins: [
        { type: 'bridge', bridge: world.name('br'), isGateway: true, ipMasq: true, ipam: hostLocal(`198.18.${octet}.0/24`, dataDir) },
      ],
    });
    const engine = engineFor(world);
    const rt = runtime(ns.path);
    const result = await engine.addList(list, rt);

    expect(ipv4Of(ns.name, 'eth0')).toEqual([`198.18.${octet}.2/24`]);
    expect(nsRoutes(ns.name).find((r) => r.dst === 'default')?.gateway).toBe(`198.18.${octet}.1`);
    const rendered = toVersion(result, cniVersion) as any;
    expect(rendered.cniVersion).toBe(cniVersion);
    expect(rendered.ips[0].address).toBe(`198.18.${octet}.2/24`);
    if (cniVersion.startsWith('0.')) expect(rendered.ips[0].version).toBe('4');
    else expect(rendered.ips[0]).not.toHaveProperty('version');
    const sandboxIdx = rendered.interfaces.findIndex((i: any) => i.sandbox === ns.path);
    expect(rendered.ips[0].interface).toBe(sandboxIdx);
    expect(cacheFiles()).toEqual([`${list.name}-${rt.containerId}-eth0`]);

    if (cniVersion === '0.3.1') {
      await expect(engine.checkList(list, rt)).rejects.toMatchObject({ code: 1 });
    } else {
      await engine.checkList(list, rt);
    }

    await engine.delList(list, rt);
    await engine.delList(list, rt); // idempotent
    expect(ifaceIn(ns.name, 'eth0')).toBeUndefined();
    expect(cacheFiles()).toEqual([]);
    expect(traces({ tag: 'no-such-tag', containerIds: [rt.containerId], ips: [`198.18.${octet}.2`], dataDirs: [dataDir] })).toEqual(NO_TRACES);
  });
});

it('ptp + host-local', async () => {
  const ns = world.netns();
  const dataDir = world.dir('ipam');
  const list = makeList({ cniVersion: '1.0.0', name: world.name('ptp'), plugins: [{ type: 'ptp', ipMasq: false, ipam: hostLocal('198.18.13.0/24', dataDir) }] });
  const engine = engineFor(world);
  const rt = runtime(ns.path);
  const result = await engine.addList(list, rt);
  expect(ipv4Of(ns.name, 'eth0')).toEqual([result.ips![0]!.address]);
  const hostVeth = result.interfaces!.find((i) => !i.sandbox)!.name;
  expect(sh('ip', ['-o', 'link', 'show', hostVeth])).toContain(hostVeth);
  await engine.delList(list, rt);
  expect(sh('ip', ['-o', 'link', 'show', hostVeth], { allowFail: true })).toBe('');
  expect(traces({ tag: world.tag, containerIds: [rt.containerId], dataDirs: [dataDir] })).toEqual(NO_TRACES);
});

it('macvlan on a veth master + host-local', async () => {
  const ns = world.netns();
  const { a: master } = world.veth('m');
  const dataDir = world.dir('ipam');
  const list = makeList({
    cniVersion: '1.0.0',
    name: world.name('mv'),
    plugins: [{ type: 'macvlan', master, mode: 'bridge', ipam: hostLocal('198.18.14.0/24', dataDir) }],
  });
  const engine = engineFor(world);
  const rt = runtime(ns.path, 'net1');
  await engine.addList(list, rt);
  expect(ipv4Of(ns.name, 'net1')).toEqual(['198.18.14.2/24']);
  expect(sh('ip', ['-n', ns.name, '-d', 'link', 'show', 'net1'])).toContain('macvlan mode bridge');
  await engine.delList(list, rt);
  expect(ifaceIn(ns.name, 'net1')).toBeUndefined();
  expect(traces({ tag: 'none', containerIds: [rt.containerId], dataDirs: [dataDir] })).toEqual(NO_TRACES);
});

it('static IPAM and loopback', async () => {
  const ns = world.netns();
  const engine = engineFor(world);
  const lo = makeList({ cniVersion: '1.0.0', name: world.name('lo'), plugins: [{ type: 'loopback' }] });
  sh('ip', ['-n', ns.name, 'link', 'set', 'lo', 'down']);
  const rtLo = runtime(ns.path, 'lo');
  await engine.addList(lo, rtLo);
  expect(sh('ip', ['-n', ns.name, 'link', 'show', 'lo'])).toMatch(/UP/);

  const list = makeList({
    cniVersion: '1.0.0',
    name: world.name('st'),
    plugins: [
      {
        type: 'bridge',
        bridge: world.name('sbr'),
        ipam: { type: 'static', addresses: [{ address: '198.18.15.7/24', gateway: '198.18.15.1' }], routes: [{ dst: '198.19.200.0/24' }] },
      },
    ],
  });
  const rt = runtime(ns.path);
  await engine.addList(list, rt);
  expect(ipv4Of(ns.name, 'eth0')).toEqual(['198.18.15.7/24']);
  expect(nsRoutes(ns.name).some((r) => r.dst === '198.19.200.0/24' && r.gateway === '198.18.15.1')).toBe(true);
  await engine.delList(list, rt);
  await engine.delList(lo, rtLo);
  expect(ifaceIn(ns.name, 'eth0')).toBeUndefined();
});

it('five-plugin chain: tuning, bandwidth, firewall, portmap from capabilities; DEL removes every trace', async () => {
  const ns = world.netns();
  const dataDir = world.dir('ipam');
  const name = world.name('chain');
  const list = makeList({
    cniVersion: '1.0.0',
    name,
    plugins: [
      { type: 'bridge', bridge: world.name('cbr'), isGateway: true, ipMasq: true, ipam: hostLocal('198.18.16.0/24', dataDir) },
      { type: 'tuning', mtu: 1400, sysctl: { 'net.ipv4.conf.eth0.rp_filter': '2' } },
      { type: 'bandwidth', capabilities: { bandwidth: true } },
      { type: 'firewall', backend: 'iptables' },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  });
  const engine = engineFor(world);
  const rt = runtime(ns.path, 'eth0', {
    portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }],
    bandwidth: { ingressRate: 8_000_000, ingressBurst: 80_000, egressRate: 4_000_000, egressBurst: 40_000 },
    unrelated: { ignored: true },
  });
  const result = await engine.addList(list, rt);
  const ip = result.ips![0]!.address.split('/')[0]!;
  expect(ifaceIn(ns.name, 'eth0')?.mtu).toBe(1400);
  expect(sh('ip', ['netns', 'exec', ns.name, 'sysctl', '-n', 'net.ipv4.conf.eth0.rp_filter']).trim()).toBe('2');
  expect(sh('tc', ['qdisc', 'show', 'dev', bandwidthIfbName(name, rt.containerId)])).toMatch(/tbf/);
  const rules = sh('iptables-save', []);
  expect(rules).toContain(`--dport 18080`);
  expect(rules).toMatch(new RegExp(`CNI-FORWARD.*${ip.replace(/\./g, '\\.')}`));

  // portmap v1.1.1's CHECK also looks for an IPv6 DNAT chain on IPv4-only pods (fixed upstream
  // later); libcni fails the same way, so only that exact failure is tolerated.
  await engine.checkList(list, rt).catch((e) => expect(e.message).toMatch(/plugin portmap failed \(check\): could not check ipv6 dnat/));
  await engine.delList(list, rt);
  expect(traces({ tag: world.tag, containerIds: [rt.containerId], ips: [ip], dataDirs: [dataDir], networks: [name] })).toEqual(NO_TRACES);
  expect(sh('iptables-save', [])).not.toContain('--dport 18080');
  expect(cacheFiles()).toEqual([]);
});

it('bandwidth rates from config, and sbr', async () => {
  const ns = world.netns();
  const dataDir = world.dir('ipam');
  const name = world.name('bw');
  const list = makeList({
    cniVersion: '0.4.0',
    name,
    plugins: [
      { type: 'ptp', ipam: hostLocal('198.18.17.0/24', dataDir, { routes: [{ dst: '0.0.0.0/0' }] }) },
      { type: 'bandwidth', ingressRate: 1_000_000, ingressBurst: 10_000, egressRate: 1_000_000, egressBurst: 10_000 },
      { type: 'sbr' },
    ],
  });
  const engine = engineFor(world);
  const rt = runtime(ns.path);
  const result = await engine.addList(list, rt);
  const hostVeth = result.interfaces!.find((i) => !i.sandbox)!.name;
  expect(sh('tc', ['qdisc', 'show', 'dev', hostVeth])).toMatch(/tbf/);
  expect(sh('ip', ['-n', ns.name, 'rule', 'show'])).toMatch(/from 198\.18\.17\.\d+ lookup 100/);
  await engine.delList(list, rt);
  expect(traces({ tag: world.tag, containerIds: [rt.containerId], dataDirs: [dataDir], networks: [name] })).toEqual(NO_TRACES);
});
