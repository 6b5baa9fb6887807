// The daemon's concurrency rules: at most --max-delegates plugins at once;
// operations on one container one after another; different containers at the same time;
// GC alone. Observed through a slow fake plugin that logs "begin"/"end" around its sleep.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DaemonProcess, SHIM_C, assertDaemonBuilt, callShim, killAllDaemons, maxConcurrent, shimEntry, sleep, waitFor } from './daemon-harness.js';

const FAKE = join(import.meta.dirname, '../fixtures/plugins/fake-plugin');
let dir: string;
let logFile: string;

beforeAll(() => assertDaemonBuilt());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-conc-'));
  logFile = join(dir, 'plugin.log');
});
afterEach(async () => {
  await killAllDaemons();
  rmSync(dir, { recursive: true, force: true });
});

/** A file-only daemon whose cluster network is one fake plugin with the given modes. */
async function startDaemon(fake: Record<string, string>, maxDelegates: number): Promise<{ socket: string; d: DaemonProcess }> {
  const binDir = join(dir, 'bin');
  mkdirSync(binDir, { recursive: true });
  copyFileSync(FAKE, join(binDir, 'fake'));
  const cluster = join(dir, 'cluster.conflist');
  writeFileSync(cluster, JSON.stringify({ cniVersion: '1.1.0', name: 'slow', plugins: [{ type: 'fake', fake }] }));
  const config = join(dir, 'braid.conf');
  writeFileSync(config, JSON.stringify({ cniVersion: '1.1.0', name: 'braid', type: 'braid', clusterNetwork: cluster, cniDir: join(dir, 'cni'), binDir, logFile: join(dir, 'braid.log') }));
  const socket = join(dir, 'braid.sock');
  const d = await DaemonProcess.start({ config, socket, args: ['--max-delegates', String(maxDelegates)], env: { FAKE_PLUGIN_LOG: logFile } });
  return { socket, d };
}

const add = (socket: string, containerId: string, ifname = 'eth0') =>
  callShim(SHIM_C, { command: 'ADD', containerId, netns: '/var/run/netns/unused', ifname, config: shimEntry(socket, '1.1.0') });
const pluginLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
const mentions = (...ids: string[]) => (line: string) => ids.some((id) => line.includes(` ${id} `));

describe('delegate concurrency limit', () => {
  it('runs at most --max-delegates plugins at once, and every ADD still succeeds', async () => {
    const { socket, d } = await startDaemon({ add: 'sleep:600' }, 2);
    const results = await Promise.all(['c1', 'c2', 'c3', 'c4', 'c5'].map((c) => add(socket, c)));
    for (const r of results) expect(r.status, r.stdout).toBe(0);
    expect(maxConcurrent(pluginLog())).toBe(2);
    expect(await d.metric('braid_delegate_duration_seconds_count', { plugin: 'fake', command: 'ADD', result: 'ok' })).toBe(5);
  });
});

describe('operation locks', () => {
  it('serialises operations on one container and runs different containers concurrently', async () => {
    const { socket } = await startDaemon({ add: 'sleep:600' }, 8);
    const results = await Promise.all([add(socket, 'same', 'eth0'), add(socket, 'same', 'eth1'), add(socket, 'other1'), add(socket, 'other2')]);
    for (const r of results) expect(r.status, r.stdout).toBe(0);
    const log = pluginLog();
    expect(maxConcurrent(log, mentions('same'))).toBe(1);
    expect(maxConcurrent(log, mentions('other1', 'other2'))).toBe(2);
  });

  it('never runs GC alongside an ADD: GC waits for running ADDs, later ADDs wait for GC', async () => {
    const { socket } = await startDaemon({ add: 'sleep:600', gc: 'sleep:600' }, 8);
    expect((await add(socket, 'kept')).status).toBe(0);
    const first = add(socket, 'x');
    await waitFor('ADD x to start', () => pluginLog().includes('begin ADD x ') || undefined);
    const gc = callShim(SHIM_C, {
      command: 'GC',
      config: { ...shimEntry(socket, '1.1.0'), 'cni.dev/valid-attachments': [{ containerID: 'kept', ifname: 'eth0' }, { containerID: 'x', ifname: 'eth0' }] },
    });
    await sleep(200); // GC is queued behind ADD x
    const second = add(socket, 'y');
    const [r1, rg, r2] = await Promise.all([first, gc, second]);
    expect(r1.status, r1.stdout).toBe(0);
    expect(rg.status, rg.stdout).toBe(0);
    expect(r2.status, r2.stdout).toBe(0);
    const order = pluginLog()
      .split('\n')
      .filter((l) => /^(begin|end) /.test(l) && !l.includes(' kept '))
      .map((l) => l.split(' ').slice(0, 3).join(' ').trim());
    expect(order).toEqual(['begin ADD x', 'end ADD x', 'begin GC', 'end GC', 'begin ADD y', 'end ADD y']);
  });
});
