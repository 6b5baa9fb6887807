// `braid net` (cnitool-compatible) through the built binary: add,
// check and del of real conflists, leaving no trace.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { BRAID, assertBuilt } from '../helpers/braid-runner.js';
import { NO_TRACES, TestWorld, bandwidthIfbName, ifaceIn, ipv4Of, nsRoutes, traces } from '../helpers/netns.js';
import { sh } from '../helpers/sh.js';

const FAKE = join(import.meta.dirname, '../fixtures/plugins/fake-plugin');
let world: TestWorld;
beforeAll(() => assertBuilt());
beforeEach(() => {
  world = new TestWorld();
});
afterEach(() => world.cleanup());

function braidNet(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(BRAID, ['net', ...args], { env: { PATH: process.env.PATH!, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

it('add / check / del of a five-plugin conflist with CAP_ARGS leaves no trace', async () => {
  const ns = world.netns();
  const netdir = world.dir('net.d');
  const cacheDir = world.dir('cache');
  const dataDir = world.dir('ipam');
  mkdirSync(netdir, { recursive: true });
  const name = world.name('five');
  writeFileSync(
    join(netdir, '10-five.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name,
      plugins: [
        { type: 'bridge', bridge: world.name('br'), isGateway: true, ipMasq: true, ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '198.18.90.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] } },
        { type: 'tuning', mtu: 1450, sysctl: { 'net.ipv4.conf.eth0.accept_redirects': '0' } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
        { type: 'firewall', backend: 'iptables' },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  const env = {
    NETCONFPATH: netdir,
    CNI_PATH: '/usr/lib/cni',
    CNI_CACHE_DIR: cacheDir,
    CAP_ARGS: JSON.stringify({ portMappings: [{ hostPort: 18090, containerPort: 8080, protocol: 'tcp' }], bandwidth: { ingressRate: 1e6, ingressBurst: 1e5, egressRate: 1e6, egressBurst: 1e5 } }),
  };
  world.onCleanup(() => braidNet(['del', name, ns.path], { ...env, CAP_ARGS: '' }));
  const add = await braidNet(['add', name, ns.path], env);
  expect(add.code, add.stdout + add.stderr).toBe(0);
  const result = JSON.parse(add.stdout);
  expect(result.cniVersion).toBe('1.0.0');
  // The same interfaces, addresses and routes libcni produces for this list.
  // bandwidth appends its ifb device to the result, as with libcni.
  expect(result.interfaces.map((i: any) => i.name)).toEqual([world.name('br'), expect.stringMatching(/^veth/), 'eth0', expect.stringMatching(/^bwp/)]);
  expect(result.ips).toEqual([{ address: '198.18.90.2/24', gateway: '198.18.90.1', interface: 2 }]);
  expect(result.routes).toEqual([{ dst: '0.0.0.0/0' }]); // host-local passes routes through as configured
  expect(ipv4Of(ns.name, 'eth0')).toEqual(['198.18.90.2/24']);
  expect(ifaceIn(ns.name, 'eth0')?.mtu).toBe(1450);
  expect(nsRoutes(ns.name).find((r) => r.dst === 'default')?.gateway).toBe('198.18.90.1');
  expect(sh('iptables-save', [])).toContain('--dport 18090');
  const containerId = readdirSync(join(cacheDir, 'results'))[0]!.slice(name.length + 1, -'-eth0'.length);
  expect(sh('tc', ['qdisc', 'show', 'dev', bandwidthIfbName(name, containerId)])).toMatch(/tbf/);

  const check = await braidNet(['check', name, ns.path], env);
  // portmap v1.1.1 CHECK wrongly requires an IPv6 chain (fixed upstream); tolerate exactly that.
  if (check.code !== 0) expect(check.stdout).toMatch(/portmap failed \(check\): could not check ipv6 dnat/);

  const del = await braidNet(['del', name, ns.path], { ...env, CAP_ARGS: '' });
  expect(del.code, del.stdout).toBe(0);
  expect(del.stdout).toBe('');
  expect(ifaceIn(ns.name, 'eth0')).toBeUndefined();
  expect(sh('iptables-save', [])).not.toContain('--dport 18090');
  expect(traces({ tag: world.tag, containerIds: [containerId], ips: ['198.18.90.2'], dataDirs: [dataDir], networks: [name] })).toEqual(NO_TRACES);
  expect(readdirSync(join(cacheDir, 'results'))).toEqual([]);
});

it('a plugin failing with code 7 surfaces code 7 (not 999) as one JSON error', async () => {
  const ns = world.netns();
  const bin = world.dir('bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync(FAKE, join(bin, 'fake'));
  const file = world.dir('bad.conflist');
  writeFileSync(file, JSON.stringify({ cniVersion: '1.0.0', name: world.name('bad'), plugins: [{ type: 'loopback' }, { type: 'fake', fake: { add: 'error:7' } }] }));
  const r = await braidNet(['add', file, ns.path], { CNI_PATH: `${bin}:/usr/lib/cni`, CNI_CACHE_DIR: world.dir('cache'), CNI_IFNAME: 'lo' });
  expect(r.code).toBe(1);
  const err = JSON.parse(r.stdout);
  expect(err).toMatchObject({ code: 7, msg: 'plugin fake failed (add): injected failure', details: 'fake plugin add' });
  expect(existsSync(join(world.dir('cache'), 'results'))).toBe(false);
});

it('usage errors and help', async () => {
  expect((await braidNet(['--help'], {})).stdout).toMatch(/cnitool-compatible[\s\S]*CAP_ARGS/);
  expect((await braidNet(['add'], {})).code).toBe(2);
  const top = await new Promise<string>((res) => {
    const c = spawn(BRAID, ['--help']);
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', () => res(out));
  });
  expect(top).toMatch(/net\s+run a network configuration list/);
  const missing = await braidNet(['add', 'no-such-net', world.netns().path], { NETCONFPATH: world.dir('empty'), CNI_PATH: '/usr/lib/cni' });
  expect(missing.code).toBe(1);
  expect(JSON.parse(missing.stdout)).toMatchObject({ code: 7, msg: expect.stringContaining('no-such-net') });
});
