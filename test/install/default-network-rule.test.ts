// One rule picks the node's default network everywhere a directory is given: braid install, a
// one-shot ADD with clusterNetwork = the directory, and the daemon. It is the runtime's rule
// (containerd's and CRI-O's): .conf, .conflist and .json sorted together by name, the first
// that loads; meta-plugin entries (a Multus 00-multus.conf here) are never the cluster network.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, callBraid, k8sArgs } from '../helpers/braid-runner.js';
import { ipv4Of, TestWorld } from '../helpers/netns.js';
import { DaemonProcess, callShim, killAllDaemons, shimEntry } from '../daemon/daemon-harness.js';
import { runInstall } from './install-helpers.js';

let world: TestWorld;
beforeAll(() => assertBuilt());
afterEach(async () => {
  await killAllDaemons();
  await world.cleanup();
});

/** 00-multus.conf, 05-alpha.conf (198.18.236.0/24) and 10-beta.conflist (198.18.237.0/24). */
function confDir(w: TestWorld): string {
  const dir = w.dir('net.d');
  mkdirSync(dir, { recursive: true });
  const ipam = (octet: number) => ({ type: 'host-local', dataDir: w.dir('ipam'), ranges: [[{ subnet: `198.18.${octet}.0/24` }]] });
  writeFileSync(join(dir, '00-multus.conf'), JSON.stringify({ cniVersion: '0.3.1', name: 'multus-cni-network', type: 'multus', kubeconfig: '/nowhere', delegates: [{ type: 'bridge' }] }));
  writeFileSync(join(dir, '05-alpha.conf'), JSON.stringify({ cniVersion: '1.0.0', name: 'alpha', type: 'bridge', bridge: w.name('al'), ipam: ipam(236) }));
  writeFileSync(join(dir, '10-beta.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'beta', plugins: [{ type: 'bridge', bridge: w.name('be'), ipam: ipam(237) }] }));
  return dir;
}

const braidConfig = (w: TestWorld, dir: string) => ({
  cniVersion: '1.0.0',
  name: 'braid',
  type: 'braid',
  clusterNetwork: dir,
  cniDir: w.dir('state'),
  binDir: '/usr/lib/cni',
  logFile: w.dir('braid.log'),
});

describe('the default network of a directory: 05-alpha.conf before 10-beta.conflist', () => {
  it('braid install', async () => {
    world = new TestWorld();
    const dir = confDir(world);
    const kubeconfig = world.dir('kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: "https://198.18.0.1:6443"}}]\nusers: [{name: u, user: {token: t}}]\n',
    );
    const r = await runInstall(['--one-shot', '--cni-conf-dir', dir, '--cni-bin-dir', world.dir('bin'), '--dry-run', '--kubeconfig', kubeconfig]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`"clusterNetwork": "${join(dir, '05-alpha.conf')}"`);
  });

  it('one-shot ADD with clusterNetwork = the directory', async () => {
    world = new TestWorld();
    const dir = confDir(world);
    const ns = world.netns('pod');
    const call = { containerId: `ctr${world.tag}`, netns: ns.path, ifname: 'eth0', args: k8sArgs('x', 'p'), config: braidConfig(world, dir) };
    world.onCleanup(() => callBraid({ ...call, command: 'DEL' }));
    const add = await callBraid({ ...call, command: 'ADD' });
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(ns.name, 'eth0')).toEqual(['198.18.236.2/24']);
    expect((await callBraid({ ...call, command: 'DEL' })).status).toBe(0);
  });

  it('the daemon, through braid-shim', async () => {
    world = new TestWorld();
    const dir = confDir(world);
    const ns = world.netns('pod');
    const config = world.dir('daemon.json');
    writeFileSync(config, JSON.stringify(braidConfig(world, dir)));
    const socket = world.dir('braid.sock');
    await DaemonProcess.start({ config, socket });
    const call = { containerId: `ctr${world.tag}`, netns: ns.path, ifname: 'eth0', args: k8sArgs('x', 'p'), config: shimEntry(socket) };
    world.onCleanup(() => callShim(join(import.meta.dirname, '../../dist/braid-shim'), { ...call, command: 'DEL' }));
    const add = await callShim(join(import.meta.dirname, '../../dist/braid-shim'), { ...call, command: 'ADD' });
    expect(add.status, add.stdout).toBe(0);
    expect(ipv4Of(ns.name, 'eth0')).toEqual(['198.18.236.2/24']);
  });
});
