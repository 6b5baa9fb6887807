// braid install on a node Multus still runs: braid's entry never overtakes Multus's silently.
// `--if-multus takeover` (the default) writes it and says what happens to Multus's pods;
// `--if-multus wait` holds it back until Multus's entry is gone.
import { mkdirSync, mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt } from '../helpers/braid-runner.js';
import { parseBraidConfig } from '../../src/meta/braid-config.js';
import { braidInstall, bridgeConflist, runInstall, until } from './install-helpers.js';

let tmp: string;
let conf: string;
const KUBECONFIG = 'apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: "https://198.18.0.1:6443"}}]\nusers: [{name: u, user: {token: t}}]\n';
const args = () => ['--cni-conf-dir', conf, '--cni-bin-dir', join(tmp, 'bin'), '--kubeconfig', join(tmp, 'kubeconfig'), '--one-shot'];

beforeAll(() => assertBuilt());
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'braid-multus-'));
  conf = join(tmp, 'net.d');
  mkdirSync(conf);
  writeFileSync(join(tmp, 'kubeconfig'), KUBECONFIG);
  writeFileSync(join(conf, '10-flannel.conflist'), bridgeConflist('cbr0'));
  // Multus's thin quickstart entry, as its DaemonSet writes it.
  writeFileSync(join(conf, '00-multus.conf'), JSON.stringify({ cniVersion: '0.3.1', name: 'multus-cni-network', type: 'multus', kubeconfig: '/etc/cni/net.d/multus.d/multus.kubeconfig', delegates: [JSON.parse(bridgeConflist('cbr0'))] }));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('braid install next to Multus', () => {
  it('takeover (the default): writes 00-braid.conflist in front of flannel and says so on stderr', async () => {
    const r = await runInstall(args());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`taking over from Multus (${join(conf, '00-multus.conf')})`);
    expect(r.stderr).toContain("pods Multus attached are deleted by braid from Multus's cache");
    expect(JSON.parse(readFileSync(join(conf, '00-braid.conflist'), 'utf8')).plugins[0].clusterNetwork).toBe(join(conf, '10-flannel.conflist'));
  });

  it('wait: no entry while 00-multus.conf is there; with --watch it appears once Multus\'s goes', async () => {
    const run = braidInstall([...args(), '--if-multus', 'wait', '--watch', '--wait-timeout', '0']);
    try {
      await until('the wait notice', () => run.stderr().includes('--if-multus wait'));
      await new Promise((r) => setTimeout(r, 500));
      expect(existsSync(join(conf, '00-braid.conflist'))).toBe(false);
      rmSync(join(conf, '00-multus.conf'));
      await until('braid entry', () => existsSync(join(conf, '00-braid.conflist')), 15_000);
    } finally {
      run.child.kill('SIGTERM');
      await run.done;
    }
  });

  it("--from-multus carries a thin 00-multus.conf's settings into braid's entry and reports every key", async () => {
    const multus = {
      cniVersion: '0.3.1',
      name: 'multus-cni-network',
      type: 'multus',
      kubeconfig: '/etc/cni/net.d/multus.d/multus.kubeconfig',
      confDir: '/etc/cni/multus/net.d',
      cniDir: '/var/lib/cni/multus',
      namespaceIsolation: true,
      globalNamespaces: 'default,shared',
      systemNamespaces: ['kube-system', 'infra'],
      defaultNetworks: ['monitoring'],
      readinessindicatorfile: '/run/flannel/subnet.env',
      logOptions: { maxAge: 5 },
      delegates: [JSON.parse(bridgeConflist('cbr0'))],
    };
    writeFileSync(join(tmp, 'multus.conf'), JSON.stringify(multus));
    const r = await runInstall([...args(), '--from-multus', join(tmp, 'multus.conf')]);
    expect(r.status, r.stderr).toBe(0);
    const plugin = JSON.parse(readFileSync(join(conf, '00-braid.conflist'), 'utf8')).plugins[0];
    expect(plugin).toMatchObject({
      type: 'braid',
      clusterNetwork: join(conf, '10-flannel.conflist'),
      kubeconfig: join(conf, 'braid.d', 'braid.kubeconfig'),
      confDir: '/etc/cni/multus/net.d',
      multusCniDir: '/var/lib/cni/multus',
      namespaceIsolation: true,
      globalNamespaces: 'default,shared',
      systemNamespaces: ['kube-system', 'infra'],
      defaultNetworks: ['monitoring'],
      readinessindicatorfile: '/run/flannel/subnet.env',
    });
    expect(parseBraidConfig(plugin).warnings).toEqual([]);
    for (const key of Object.keys(multus)) expect(r.stderr, key).toContain(`Multus key "${key}": `);
    expect(r.stderr).toContain('Multus key "logOptions": ignored');
  });

  it('--from-multus is for one-shot entries; the daemon reads the file itself', async () => {
    writeFileSync(join(tmp, 'multus.conf'), '{}');
    const r = await runInstall(['--cni-conf-dir', conf, '--from-multus', join(tmp, 'multus.conf')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--from-multus needs --one-shot');
  });

  it('refuses an unknown --if-multus', async () => {
    const r = await runInstall([...args(), '--if-multus', 'later']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--if-multus: "later": not takeover or wait');
  });
});
