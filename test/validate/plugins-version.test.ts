// Which plugins the rules judge for: never the linting machine's binaries unless asked (--cni-path,
// --node), a documented default release otherwise, and --plugins-version or the rule config to pin one.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEWEST_PLUGINS } from '../../src/validate/plugin-versions.js';
import { runCli } from './helpers.js';

const DEBIAN = '/usr/lib/cni';
const codes = (stdout: string) => (JSON.parse(stdout) as { findings: { code: string; message: string }[] }).findings;
let dir: string;
let v11: string;
let trunk: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-plugins-version-'));
  v11 = join(dir, 'v11.conflist');
  writeFileSync(v11, JSON.stringify({ cniVersion: '1.1.0', name: 'v11', plugins: [{ type: 'bridge', bridge: 'braid-pv0', ipam: { type: 'host-local', subnet: '198.18.9.0/24' } }] }));
  trunk = join(dir, 'trunk.conflist');
  writeFileSync(trunk, JSON.stringify({ cniVersion: '1.0.0', name: 'trunk', plugins: [{ type: 'bridge', bridge: 'braid-pv1', vlan: 100, vlanTrunk: [{ id: 101 }], ipam: {} }] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('plugins version', () => {
  it('without --cni-path or --node the machine is not asked: a 1.1.0 config is clean even where old plugins are installed', async () => {
    const r = await runCli(['--format', 'json', v11]);
    expect(r.code).toBe(0);
    expect(codes(r.stdout)).toEqual([]);
  });

  it.skipIf(!existsSync(join(DEBIAN, 'bridge')))('with --cni-path the installed binaries are asked (Debian 1.1.1 plugins stop at spec 1.0.0)', async () => {
    const r = await runCli(['--format', 'json', '--cni-path', DEBIAN, v11]);
    expect(r.code).toBe(1);
    expect(codes(r.stdout).map((f) => f.code)).toContain('BRD403');
  });

  it(`bridge vlan with vlanTrunk: fine for the default (${NEWEST_PLUGINS}) and 1.8, refused before 1.8`, async () => {
    expect((await runCli([trunk])).code).toBe(0);
    expect((await runCli(['--plugins-version', 'v1.8.0', trunk])).code).toBe(0);
    const old = await runCli(['--format', 'json', '--plugins-version', '1.7.1', trunk]);
    expect(old.code).toBe(1);
    const f = codes(old.stdout).find((x) => x.code === 'BRD337');
    expect(f?.message).toMatch(/1\.8\.0.*plugins 1\.7\.1 \(--plugins-version\)/);
  });

  it.skipIf(!existsSync(join(DEBIAN, 'bridge')))('with --cni-path the version comes from the bridge binary (a build without a version: no spec 1.1.0, so before 1.5.0)', async () => {
    const r = await runCli(['--format', 'json', '--cni-path', DEBIAN, trunk]);
    const f = codes(r.stdout).find((x) => x.code === 'BRD337');
    expect(f?.message).toMatch(/plugins before 1\.5\.0/);
  });

  it('the rule config can pin the release, and the flag wins over it', async () => {
    const cfgDir = mkdtempSync(join(dir, 'cfg-'));
    writeFileSync(join(cfgDir, '.braid-validate.yaml'), 'pluginsVersion: "1.6.2"\n');
    expect((await runCli([trunk], {}, { cwd: cfgDir })).code).toBe(1);
    expect((await runCli(['--plugins-version', '1.8.0', trunk], {}, { cwd: cfgDir })).code).toBe(0);
  });

  it('a malformed version is a usage error naming the flag', async () => {
    const r = await runCli(['--plugins-version', 'latest', trunk]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--plugins-version: "latest": not a release like 1\.8\.0/);
  });
});
