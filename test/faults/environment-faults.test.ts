// The faults around the delegates: the API server, braid's cache directory, and
// the runtime's own mistakes. After each, the runtime's DEL leaves nothing behind.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { ifaceIn } from '../helpers/netns.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';
import { sh } from '../helpers/sh.js';

const t = useApiWorld();

let n = 0;
const scenario = (opts: ConstructorParameters<typeof PodScenario>[3] = {}) => new PodScenario(t.world, t.api, 200 + (n++ % 12) * 4, opts);

describe('API server faults', () => {
  it('down: ADD fails with 11 (try again later) and attaches nothing', async () => {
    const s = scenario();
    t.api.stop();
    try {
      const add = await s.call('ADD');
      expect(add.json).toMatchObject({ code: 11, msg: expect.stringMatching(/ECONNREFUSED.*try again later/) });
      expect(ifaceIn(s.ns.name, 'eth0')).toBeUndefined();
      expect((await s.call('DEL')).status).toBe(0);
    } finally {
      await t.api.start();
    }
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it.each([
    ['slower than apiTimeout -> 11', { pathRegex: '/pods/', delayMs: 3000 }, 11],
    ['500 on the pod -> 11', { pathRegex: '/pods/', status: 500 }, 11],
    ['404 for the pod -> 11', { pathRegex: '/pods/', status: 404 }, 11],
    ['500 on a NAD -> 11', { pathRegex: 'network-attachment-definitions', status: 500 }, 11],
    ['404 for a NAD -> 7', { pathRegex: 'network-attachment-definitions/.*-b$', status: 404 }, 7],
  ])('%s: ADD fails, nothing attached, DEL leaves nothing', async (_name, fault, code) => {
    const s = scenario({ config: { apiTimeout: 1 } });
    t.api.fault(fault);
    const t0 = Date.now();
    const add = await s.call('ADD');
    expect(Date.now() - t0).toBeLessThan(2900);
    expect(add.json.code).toBe(code);
    expect(add.stdout).not.toContain('    at ');
    expect(ifaceIn(s.ns.name, 'eth0')).toBeUndefined();
    t.api.clearFaults();
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('409 on the status patch: the pod still gets its networks', async () => {
    const s = scenario();
    t.api.fault({ method: 'PATCH', status: 409 });
    const add = await s.call('ADD');
    expect(add.status).toBe(0);
    expect(ifaceIn(s.ns.name, 'net3')).toBeDefined();
    expect(readFileSync(String(s.config.logFile), 'utf8')).toMatch(/"level":50.*network-status not written: the API server refused it/);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});

describe("braid's cache directory", () => {
  it('unwritable: ADD fails with 5 before touching the pod; DEL still succeeds', async () => {
    const s = scenario();
    const blocker = t.world.dir('blocker');
    writeFileSync(blocker, '');
    const add = await s.call('ADD', { config: { cniDir: join(blocker, 'braid') } });
    expect(add.json.code).toBe(5);
    expect(ifaceIn(s.ns.name, 'eth0')).toBeUndefined();
    expect((await s.call('DEL', { config: { cniDir: join(blocker, 'braid') } })).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('full: ADD fails with 5 and rolls back; nothing leaks', async () => {
    const s = scenario();
    const mnt = t.world.dir('tiny');
    mkdirSync(mnt, { recursive: true });
    sh('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    t.world.onCleanup(() => sh('umount', ['-l', mnt], { allowFail: true }));
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'fill')}`, 'bs=4k', 'count=64'], { stdio: 'ignore' });
    } catch {
      // dd stops at ENOSPC: the filesystem is full, which is the point
    }
    const cniDir = join(mnt, 'braid');
    const add = await s.call('ADD', { config: { cniDir } });
    expect(add.json.code).toBe(5);
    expect(ifaceIn(s.ns.name, 'eth0')).toBeUndefined();
    expect((await s.call('DEL', { config: { cniDir } })).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it.each([
    ['truncated', (t: string) => t.slice(0, Math.floor(t.length / 2))],
    ['corrupted', (t: string) => t.replace(/"attachments"/, '"attachmentz"')],
    ['emptied', () => ''],
  ])('a %s plan record: DEL tears down what the result cache knows, once, and succeeds', async (_name, damage) => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    const plans = join(s.cniDir, 'plans');
    const file = join(plans, readdirSync(plans)[0]!);
    writeFileSync(file, damage(readFileSync(file, 'utf8')));
    const del = await s.call('DEL');
    expect(del.status).toBe(0);
    for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('a corrupted result-cache record alongside a good plan: DEL still completes', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    const results = join(s.cniDir, 'results');
    for (const f of readdirSync(results)) writeFileSync(join(results, f), '{"kind":"cniCacheV1","config":');
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});

describe("the runtime's mistakes", () => {
  it('netns gone before DEL: DEL succeeds and releases every IP', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    sh('ip', ['netns', 'del', s.ns.name]);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('DEL twice, and DEL for a container braid never saw', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    expect((await s.call('DEL')).status).toBe(0);
    expect((await s.call('DEL')).status).toBe(0);
    expect((await s.call('DEL', { containerId: 'never-seen-container' })).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('ADD for an already-added (container, ifname) is refused and the pod keeps its networks', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    const again = await s.call('ADD');
    expect(again.json).toMatchObject({ code: 7, msg: expect.stringContaining('already attached') });
    for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeDefined();
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('CHECK before ADD is code 3; GC removes pods not in the valid list', async () => {
    const s = scenario();
    expect((await s.call('CHECK')).json.code).toBe(3);
    expect((await s.call('ADD')).status).toBe(0);
    const { callBraid } = await import('../helpers/braid-runner.js');
    const gc = await callBraid({ command: 'GC', config: { ...s.config, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [] } });
    expect(gc.status, gc.stdout).toBe(0);
    for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
    expect(s.leftovers()).toEqual(CLEAN);
  });
});
