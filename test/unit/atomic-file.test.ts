// writeFileAtomic: temp file, fdatasync, rename; temp names never clobber a file already there.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { removeStaleTemps, writeFileAtomic } from '../../src/engine/atomic-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'braid-atomic-'));
  dirs.push(d);
  return d;
};

it('writes the whole content with the mode asked for and leaves no temp file', () => {
  const dir = fresh();
  const path = join(dir, 'rec');
  writeFileAtomic(path, 'x'.repeat(100_000), { mode: 0o640, durable: true });
  expect(readFileSync(path, 'utf8')).toHaveLength(100_000);
  expect(statSync(path).mode & 0o777).toBe(0o640);
  expect(readdirSync(dir)).toEqual(['rec']);
});

it('a temp name already taken (another pid namespace, a crash) is skipped, not overwritten', () => {
  const dir = fresh();
  // This worker's first temp names for "rec" are .rec.<pid>.<0..z>.tmp: occupy the first 36.
  const taken = Array.from({ length: 36 }, (_, i) => `.rec.${process.pid}.${i.toString(36)}.tmp`);
  for (const name of taken) writeFileSync(join(dir, name), 'someone else');
  writeFileAtomic(join(dir, 'rec'), 'mine');
  expect(readFileSync(join(dir, 'rec'), 'utf8')).toBe('mine');
  for (const name of taken) expect(readFileSync(join(dir, name), 'utf8')).toBe('someone else');
  expect(readdirSync(dir).length).toBe(taken.length + 1);
});

it('removeStaleTemps drops the temp files of dead writers of that record only', () => {
  const dir = fresh();
  const path = join(dir, 'rec');
  // A pid above the kernel's PID_MAX_LIMIT (4194304) is never alive; our own pid is.
  const dead = `.rec.4194305.0.tmp`;
  const live = `.rec.${process.pid}.7.tmp`;
  const other = `.rec2.4194305.0.tmp`;
  for (const n of [dead, live, other, 'rec']) writeFileSync(join(dir, n), 'x');
  removeStaleTemps(path);
  expect(readdirSync(dir).sort()).toEqual([live, other, 'rec'].sort());
});
