// The pure parts of braid install: picking the default network, building the entry, the
// in-cluster kubeconfig, flag normalisation.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseBraidConfig } from '../../src/meta/braid-config.js';
import { buildEntry } from '../../src/install/braid-entry.js';
import { candidateFiles, findDefaultNetwork } from '../../src/install/default-network.js';
import { parseInstallArgs, UsageError } from '../../src/install/install-options.js';
import { inClusterKubeconfig, serverUrl } from '../../src/install/kubeconfig.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-install-unit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const put = (name: string, value: unknown) => writeFileSync(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));

describe('findDefaultNetwork', () => {
  it('takes the lexically first loadable config over all three extensions, hidden and other files ignored', () => {
    put('.10-hidden.conflist', { cniVersion: '1.0.0', name: 'h', plugins: [{ type: 'bridge' }] });
    put('.00-braid.conflist.ab12.tmp', '{');
    put('30-b.conflist', { cniVersion: '1.0.0', name: 'b', plugins: [{ type: 'bridge' }] });
    put('20-a.json', { cniVersion: '0.4.0', name: 'a', type: 'ptp' });
    put('10-x.conf.bak', { cniVersion: '0.4.0', name: 'x', type: 'ptp' });
    mkdirSync(join(dir, '05-dir.conf'));
    expect(candidateFiles(dir).map((f) => f.slice(dir.length + 1))).toEqual(['20-a.json', '30-b.conflist']);
    expect(findDefaultNetwork(dir).found?.list.name).toBe('a');
  });

  it('reports what it skipped and why; braid’s own file silently', () => {
    put('00-braid.conflist', { cniVersion: '1.0.0', name: 'braid-cni-network', plugins: [{ type: 'braid' }] });
    put('01-bad.conflist', '{"cniVersion":');
    put('02-multus.conf', { cniVersion: '0.3.1', name: 'multus-cni-network', type: 'multus-shim' });
    put('03-invalid.conflist', { cniVersion: '1.0.0', name: 'no plugins', plugins: [] });
    put('10-ok.conflist', { cniVersion: '1.0.0', name: 'ok', plugins: [{ type: 'bridge' }] });
    const { found, skipped } = findDefaultNetwork(dir);
    expect(found?.file).toBe(join(dir, '10-ok.conflist'));
    expect(skipped.map((s) => s.file.slice(dir.length + 1))).toEqual(['01-bad.conflist', '02-multus.conf', '03-invalid.conflist']);
    expect(skipped[0]!.reason).toMatch(/not valid JSON/);
    expect(skipped[1]!.reason).toContain('meta-plugin entry (type multus-shim)');
  });

  it('finds nothing in a missing directory', () => {
    expect(findDefaultNetwork(join(dir, 'nope'))).toEqual({ found: undefined, skipped: [] });
  });
});

describe('buildEntry', () => {
  const settings = { binDir: '/opt/cni/bin', networksDir: '/etc/cni/braid/net.d', cniDir: '/var/lib/cni/braid', logFile: '', logLevel: 'warn' };

  it('copies cniVersion(s) and the union of true capabilities; braid parses it', () => {
    put('10.conflist', {
      cniVersion: '0.3.1',
      cniVersions: ['0.3.1', '1.1.0'],
      name: 'flannel',
      plugins: [
        { type: 'flannel', capabilities: { portMappings: false, ips: true } },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ],
    });
    const net = findDefaultNetwork(dir).found!;
    const entry = buildEntry(net, settings) as { cniVersion: string; cniVersions: string[]; plugins: Array<Record<string, unknown>> };
    expect(entry.cniVersion).toBe('0.3.1');
    expect(entry.cniVersions).toEqual(['0.3.1', '1.1.0']);
    expect(entry.plugins[0]!.capabilities).toEqual({ bandwidth: true, 'io.kubernetes.cri.pod-annotations': true, ips: true, portMappings: true });
    expect(entry.plugins[0]!.logFile).toBeUndefined(); // "" = the runtime's stderr
    const { config, warnings } = parseBraidConfig(entry.plugins[0]);
    expect(warnings).toEqual([]);
    expect(config.clusterNetwork).toBe(join(dir, '10.conflist'));
    expect(config.binDir).toEqual(['/opt/cni/bin']);
  });
});

describe('kubeconfig', () => {
  it('brackets IPv6 service hosts', () => {
    expect(serverUrl('10.96.0.1', '443')).toBe('https://10.96.0.1:443');
    expect(serverUrl('fd00:10:96::1', undefined)).toBe('https://[fd00:10:96::1]:443');
    expect(serverUrl('[fd00::1]', '6443')).toBe('https://[fd00::1]:6443');
  });

  it('is built from the service account only inside a pod', async () => {
    expect(await inClusterKubeconfig(dir, { KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toBeUndefined(); // no token
    put('token', 'abc\n');
    expect(await inClusterKubeconfig(dir, {})).toBeUndefined(); // no service host
    put('ca.crt', 'PEM');
    const kc = parseYaml((await inClusterKubeconfig(dir, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }))!);
    expect(kc.clusters[0].cluster).toEqual({ server: 'https://10.96.0.1:443', 'certificate-authority-data': Buffer.from('PEM').toString('base64') });
    expect(kc.users[0].user).toEqual({ token: 'abc' });
    expect(kc['current-context']).toBe(kc.contexts[0].name);
  });
});

describe('parseInstallArgs', () => {
  it('defaults', () => {
    expect(parseInstallArgs([])).toMatchObject({
      confDir: '/etc/cni/net.d',
      binDir: '/opt/cni/bin',
      waitTimeoutS: 600,
      watch: false,
      daemonSocket: '/run/braid/braid.sock',
      logFile: '/var/log/braid.log',
      logLevel: 'warn',
    });
  });

  it('resolves relative paths and accepts 0 = wait forever', () => {
    const o = parseInstallArgs(['--cni-conf-dir', 'x', '--wait-timeout', '0', '--log-file', '']);
    expect(o.confDir).toBe(join(process.cwd(), 'x'));
    expect(o.waitTimeoutS).toBe(0);
    expect(o.logFile).toBe('');
  });

  it.each([[['--wait-timeout', '-1']], [['--cni-bin-dir', '']], [['stray']]])('rejects %j', (args) => {
    expect(() => parseInstallArgs(args)).toThrow(UsageError);
  });
});
