// `braid install` through the built binary, into temporary conf and bin dirs.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BRAID, assertBuilt } from '../helpers/braid-runner.js';
import { braidInstall, bridgeConflist, fingerprint, runInstall, until } from './install-helpers.js';
import { readKubeconfig } from '../../src/k8s/kubeconfig.js';

/** What an install from dist/ copies: braid, and braid-spawner where the build had a C compiler. */
const BUILT_BINARIES = existsSync(join(BRAID, '../braid-spawner')) ? ['braid', 'braid-spawner'] : ['braid'];

// Copied byte for byte; braid install checks it names a cluster server before using it.
const KUBECONFIG = [
  'apiVersion: v1',
  'kind: Config',
  'clusters: [{name: c, cluster: {server: "https://198.18.0.1:6443"}}]',
  'users: [{name: u, user: {token: t}}]',
  'contexts: [{name: x, context: {cluster: c, user: u}}]',
  'current-context: x',
  '',
].join('\n');

let tmp: string;
let conf: string;
let bin: string;
const entryPath = () => join(conf, '00-braid.conflist');
const entry = () => JSON.parse(readFileSync(entryPath(), 'utf8'));
const kubeconfigPath = () => join(conf, 'braid.d', 'braid.kubeconfig');
const dirs = () => ['--cni-conf-dir', conf, '--cni-bin-dir', bin];
const base = () => [...dirs(), '--one-shot'];

beforeAll(() => assertBuilt());
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'braid-install-'));
  conf = join(tmp, 'net.d');
  bin = join(tmp, 'bin');
  mkdirSync(conf);
  writeFileSync(join(tmp, 'kubeconfig'), KUBECONFIG);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('braid install', () => {
  it('waits for a default network, then writes an entry with its cniVersion and capabilities', async () => {
    const run = braidInstall([...base(), '--kubeconfig', join(tmp, 'kubeconfig'), '--wait-timeout', '20']);
    await until('the waiting message', () => run.stderr().includes('waiting'));
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(entryPath())).toBe(false);
    writeFileSync(join(conf, '10-bridge.conflist'), bridgeConflist('cluster', '0.4.0', [{ type: 'bandwidth', capabilities: { bandwidth: true } }]));
    const out = await run.done;
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toBe('');
    expect(entry()).toEqual({
      cniVersion: '0.4.0',
      name: 'braid-cni-network',
      plugins: [
        {
          type: 'braid',
          kubeconfig: kubeconfigPath(),
          clusterNetwork: join(conf, '10-bridge.conflist'),
          confDir: '/etc/cni/braid/net.d',
          cniDir: '/var/lib/cni/braid',
          binDir: bin,
          logFile: '/var/log/braid.log',
          logLevel: 'warn',
          // the union of the cluster network's capabilities (true ones), plus CRI-O's pod annotations
          capabilities: { bandwidth: true, 'io.kubernetes.cri.pod-annotations': true, portMappings: true },
        },
      ],
    });
    expect(readFileSync(kubeconfigPath(), 'utf8')).toBe(readFileSync(join(tmp, 'kubeconfig'), 'utf8'));
    expect(statSync(kubeconfigPath()).mode & 0o777).toBe(0o600);
    expect(statSync(entryPath()).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(bin, 'braid')).equals(readFileSync(BRAID))).toBe(true);
    expect(statSync(join(bin, 'braid')).mode & 0o777).toBe(0o755);
    // write beside, rename: no temporary file is left
    expect(readdirSync(conf).sort()).toEqual(['00-braid.conflist', '10-bridge.conflist', 'braid.d']);
    expect(readdirSync(bin).sort()).toEqual(BUILT_BINARIES);
  });

  it('fails with a clear message when no default network appears in time', async () => {
    const out = await runInstall([...base(), '--wait-timeout', '1']);
    expect(out.status).toBe(1);
    expect(out.stderr).toContain(`no default network config appeared in ${conf} within 1 s; install your cluster network (e.g. flannel, calico) first`);
    expect(readdirSync(conf)).toEqual([]);
  });

  it('is idempotent and leaves every other file alone', async () => {
    writeFileSync(join(conf, '10-bridge.conflist'), bridgeConflist('cluster'));
    writeFileSync(join(conf, '05-broken.conflist'), '{"cniVersion": ');
    writeFileSync(join(conf, '01-multus.conf'), JSON.stringify({ cniVersion: '0.3.1', name: 'multus-cni-network', type: 'multus' }));
    writeFileSync(join(conf, 'README'), 'not a config');
    const others = fingerprint(conf);
    const first = await runInstall([...base(), '--kubeconfig', join(tmp, 'kubeconfig')]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/skipping .*05-broken\.conflist: .*not valid JSON/);
    expect(first.stderr).toMatch(/skipping .*01-multus\.conf: a meta-plugin entry/);
    const after1 = fingerprint(conf);
    const bin1 = fingerprint(bin);
    await new Promise((r) => setTimeout(r, 20));
    const second = await runInstall([...base(), '--kubeconfig', join(tmp, 'kubeconfig')]);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain('is up to date');
    // byte-identical, same mode, same mtime: nothing was rewritten
    expect(fingerprint(conf)).toEqual(after1);
    expect(fingerprint(bin)).toEqual(bin1);
    for (const [file, print] of Object.entries(others)) expect(after1[file]).toBe(print);
    expect(entry().plugins[0].clusterNetwork).toBe(join(conf, '10-bridge.conflist'));
  });

  it('skips its own entry and meta-plugin entries, and reads .conf and .conflist in one lexical order as runtimes do', async () => {
    writeFileSync(join(conf, '00-braid.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'old', plugins: [{ type: 'braid', clusterNetwork: '/x' }] }));
    writeFileSync(join(conf, '02-shim.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'shim', plugins: [{ type: 'braid-shim' }] }));
    writeFileSync(join(conf, '20-single.conf'), JSON.stringify({ cniVersion: '0.3.1', name: 'single', type: 'ptp', capabilities: { bandwidth: true, portMappings: false } }));
    writeFileSync(join(conf, '30-list.conflist'), bridgeConflist('list', '1.0.0'));
    const out = await runInstall(base());
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).toContain('no kubeconfig');
    const e = entry();
    expect(e.cniVersion).toBe('0.3.1');
    expect(e.plugins[0].clusterNetwork).toBe(join(conf, '20-single.conf'));
    expect(e.plugins[0].capabilities).toEqual({ bandwidth: true, 'io.kubernetes.cri.pod-annotations': true });
    expect(e.plugins[0].kubeconfig).toBeUndefined();
    expect(existsSync(join(conf, 'braid.d'))).toBe(false);
  });

  it('--dry-run prints what it would write and writes nothing', async () => {
    writeFileSync(join(conf, '10-bridge.conflist'), bridgeConflist('cluster'));
    const before = fingerprint(tmp);
    const out = await runInstall([...base(), '--kubeconfig', join(tmp, 'kubeconfig'), '--dry-run']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain(`# would copy: ${BRAID} -> ${join(bin, 'braid')}`);
    expect(out.stdout).toContain(`# would write: ${entryPath()} (mode 0644)\n{\n  "cniVersion": "0.4.0"`);
    expect(out.stdout).toMatch(/# would write: .*braid\.kubeconfig \(mode 0600; \d+ bytes of credentials, not shown\)/);
    expect(fingerprint(tmp)).toEqual(before);
    expect(existsSync(bin)).toBe(false);
  });

  it('builds the kubeconfig from the service account when run in a pod', async () => {
    writeFileSync(join(conf, '10-bridge.conflist'), bridgeConflist('cluster'));
    const sa = join(tmp, 'sa');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'tok-123\n');
    writeFileSync(join(sa, 'ca.crt'), 'CA PEM');
    writeFileSync(join(sa, 'namespace'), 'kube-system');
    const out = await runInstall(base(), { BRAID_SA_DIR: sa, KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' });
    expect(out.status, out.stderr).toBe(0);
    // Written as JSON (valid YAML), which braid reads without loading a YAML parser.
    const kc = JSON.parse(readFileSync(kubeconfigPath(), 'utf8'));
    expect(kc.clusters[0].cluster).toEqual({ server: 'https://[fd00::1]:6443', 'certificate-authority-data': Buffer.from('CA PEM').toString('base64') });
    expect(kc.users[0].user).toEqual({ token: 'tok-123' });
    const endpoint = await readKubeconfig(kubeconfigPath());
    expect([endpoint?.server.href, endpoint?.token, endpoint?.ca?.toString()]).toEqual(['https://[fd00::1]:6443/', 'tok-123', 'CA PEM']);
    expect(statSync(kubeconfigPath()).mode & 0o777).toBe(0o600);
    expect(entry().plugins[0].kubeconfig).toBe(kubeconfigPath());
  });

  it('by default (daemon mode) writes a braid-shim entry and copies only the shim; without a shim it says what is missing', async () => {
    writeFileSync(join(conf, '10-bridge.conflist'), bridgeConflist('cluster'));
    const src = join(tmp, 'src');
    mkdirSync(src);
    copyFileSync(BRAID, join(src, 'braid'));
    const missing = await runInstall([...dirs(), '--source', join(src, 'braid')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`daemon mode needs the braid-shim binary beside ${join(src, 'braid')}`);
    writeFileSync(join(src, 'braid-shim'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(src, 'braid-shim'), 0o755);
    writeFileSync(join(src, 'braid-spawner'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(src, 'braid-spawner'), 0o755);
    const out = await runInstall([...dirs(), '--daemon-socket', '/run/b/b.sock', '--source', join(src, 'braid')]);
    expect(out.status, out.stderr).toBe(0);
    expect(entry()).toEqual({
      cniVersion: '0.4.0',
      name: 'braid-cni-network',
      plugins: [{ type: 'braid-shim', daemonSocket: '/run/b/b.sock', capabilities: { 'io.kubernetes.cri.pod-annotations': true, portMappings: true } }],
    });
    // The host needs no Node.js: braid and its spawner stay in the daemon's image.
    expect(readdirSync(bin)).toEqual(['braid-shim']);
    // --daemon says the same explicitly.
    expect((await runInstall([...dirs(), '--daemon', '--daemon-socket', '/run/b/b.sock', '--source', join(src, 'braid')])).stderr).toContain('is up to date');
    // --one-shot: braid, and braid-spawner beside it (a build with a C compiler).
    expect((await runInstall([...base(), '--source', join(src, 'braid')])).status).toBe(0);
    expect(entry().plugins[0].type).toBe('braid');
    expect(readdirSync(bin).sort()).toEqual(['braid', 'braid-shim', 'braid-spawner']);
  });

  it.each([
    [['--bogus'], /^braid install: unknown option --bogus$/m],
    [['--cleanup-on-exit'], /--cleanup-on-exit only makes sense with --watch/],
    [['--wait-timeout', 'soon'], /--wait-timeout: "soon": not a number of seconds/],
    [['--watch', '--dry-run'], /--dry-run cannot be combined with --watch/],
    [['--log-level', 'loud'], /--log-level: "loud": not one of /],
    [['--daemon'], /--one-shot and --daemon exclude each other/],
  ])('usage error %j exits 2', async (args, msg) => {
    const out = await runInstall([...base(), ...args]);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(msg);
  });
});

describe('braid install --watch', () => {
  it('regenerates when the default network changes or an earlier one appears, and cleans up exactly its files on SIGTERM', async () => {
    writeFileSync(join(conf, '10-bridge.conflist'), bridgeConflist('cluster'));
    writeFileSync(join(conf, 'notes.txt'), 'operator notes');
    const run = braidInstall([...base(), '--kubeconfig', join(tmp, 'kubeconfig'), '--watch', '--cleanup-on-exit']);
    await until('the watch to start', () => run.stderr().includes('watching'));
    expect(entry().plugins[0].capabilities).toEqual({ 'io.kubernetes.cri.pod-annotations': true, portMappings: true });

    // The default network's file changes: its new capability and version follow.
    writeFileSync(join(conf, '10-bridge.conflist'), bridgeConflist('cluster', '1.0.0', [{ type: 'bandwidth', capabilities: { bandwidth: true } }]));
    await until('the entry to follow the change', () => entry().cniVersion === '1.0.0' && entry().plugins[0].capabilities.bandwidth === true);

    // A lexically earlier network takes its place.
    writeFileSync(join(conf, '05-calico.conflist'), JSON.stringify({ cniVersion: '0.3.1', name: 'k8s-pod-network', plugins: [{ type: 'calico' }] }));
    await until('the entry to point at the new default', () => entry().plugins[0].clusterNetwork === join(conf, '05-calico.conflist'));
    expect(entry().cniVersion).toBe('0.3.1');

    const others = fingerprint(conf);
    delete others['00-braid.conflist'];
    delete others['braid.d/braid.kubeconfig'];
    run.child.kill('SIGTERM');
    const out = await run.done;
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).toContain(`removed ${entryPath()}`);
    expect(fingerprint(conf)).toEqual(others);
    expect(readdirSync(conf).sort()).toEqual(['05-calico.conflist', '10-bridge.conflist', 'notes.txt']);
    expect(readdirSync(bin).sort()).toEqual(BUILT_BINARIES); // the binaries stay: DELs of existing pods may need them
  });

  it('withdraws the entry while no default network exists and restores it when one returns', async () => {
    writeFileSync(join(conf, '10-bridge.conflist'), bridgeConflist('cluster'));
    const run = braidInstall([...base(), '--watch']);
    await until('the watch to start', () => run.stderr().includes('watching'));
    const written = readFileSync(entryPath(), 'utf8');
    rmSync(join(conf, '10-bridge.conflist'));
    await until('the entry to be withdrawn', () => !existsSync(entryPath()));
    writeFileSync(join(conf, '10-bridge.conflist'), bridgeConflist('cluster'));
    await until('the entry to return', () => existsSync(entryPath()));
    expect(readFileSync(entryPath(), 'utf8')).toBe(written);
    run.child.kill('SIGINT');
    const out = await run.done;
    expect(out.status).toBe(0);
    // without --cleanup-on-exit the entry stays
    expect(existsSync(entryPath())).toBe(true);
  });

  it('stopped while still waiting, it exits cleanly and writes nothing', async () => {
    const run = braidInstall([...base(), '--watch', '--cleanup-on-exit']);
    await until('the waiting message', () => run.stderr().includes('waiting'));
    run.child.kill('SIGTERM');
    const out = await run.done;
    expect(out.status).toBe(0);
    expect(readdirSync(conf)).toEqual([]);
  });
});
