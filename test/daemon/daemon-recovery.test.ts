// The daemon killed mid-ADD: the shim tells the runtime to
// try again (11); after a restart, the runtime's DEL through the shim replays the recorded
// plan and leaves no link, no IP reservation, no cache record.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_TRACES, TestWorld, ifaceIn, traces } from '../helpers/netns.js';
import { callBraid, k8sArgs } from '../helpers/braid-runner.js';
import { useDaemonApi, DaemonProcess, SHIM_C, callShim, killAllDaemons, shimEntry, waitFor } from './daemon-harness.js';

const FAKE = join(import.meta.dirname, '../fixtures/plugins/fake-plugin');
let world: TestWorld;
let pidsFile: string;
const t = useDaemonApi();
beforeEach(() => {
  world = new TestWorld();
  pidsFile = world.dir('fake.pids');
});
afterEach(async () => {
  await killAllDaemons();
  // The hung fake plugin outlives a SIGKILLed daemon: end its process group.
  if (existsSync(pidsFile)) {
    for (const pid of readFileSync(pidsFile, 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(-Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await world.cleanup();
});

describe('daemon killed mid-ADD', () => {
  it('a DEL through the shim after a restart cleans up everything', async () => {
    const dataDir = world.dir('ipam');
    const cniDir = world.dir('braid');
    const binDir = world.dir('bin');
    mkdirSync(binDir, { recursive: true });
    copyFileSync(FAKE, join(binDir, 'fake'));
    const ipam = (i: number) => ({ type: 'host-local', dataDir, ranges: [[{ subnet: `198.18.${88 + i}.0/24` }]] });
    const clusterFile = world.dir('cluster.conflist');
    writeFileSync(clusterFile, JSON.stringify({ cniVersion: '1.0.0', name: world.name('cl'), plugins: [{ type: 'bridge', bridge: world.name('c0'), ipam: ipam(0) }] }));
    const podNs = world.name('ns');
    t.api.addNad(podNs, 'first', { cniVersion: '1.0.0', plugins: [{ type: 'bridge', bridge: world.name('a0'), ipam: ipam(1) }] });
    // The later network: its bridge attaches, then the fake plugin hangs.
    t.api.addNad(podNs, 'later', { cniVersion: '1.0.0', plugins: [{ type: 'bridge', bridge: world.name('b0'), ipam: ipam(2) }, { type: 'fake', fake: { add: 'hang' } }] });
    const pod = t.api.addPod({ metadata: { name: 'p', namespace: podNs, annotations: { 'k8s.v1.cni.cncf.io/networks': 'first,later' } }, spec: { nodeName: 'node1' } });
    const config = {
      cniVersion: '1.0.0',
      name: 'braid-net',
      type: 'braid',
      kubeconfig: t.api.writeKubeconfig(world.dir('kubeconfig')),
      clusterNetwork: clusterFile,
      cniDir,
      binDir: `${binDir}:/usr/lib/cni`,
      logFile: world.dir('braid.log'),
    };
    const configFile = world.dir('braid.conf');
    writeFileSync(configFile, JSON.stringify(config));
    const socket = world.dir('braid.sock');
    const logFile = world.dir('plugin.log');
    const env = { FAKE_PLUGIN_LOG: logFile, FAKE_PLUGIN_PIDS: pidsFile };
    const ns = world.netns('pod');
    const containerId = `ctr${world.tag}`;
    const call = { containerId, netns: ns.path, args: k8sArgs(podNs, 'p', pod.metadata.uid), config: shimEntry(socket) };
    world.onCleanup(() => callBraid({ ...call, command: 'DEL', config }));

    const first = await DaemonProcess.start({ config: configFile, socket, env });
    const pending = callShim(SHIM_C, { ...call, command: 'ADD' });
    await waitFor('the fake plugin to hang', () => (existsSync(logFile) && readFileSync(logFile, 'utf8').includes(`ADD ${containerId} net2`)) || undefined);
    expect(ifaceIn(ns.name, 'net1')).toBeDefined(); // real state to clean up
    await first.kill();
    const add = await pending;
    expect(add.status).toBe(1);
    expect(add.json.code).toBe(11);
    expect(add.json.msg).toContain(`braid daemon not reachable at ${socket}`);

    // The restarted daemon replaces the stale socket; the runtime's DEL goes through the shim.
    await DaemonProcess.start({ config: configFile, socket, env });
    const del = await callShim(SHIM_C, { ...call, command: 'DEL' });
    expect(del.status, del.stdout).toBe(0);
    for (const ifname of ['eth0', 'net1', 'net2']) expect(ifaceIn(ns.name, ifname)).toBeUndefined();
    expect(traces({ tag: world.tag, containerIds: [containerId], dataDirs: [dataDir] })).toEqual(NO_TRACES);
    const records = ['results', 'plans'].flatMap((d) => (existsSync(join(cniDir, d)) ? readdirSync(join(cniDir, d)) : []));
    expect(records).toEqual([]);
  });
});
