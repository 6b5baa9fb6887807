// Multus's config files read by braid: every key Multus's own structs declare (pkg/types NetConf
// with the embedded CNI NetConf, pkg/server/config MultusConf, pkg/server ControllerNetConf) is
// mapped, ignored or reported unsupported; Multus's shipped files and a public one convert.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDaemonConfig } from '../../src/daemon/config-reload.js';
import { parseBraidConfig } from '../../src/meta/braid-config.js';
import { fromMultusDaemonConfig, isMultusDaemonConfig, MULTUS_KEYS } from '../../src/meta/multus-config.js';

const fixture = (f: string) => readFileSync(join(import.meta.dirname, '../fixtures/multus', f), 'utf8');
const corpus = (f: string) => readFileSync(join('/work/shared/corpus/real-world-configs', f), 'utf8');

// The json tags of Multus's structs, as in its source.
const THIN_TAGS = ['cniVersion', 'name', 'type', 'capabilities', 'ipam', 'dns', 'prevResult', 'confDir', 'cniDir', 'binDir', 'delegates', 'clusterNetwork', 'defaultNetworks', 'kubeconfig', 'logFile', 'logLevel', 'logToStderr', 'logOptions', 'runtimeConfig', 'readinessindicatorfile', 'namespaceIsolation', 'globalNamespaces', 'systemNamespaces', 'multusNamespace', 'retryDeleteOnError'];
const THICK_TAGS = ['binDir', 'capabilities', 'cniVersion', 'logFile', 'logLevel', 'logToStderr', 'logOptions', 'name', 'clusterNetwork', 'namespaceIsolation', 'globalNamespaces', 'readinessindicatorfile', 'type', 'cniDir', 'cniConfigDir', 'auxiliaryCNIChainName', 'daemonSocketDir', 'multusConfigFile', 'multusMasterCNI', 'multusAutoconfigDir', 'forceCNIVersion', 'overrideNetworkName', 'chrootDir', 'perNodeCertificate', 'metricsPort', 'socketDir'];

describe('the Multus key map', () => {
  it('has every key of Multus\'s config structs, each mapped, ignored or unsupported with a reason', () => {
    const keys = new Map(MULTUS_KEYS.map((k) => [k.key, k]));
    for (const tag of THIN_TAGS) expect(keys.get(tag)?.files, tag).toContain('thin');
    for (const tag of THICK_TAGS) expect(keys.get(tag)?.files, tag).toContain('thick');
    for (const k of MULTUS_KEYS) expect(k.braid.length, k.key).toBeGreaterThan(5);
  });

  it("every mapped thin key is one braid's config reads", () => {
    const thin = MULTUS_KEYS.filter((k) => k.files.includes('thin') && k.status === 'mapped' && !['type', 'args', 'runtimeConfig'].includes(k.key));
    const config = Object.fromEntries(thin.map((k) => [k.key, k.key === 'delegates' ? [{ type: 'bridge' }] : k.key.match(/Namespaces$/) ? ['x'] : k.key === 'namespaceIsolation' || k.key === 'logToStderr' ? true : k.key === 'capabilities' ? {} : k.key === 'defaultNetworks' || k.key === 'cniVersions' ? [] : k.key === 'multusNamespace' ? 'kube-system' : '/x']));
    const { warnings } = parseBraidConfig({ type: 'braid', ...config });
    expect(warnings.filter((w) => w.startsWith('unknown key'))).toEqual([]);
  });
});

describe("Multus's shipped configs run unchanged", () => {
  it('the thin 00-multus.conf parses as braid\'s config with no warnings', () => {
    const { config, warnings } = parseBraidConfig(JSON.parse(fixture('thin-multus.conf')));
    expect(warnings).toEqual([]);
    expect(config.delegates).toHaveLength(1);
  });

  it('the thick daemon-config.json: the cluster network is the node\'s default in the autoconfig dir, host paths unprefixed', () => {
    const obj = JSON.parse(fixture('thick-daemon-config.json'));
    expect(isMultusDaemonConfig(obj)).toBe(true);
    const loaded = parseDaemonConfig(fixture('thick-daemon-config.json'), 'daemon-config.json');
    expect(loaded.config).toMatchObject({ type: 'braid', clusterNetwork: '/etc/cni/net.d', daemonSocket: '/run/multus/braid.sock', logLevel: 'verbose', logToStderr: true, cniVersion: '0.3.1' });
    // One line per key, none unknown.
    const lines = loaded.warnings.filter((w) => w.startsWith('Multus key'));
    expect(lines).toHaveLength(Object.keys(obj).length);
    expect(lines.join('\n')).toContain('Multus key "chrootDir": ignored');
    expect(lines.join('\n')).not.toContain('unknown');
  });

  it("a platform's thick config (EKS) with multusMasterCNI names the cluster network file", () => {
    const obj = JSON.parse(corpus('aws_amazon-vpc-cni-k8s__config_multus_v4.1.4-eksbuild.3_multus-daemonset-thick.yml__cm-multus-daemon-config-daemon-config.conf'));
    const { config, report } = fromMultusDaemonConfig(obj);
    expect(config).toMatchObject({ clusterNetwork: '/etc/cni/net.d/10-aws.conflist', confDir: '/etc/cni/net.d', logFile: '/var/log/multus.log' });
    expect(report.filter((r) => r.status === 'unknown')).toEqual([]);
    expect(parseBraidConfig(config).warnings).toEqual([]);
  });

  it('a braid config is never taken for a Multus one', () => {
    expect(isMultusDaemonConfig({ type: 'braid', clusterNetwork: '/x', socketDir: '/run' })).toBe(false);
    expect(isMultusDaemonConfig({ type: 'multus', delegates: [] })).toBe(false);
  });
});
