// Engine verbs the Debian plugins (spec <= 1.0.0) can't exercise: STATUS and GC of 1.1.0 lists,
// and libcni's retry of an exec that fails with "text file busy".
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { execPlugin } from '../../src/engine/exec-plugin.js';
import { listRecords } from '../../src/engine/result-cache.js';
import { TestWorld } from '../helpers/netns.js';
import { makeList, runtime } from '../helpers/engine-fixture.js';
import { FAKE_PLUGIN } from '../helpers/pod-scenario.js';

let world: TestWorld;
let bin: string;
let log: string;
beforeEach(() => {
  world = new TestWorld();
  bin = world.dir('bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync(FAKE_PLUGIN, join(bin, 'fake'));
  log = world.dir('calls.log');
  process.env.FAKE_PLUGIN_LOG = log;
});
afterEach(async () => {
  delete process.env.FAKE_PLUGIN_LOG;
  await world.cleanup();
});

const calls = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').map((l) => l.trimEnd()).filter(Boolean) : []);
const list110 = (fake: Record<string, string> = {}) =>
  makeList({ cniVersion: '1.1.0', name: world.name('g'), plugins: [{ type: 'fake', fake }, { type: 'fake', fake }] });

it('GC: DELs cached attachments not in the valid set, then sends GC to every plugin', async () => {
  const engine = new Engine({ path: [bin], cacheDir: world.dir('cache') });
  const list = list110();
  const keep = runtime('/var/run/netns/none');
  const stale = runtime('/var/run/netns/none');
  await engine.addList(list, keep);
  await engine.addList(list, stale);
  writeFileSync(log, '');
  await engine.gcList(list, [{ containerID: keep.containerId, ifname: 'eth0' }]);
  expect(calls()).toEqual([`DEL ${stale.containerId} eth0`, `DEL ${stale.containerId} eth0`, 'GC', 'GC']);
  expect(listRecords(world.dir('cache')).records.map((r) => r.containerId)).toEqual([keep.containerId]);
});

it('GC continues past failures and reports them all', async () => {
  const engine = new Engine({ path: [bin], cacheDir: world.dir('cache') });
  const list = makeList({ cniVersion: '1.1.0', name: world.name('g'), plugins: [{ type: 'fake', fake: { gc: 'error:11' } }, { type: 'fake', fake: { gc: 'error:7' } }] });
  await expect(engine.gcList(list, [])).rejects.toMatchObject({ code: 11, message: expect.stringMatching(/injected failure.*injected failure/) });
  expect(calls()).toEqual(['GC', 'GC']);
});

it('STATUS asks every plugin of a 1.1.0 list; a lower version has no STATUS', async () => {
  const engine = new Engine({ path: [bin], cacheDir: world.dir('cache') });
  await engine.statusList(list110());
  expect(calls()).toEqual(['STATUS', 'STATUS']);
  await expect(engine.statusList(list110({ status: 'error:50' }))).rejects.toMatchObject({ code: 50 });
  writeFileSync(log, '');
  await engine.statusList(makeList({ cniVersion: '1.0.0', name: 'old', plugins: [{ type: 'fake', fake: { status: 'error:50' } }] }));
  expect(calls()).toEqual([]);
});

it('retries an exec that fails with "text file busy" (a binary being replaced)', async () => {
  const plugin = join(bin, 'busy');
  writeFileSync(plugin, '#!/bin/sh\ncat >/dev/null\necho \'{"cniVersion":"1.0.0"}\'\n');
  chmodSync(plugin, 0o755);
  const fd = openSync(plugin, 'r+'); // an open writer makes execve fail with ETXTBSY
  setTimeout(() => closeSync(fd), 1200);
  const t0 = Date.now();
  const out = await execPlugin({ pluginPath: plugin, command: 'VERSION', path: [bin], stdin: '{}' });
  expect(out).toEqual({ cniVersion: '1.0.0' });
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
});
