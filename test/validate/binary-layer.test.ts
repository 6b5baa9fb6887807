// Binary layer: real files in a temporary CNI path (tiny fake plugins where a real one cannot
// produce the case), and the reference binaries when the machine has them.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeVersion } from '../../src/validate/binary-layer.js';
import { runCli, validateTexts } from './helpers.js';

let dir: string;
const counter = () => (existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').length : 0);

function fake(name: string, body: string, mode = 0o755): void {
  writeFileSync(join(dir, name), `#!/bin/sh\necho ${name} >> "${dir}/calls"\n${body}\n`);
  chmodSync(join(dir, name), mode);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-validate-bin-'));
  fake('good', `echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}'`);
  fake('old', `echo '{"cniVersion":"0.3.1","supportedVersions":["0.3.0","0.3.1"]}'`);
  fake('legacy', `echo '{}'`);
  fake('crash', 'echo boom >&2; exit 3');
  fake('noexec', 'exit 0', 0o644);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const list = (cniVersion: string, plugins: object[]) => JSON.stringify({ cniVersion, name: 'bin-test', plugins }, null, 2);
const codes = async (text: string) => (await validateTexts({ 'x.conflist': text }, { cniPath: [dir] })).findings.map((f) => `${f.code} ${f.pointer}`);

describe('binary layer', () => {
  it('accepts binaries that exist and support the version', async () => {
    expect(await codes(list('1.0.0', [{ type: 'good' }]))).toEqual(['BRD208 /plugins/0/type']);
  });

  it('reports a missing binary, a non-executable one, and one that fails VERSION', async () => {
    const found = await codes(list('0.3.1', [{ type: 'absent' }, { type: 'noexec' }, { type: 'crash' }]));
    expect(found).toContain('BRD401 /plugins/0/type');
    expect(found).toContain('BRD402 /plugins/1/type');
    expect(found).toContain('BRD404 /plugins/2/type');
  });

  it('checks the cniVersion against VERSION, IPAM binaries included (libcni ValidateNetworkList)', async () => {
    const found = await codes(list('1.0.0', [{ type: 'good', ipam: { type: 'old' } }]));
    expect(found).toContain('BRD403 /cniVersion');
    const { findings } = await validateTexts({ 'x.conflist': list('1.0.0', [{ type: 'good', ipam: { type: 'old' } }]) }, { cniPath: [dir] });
    expect(findings.find((f) => f.code === 'BRD403')!.message).toMatch(/"old".*supports 0\.3\.0, 0\.3\.1/);
  });

  it('takes a plugin without a cniVersion in its answer as supporting 0.1.0 only', () => {
    expect(decodeVersion('{}', '', 0, null)).toEqual({ supported: ['0.1.0'] });
    expect(decodeVersion('garbage', 'oops', 1, null).error).toMatch(/exited 1.*oops/);
    expect(decodeVersion('{"code": 4, "msg": "bad env"}', '', 1, null).error).toMatch(/bad env/);
  });

  it('probes each binary once per run', async () => {
    rmSync(join(dir, 'calls'), { force: true });
    const files = Object.fromEntries([1, 2, 3, 4].map((i) => [`n${i}.conflist`, JSON.stringify({ cniVersion: '0.3.1', name: `n${i}`, plugins: [{ type: 'good', ipam: { type: 'legacy' } }] })]));
    const { findings } = await validateTexts(files, { cniPath: [dir] });
    expect(counter()).toBe(2);
    expect(findings.filter((f) => f.code === 'BRD403')).toHaveLength(4); // legacy: 0.1.0 only
  });

  it('runs from CNI_PATH, and --cni-path overrides it', async () => {
    const f = join(dir, 'net.conflist');
    writeFileSync(f, list('1.0.0', [{ type: 'absent' }]));
    expect((await runCli(['--format', 'json', f], { CNI_PATH: dir })).stdout).toMatch(/BRD401/);
    expect((await runCli(['--format', 'json', f], { CNI_PATH: undefined })).stdout).not.toMatch(/BRD401/);
    expect((await runCli(['--format', 'json', '--cni-path', '/nonexistent', f], { CNI_PATH: dir })).stdout).toMatch(/BRD401.*|not found in the CNI path \/nonexistent/s);
  });
});

const REAL = '/usr/lib/cni';
describe.runIf(existsSync(join(REAL, 'firewall')))('reference binaries (containernetworking/plugins)', () => {
  it('firewall refuses a 0.3.1 list; a 1.1.0 list is newer than these binaries', async () => {
    const fw = JSON.stringify({ cniVersion: '0.3.1', name: 'fw', plugins: [{ type: 'bridge', ipam: { type: 'host-local', subnet: '198.18.200.0/24' } }, { type: 'firewall' }] });
    const r1 = await validateTexts({ 'fw.conflist': fw }, { cniPath: [REAL] });
    expect(r1.findings.map((f) => f.code)).toEqual(['BRD403']);
    expect(r1.findings[0]!.message).toMatch(/firewall/);
    const v11 = JSON.stringify({ cniVersion: '1.1.0', name: 'v11', plugins: [{ type: 'macvlan', master: 'braid-mv0', ipam: { type: 'host-local', subnet: '198.18.201.0/24' } }] });
    const r2 = await validateTexts({ 'v11.conflist': v11 }, { cniPath: [REAL] });
    expect(r2.findings.map((f) => `${f.code} ${f.pointer}`)).toEqual(['BRD403 /cniVersion', 'BRD403 /cniVersion']);
  });
});
