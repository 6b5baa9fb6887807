// braid daemon run from a Multus thick daemon-config.json: the keys of Multus's shipped file
// (test/fixtures/multus/thick-daemon-config.json) with its paths pointed into the test's
// directories (Multus's own point under /host, its DaemonSet's mount of the host). The cluster
// network is the autoconfig dir's first config, as multusConfigFile "auto" means; pods attach
// through braid-shim; each Multus key's fate is logged.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { k8sArgs } from '../helpers/braid-runner.js';
import { ipv4Of, TestWorld } from '../helpers/netns.js';
import { DaemonProcess, SHIM_C, assertDaemonBuilt, callShim, killAllDaemons, shimEntry } from './daemon-harness.js';

let world: TestWorld;
afterEach(async () => {
  await killAllDaemons();
  await world.cleanup();
});

describe("braid daemon --config with Multus thick's daemon-config.json", () => {
  it('takes the cluster network from multusAutoconfigDir and logs every key', async () => {
    assertDaemonBuilt();
    world = new TestWorld();
    const netd = world.dir('net.d');
    mkdirSync(netd, { recursive: true });
    writeFileSync(join(netd, '00-multus.conf'), JSON.stringify({ cniVersion: '0.3.1', name: 'multus-cni-network', type: 'multus-shim', socketDir: '/run/multus' }));
    writeFileSync(
      join(netd, '10-flannel.conflist'),
      JSON.stringify({ cniVersion: '0.3.1', name: world.name('fl'), plugins: [{ type: 'bridge', bridge: world.name('fl'), ipam: { type: 'host-local', dataDir: world.dir('ipam'), ranges: [[{ subnet: '198.18.238.0/24' }]] } }] }),
    );
    const multus = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/multus/thick-daemon-config.json'), 'utf8'));
    const config = { ...multus, cniConfigDir: netd, multusAutoconfigDir: netd, socketDir: world.dir('run'), cniDir: world.dir('multus'), logFile: world.dir('braid.log') };
    const file = world.dir('daemon-config.json');
    writeFileSync(file, JSON.stringify(config));
    const socket = world.dir('braid.sock');
    const d = await DaemonProcess.start({ config: file, socket, env: { CNI_PATH: '/usr/lib/cni' } });
    const ns = world.netns('pod');
    const call = { containerId: `ctr${world.tag}`, netns: ns.path, ifname: 'eth0', args: k8sArgs('x', 'p'), config: shimEntry(socket, '0.3.1'), env: { CNI_PATH: '/usr/lib/cni' } };
    world.onCleanup(() => callShim(SHIM_C, { ...call, command: 'DEL' }));
    const add = await callShim(SHIM_C, { ...call, command: 'ADD' });
    expect(add.status, add.stdout + d.stderr).toBe(0);
    expect(ipv4Of(ns.name, 'eth0')).toEqual(['198.18.238.2/24']);
    expect((await callShim(SHIM_C, { ...call, command: 'DEL' })).status).toBe(0);
    const log = readFileSync(world.dir('braid.log'), 'utf8') + d.stderr;
    for (const key of Object.keys(multus)) expect(log, key).toContain(`Multus key \\"${key}\\"`);
  });
});
