// Builds braid-shim, the daemon mode's CNI binary (imported by build.mjs, cwd = repo root).
// dist/braid-shim: the C shim when `cc` exists (static when libc.a is there, so the binary a
// DaemonSet copies onto a host does not depend on the host's libc), else the Node.js shim.
// dist/braid-shim-node: always the Node.js shim, so tests can run both.
// dist/braid-spawner: what braid (daemon and one-shot) starts its delegates through (C, only
// with `cc`; without it braid forks delegates itself with execa).
// BRAID_NO_CC=1 builds as if there were no compiler. Files are renamed into place, so a test
// running a shim never sees a half-written one.
import { build } from 'esbuild';
import { nodeExecutable } from './esbuild-options.mjs';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, renameSync, rmSync } from 'node:fs';

const tmp = (f) => `${f}.${process.pid}.tmp`;
function publish(file) {
  chmodSync(tmp(file), 0o755);
  renameSync(tmp(file), file);
}

await build({
  ...nodeExecutable,
  entryPoints: ['src/shim/node-shim.ts'],
  outfile: tmp('dist/braid-shim-node'),
  banner: { js: '#!/usr/bin/env node' },
});

const hasCc = process.env.BRAID_NO_CC !== '1' && spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
function compile(out, src) {
  const args = ['-O2', '-Wall', '-Wextra', '-o', tmp(out), src];
  let r = spawnSync('cc', ['-static', ...args], { encoding: 'utf8' });
  if (r.status !== 0) r = spawnSync('cc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc failed to build ${out}:\n${r.stderr}`);
  if (r.stderr.trim()) process.stderr.write(r.stderr);
}
if (hasCc) {
  compile('dist/braid-shim', 'src/shim/braid-shim.c');
  compile('dist/braid-spawner', 'src/spawner/braid-spawner.c');
  publish('dist/braid-spawner');
  console.log('dist/braid-shim, dist/braid-spawner: native (C)');
} else {
  copyFileSync(tmp('dist/braid-shim-node'), tmp('dist/braid-shim'));
  rmSync('dist/braid-spawner', { force: true });
  console.log('dist/braid-shim: Node.js fallback (no C compiler); no braid-spawner (braid forks delegates itself)');
}
publish('dist/braid-shim-node');
publish('dist/braid-shim');
