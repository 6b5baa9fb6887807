// Per-container serialisation, GC exclusivity and stale-lock recovery.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { withContainerLock, withGcLock } from '../../src/meta/container-lock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder() {
  const events: string[] = [];
  const task = (name: string, ms: number) => async () => {
    events.push(`${name}:start`);
    await sleep(ms);
    events.push(`${name}:end`);
    return name;
  };
  return { events, task };
}

it('serialises operations on one container', async () => {
  const { events, task } = recorder();
  await Promise.all([withContainerLock(dir, 'c1', task('a', 60)), withContainerLock(dir, 'c1', task('b', 10))]);
  expect(events).toEqual(['a:start', 'a:end', 'b:start', 'b:end']);
  expect(readdirSync(join(dir, 'locks'))).toEqual([]);
  expect(statSync(join(dir, 'locks')).mode & 0o777).toBe(0o700);
});

it('runs different containers concurrently', async () => {
  const { events, task } = recorder();
  await Promise.all([withContainerLock(dir, 'c1', task('a', 60)), withContainerLock(dir, 'c2', task('b', 10))]);
  expect(events.indexOf('b:start')).toBeLessThan(events.indexOf('a:end'));
});

it('releases the lock when the operation throws', async () => {
  await expect(withContainerLock(dir, 'c1', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  expect(await withContainerLock(dir, 'c1', async () => 'next')).toBe('next');
});

it('reclaims a lock left by a process that died (no wedged pod)', async () => {
  const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
  await withContainerLock(dir, 'warmup', async () => undefined);
  writeFileSync(join(dir, 'locks', 'c1'), `${dead} 12345`);
  const t0 = Date.now();
  expect(await withContainerLock(dir, 'c1', async () => 'ok', { waitMs: 2000 })).toBe('ok');
  expect(Date.now() - t0).toBeLessThan(1000);
});

it('times out with code 11 while a live process holds the lock', async () => {
  const slow = withContainerLock(dir, 'c1', () => sleep(400));
  await sleep(20);
  await expect(withContainerLock(dir, 'c1', async () => 'x', { waitMs: 100 })).rejects.toMatchObject({ code: 11 });
  await slow;
});

it('GC waits for in-flight operations, and ADD/DEL wait for a running GC', async () => {
  const { events, task } = recorder();
  const add = withContainerLock(dir, 'c1', task('add', 80));
  await sleep(10);
  const gc = withGcLock(dir, task('gc', 80));
  await sleep(10);
  const del = withContainerLock(dir, 'c2', task('del', 10));
  await Promise.all([add, gc, del]);
  expect(events.indexOf('gc:start')).toBeGreaterThan(events.indexOf('add:end'));
  expect(events.indexOf('del:start')).toBeGreaterThan(events.indexOf('gc:end'));
});

it('an unwritable cache dir fails ADD with code 5 but lets DEL run without the lock', async () => {
  const file = join(dir, 'not-a-dir');
  writeFileSync(file, '');
  const cniDir = join(file, 'braid'); // ENOTDIR even for root
  await expect(withContainerLock(cniDir, 'c1', async () => 'ran')).rejects.toMatchObject({ code: 5 });
  expect(await withContainerLock(cniDir, 'c1', async () => 'ran', { required: false })).toBe('ran');
});

it('refuses a container ID that could leave the lock directory', async () => {
  for (const id of ['../x', 'a/b', '/etc/passwd', 'a\u0000b', 'x'.repeat(300)]) {
    await expect(withContainerLock(dir, id, async () => 'ran')).rejects.toMatchObject({ code: 4 });
  }
});
