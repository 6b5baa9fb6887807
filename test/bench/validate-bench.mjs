#!/usr/bin/env node
// Benchmark for `braid validate` (1,000 conflists in a couple of seconds, process start
// included). Generates N conflists from the delegates/ catalogue (unique names and subnets), then
// times, in this run: a baseline that only reads and JSON.parses the same files in a fresh node
// process, and `node dist/braid validate DIR` (also with --cni-path when reference plugins exist).
// Usage: node test/bench/validate-bench.mjs [N=1000] [RUNS=3]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = process.env.BRAID_BIN ?? join(ROOT, 'dist', 'braid');
const N = Number(process.argv[2] ?? 1000);
const RUNS = Number(process.argv[3] ?? 3);
const CNI_BIN = '/usr/lib/cni';

if (!existsSync(BIN)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });

const dir = mkdtempSync(join(tmpdir(), 'braid-validate-bench-'));
const templates = readdirSync(join(ROOT, 'delegates')).filter((f) => f.endsWith('.conflist')).map((f) => readFileSync(join(ROOT, 'delegates', f), 'utf8'));
for (let i = 0; i < N; i++) {
  // network i gets 10.<i/256>.<i%256>.0/24 (and fd00:<i>::/64): no overlaps, no duplicate names
  const v4 = `10.${(i >> 8) & 255}.${i & 255}`;
  const text = templates[i % templates.length]
    .replace(/"name": "[^"]+"/, `"name": "bench-${i}"`)
    .replace(/198\.18\.\d+/g, v4)
    .replace(/198\.18\.\d+\.0\/\d+/g, `${v4}.0/24`)
    .replace(/fd00:198:18:6::/g, `fd00:${i.toString(16)}::`);
  writeFileSync(join(dir, `${String(i).padStart(4, '0')}-bench.conflist`), text);
}

const BASELINE = `const fs=require('fs'),p=require('path');const d=process.argv[1];let n=0;for(const f of fs.readdirSync(d)){JSON.parse(fs.readFileSync(p.join(d,f),'utf8'));n++}if(n!==${N})process.exit(3)`;

function time(label, argv, expectStatus = 0) {
  const samples = [];
  for (let r = 0; r < RUNS; r++) {
    const t = process.hrtime.bigint();
    const res = spawnSync(process.execPath, argv, { encoding: 'utf8', env: { ...process.env, CNI_PATH: '', NO_COLOR: '1' } });
    samples.push(Number(process.hrtime.bigint() - t) / 1e9);
    if (res.status !== expectStatus) {
      process.stderr.write(`${label}: exit ${res.status}\n${res.stdout.slice(-2000)}${res.stderr.slice(-2000)}`);
      process.exit(1);
    }
  }
  samples.sort((a, b) => a - b);
  return { label, seconds: samples[Math.floor(samples.length / 2)] };
}

const rows = [time('baseline: node, read + JSON.parse', ['-e', BASELINE, dir]), time('braid validate', [BIN, 'validate', dir])];
if (existsSync(join(CNI_BIN, 'bridge'))) rows.push(time('braid validate --cni-path (binaries probed)', [BIN, 'validate', '--cni-path', CNI_BIN, dir]));
rmSync(dir, { recursive: true, force: true });

const base = rows[0].seconds;
const w = Math.max(...rows.map((r) => r.label.length));
console.log(`${'run'.padEnd(w)}  files  seconds  files/s  ratio`);
for (const r of rows) {
  console.log(`${r.label.padEnd(w)}  ${String(N).padStart(5)}  ${r.seconds.toFixed(3).padStart(7)}  ${String(Math.round(N / r.seconds)).padStart(7)}  ${(r.seconds / base).toFixed(1).padStart(5)}x`);
}
console.log(`(median of ${RUNS} runs each; every time includes node process start; node ${process.version})`);
