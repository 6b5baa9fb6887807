// The edge: options, exit codes (0 clean, 1 failing findings, 2 usage), both output formats,
// stdin, colour only on a terminal.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODES } from '../../src/validate/codes.js';
import { CORPUS, REPO, runCli } from './helpers.js';

const BIN = join(REPO, 'dist', 'braid');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-validate-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('braid validate CLI', () => {
  it('--help documents the options, exit codes and every finding code', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const s of ['--format', '--strict', '--cni-path', 'CNI_PATH', 'NO_COLOR', 'Exit status', 'NetworkAttachmentDefinition']) expect(r.stdout).toContain(s);
    for (const code of Object.keys(CODES)) expect(r.stdout).toContain(code);
  });

  it.each([[[]], [['--format', 'xml', 'x']], [['--bogus', 'x']], [['--cni-path']], [['/nonexistent/braid/x.conflist']]])('usage error %j exits 2', async (argv) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/braid validate: /);
  });

  it('--format json prints one parseable document, findings with code, severity, file, pointer, line, message', async () => {
    const r = await runCli(['--format=json', join(CORPUS, 'gateway-outside-subnet.conflist')]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; summary: { errors: number }; findings: Record<string, unknown>[] };
    expect(doc.ok).toBe(false);
    expect(doc.summary.errors).toBe(1);
    expect(doc.findings[0]).toMatchObject({ code: 'BRD313', severity: 'error', pointer: '/plugins/0/ipam/ranges/0/0/gateway', line: 14, column: 15 });
    expect(String(doc.findings[0]!.message)).toMatch(/gateway "198\.18\.101\.1" is outside subnet 198\.18\.100\.0\/24/);
  });

  it('human output groups by file and has no colour when stdout is not a terminal', async () => {
    const r = await runCli([join(CORPUS, 'macvlan-wrong-mode.conflist'), join(CORPUS, 'meta-plugin-first.conflist')]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    expect(r.stdout).toMatch(/macvlan-wrong-mode\.conflist\n\s+8:7\s+error\s+BRD203/);
    expect(r.stdout).toMatch(/hint: did you mean "bridge"\?/);
    expect(r.stdout).toMatch(/2 files checked: 2 errors/);
  });

  it('colours on a terminal unless NO_COLOR is set', () => {
    // script(1) gives dist/braid a pseudo-terminal as stdout.
    const file = join(CORPUS, 'ptp-without-ipam.conflist');
    const onTty = (flags: string, env: Record<string, string>) => {
      const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} validate ${flags} ${file}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, ...env } });
      return r.stdout;
    };
    expect(onTty('', { NO_COLOR: '' })).toMatch(/\x1b\[31m/);
    expect(onTty('', { NO_COLOR: '1' })).not.toMatch(/\x1b\[/);
    expect(onTty('--no-color', { NO_COLOR: '' })).not.toMatch(/\x1b\[/);
  });

  it('warnings pass unless --strict', async () => {
    const f = join(CORPUS, 'warn-unknown-key.conflist');
    expect((await runCli([f])).code).toBe(0);
    expect((await runCli(['--strict', f])).code).toBe(1);
  });

  it('walks directories and reports an empty one', async () => {
    const empty = join(dir, 'empty');
    writeFileSync(join(dir, 'ok.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'ok', plugins: [{ type: 'loopback' }] }));
    writeFileSync(join(dir, 'notes.txt'), 'not a config');
    const r = await runCli(['--format', 'json', dir, join(REPO, 'delegates')]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { summary: { files: number } };
    expect(doc.summary.files).toBeGreaterThan(7);
    rmSync(empty, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(empty);
    const r2 = await runCli(['--format', 'json', empty]);
    expect(JSON.parse(r2.stdout).findings[0].code).toBe('BRD105');
  });

  it.runIf(existsSync(BIN))('the bundled dist/braid reads - from stdin, schemas included', () => {
    const run = (input: string, ...args: string[]) => spawnSync(process.execPath, [BIN, 'validate', ...args, '-'], { input, encoding: 'utf8', env: { ...process.env, CNI_PATH: '' } });
    const bad = run('{"cniVersion": "1.0.0", "name": "s", "plugins": [{"type": "macvlan", "mode": "bridged", "ipam": {"type": "static", "addresses": [{"address": "198.18.9.9/24"}]}}]}', '--format', 'json');
    expect(bad.status).toBe(1);
    const doc = JSON.parse(bad.stdout) as { findings: { code: string; file: string; pointer: string }[] };
    expect(doc.findings.map((f) => [f.file, f.code, f.pointer])).toEqual([['<stdin>', 'BRD203', '/plugins/0/mode']]);
    const good = run(readFileSync(join(REPO, 'delegates', 'macvlan-tuning.conflist'), 'utf8'));
    expect([good.status, good.stdout]).toEqual([0, '1 file checked: 0 errors, 0 warnings\n']);
  });
});
