// The broken corpus: each file, validated on its own, must produce this exact finding (code at
// pointer, and line where given) and fail (exit 1) unless the case is a warning or info.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODES, type FindingCode } from '../../src/validate/codes.js';
import { runFails } from '../../src/validate/report.js';
import { CORPUS, runCli, validatePaths } from './helpers.js';

type Case = [file: string, code: FindingCode, pointer: string, line?: number];

const ANN = '/metadata/annotations/k8s.v1.cni.cncf.io~1networks';

// A case named "...-plugins-X.Y" is validated for that plugins release.
const releaseOf = (file: string) => /-plugins-(\d+\.\d+)\./.exec(file)?.[1];
const optsFor = (file: string) => (releaseOf(file) ? { pluginsVersion: { version: `${releaseOf(file)}.0`, source: '--plugins-version' } } : {});
const flagsFor = (file: string) => (releaseOf(file) ? ['--plugins-version', releaseOf(file)!] : []);

const CASES: Case[] = [
  // syntax
  ['json-trailing-comma.conflist', 'BRD101', '', 5],
  ['json-comment.conf', 'BRD101', '', 2],
  ['yaml-bad-indent.yaml', 'BRD102', '', 5],
  ['template-placeholder.conflist', 'BRD107', '', 10],
  ['template-helm.yaml', 'BRD107', '', 4],
  ['duplicate-key-json.conflist', 'BRD108', '/plugins/0/mtu', 9],
  ['nad-duplicate-key-config.yaml', 'BRD108', '/spec/config/mode', 12],
  ['warn-duplicate-key-same-value.conflist', 'BRD109', '/plugins/0/type', 7],
  ['empty.yaml', 'BRD110', ''],
  ['multus-daemon-config-typo.json', 'BRD206', '/namespaceIsolaton', 10],
  ['nad-bad-json.yaml', 'BRD103', '/spec/config', 10],
  // schema
  ['typo-bridge-isgatway.conflist', 'BRD206', '/plugins/0/isGatway', 8],
  ['typo-ipam-rangestart.conflist', 'BRD206', '/plugins/0/ipam/ranges/0/0/rangeStrat'],
  ['typo-top-level-plugin.conflist', 'BRD206', '/plugin'],
  ['typo-top-level-plugin.conflist', 'BRD201', '/plugins'],
  ['macvlan-wrong-mode.conflist', 'BRD203', '/plugins/0/mode', 8],
  ['ipvlan-wrong-mode.conf', 'BRD203', '/mode'],
  ['firewall-wrong-backend.conflist', 'BRD203', '/plugins/1/backend'],
  ['mtu-as-string.conflist', 'BRD202', '/plugins/0/mtu'],
  ['vlan-missing-master.conflist', 'BRD201', '/plugins/0/master'],
  ['vlan-id-out-of-range.conflist', 'BRD204', '/plugins/0/vlanId'],
  ['vrf-missing-name.conflist', 'BRD201', '/plugins/1/vrfname'],
  ['bridge-name-too-long.conflist', 'BRD204', '/plugins/0/bridge'],
  ['cniversion-not-semver.conflist', 'BRD204', '/cniVersion'],
  ['warn-cniversion-missing.conflist', 'BRD211', '/cniVersion'],
  ['warn-conf-without-name.conf', 'BRD212', '/name'],
  ['multus-no-cluster-network.conf', 'BRD213', '/clusterNetwork'],
  ['info-multus-unsupported-key.conf', 'BRD214', '/auxiliaryCNIChainName', 7],
  ['empty-plugins.conflist', 'BRD204', '/plugins'],
  ['plugin-type-typo.conflist', 'BRD210', '/plugins/0/type'],
  ['ipam-type-typo.conflist', 'BRD210', '/plugins/0/ipam/type'],
  ['nad-kind-typo.yaml', 'BRD210', '/kind', 2],
  ['nad-spec-typo.yaml', 'BRD206', '/spec/conifg', 6],
  ['nad-macvlan-wrong-mode.yaml', 'BRD203', '/spec/config/plugins/0/mode', 14],
  ['warn-unknown-key.conflist', 'BRD205', '/plugins/0/braidNote'],
  ['warn-case-only-key.conflist', 'BRD207', '/plugins/0/IsGateway'],
  ['info-no-schema.conflist', 'BRD208', '/plugins/0/type'],
  // semantics
  ['network-name-invalid.conflist', 'BRD301', '/name', 3],
  ['cniversion-unknown.conflist', 'BRD302', '/cniVersion'],
  ['warn-cniversions-mismatch.conflist', 'BRD303', '/cniVersion'],
  ['warn-plugin-version-differs.conflist', 'BRD304', '/plugins/0/cniVersion'],
  ['meta-plugin-first.conflist', 'BRD305', '/plugins/0/type', 6],
  ['portmap-first.conflist', 'BRD305', '/plugins/0/type'],
  ['nad-meta-first.yaml', 'BRD305', '/spec/config/plugins/0/type', 11],
  ['host-local-as-plugin.conflist', 'BRD306', '/plugins/0/type'],
  ['bridge-as-ipam.conflist', 'BRD306', '/plugins/0/ipam/type'],
  ['ptp-without-ipam.conflist', 'BRD307', '/plugins/0/ipam'],
  ['tuning-with-ipam.conflist', 'BRD308', '/plugins/1/ipam'],
  ['warn-second-interface-plugin.conflist', 'BRD309', '/plugins/1/type'],
  ['subnet-unparsable.conflist', 'BRD310', '/plugins/0/ipam/ranges/0/0/subnet'],
  ['route-bad-dst.conflist', 'BRD310', '/plugins/0/ipam/routes/0/dst'],
  ['static-bad-address.conflist', 'BRD310', '/plugins/0/ipam/addresses/0/address'],
  ['dns-bad-nameserver.conflist', 'BRD310', '/plugins/0/dns/nameservers/0'],
  ['subnet-host-bits.conflist', 'BRD311', '/plugins/0/ipam/ranges/0/0/subnet'],
  ['subnet-too-small.conflist', 'BRD312', '/plugins/0/ipam/ranges/0/0/subnet'],
  ['gateway-outside-subnet.conflist', 'BRD313', '/plugins/0/ipam/ranges/0/0/gateway', 14],
  ['gateway-outside-subnet-legacy.conf', 'BRD313', '/ipam/gateway'],
  ['static-gateway-outside.conflist', 'BRD313', '/plugins/0/ipam/addresses/0/gateway'],
  ['nad-gateway-outside.yaml', 'BRD313', '/spec/config/ipam/gateway', 7],
  ['range-start-after-end.conflist', 'BRD314', '/plugins/0/ipam/ranges/0/0/rangeEnd'],
  ['ranges-overlap-in-set.conflist', 'BRD315', '/plugins/0/ipam/ranges/0/1/subnet'],
  ['range-sets-overlap.conflist', 'BRD315', '/plugins/0/ipam/ranges/1/0/subnet'],
  ['range-set-mixed-family.conflist', 'BRD316', '/plugins/0/ipam/ranges/0/1/subnet'],
  ['range-start-wrong-family.conflist', 'BRD316', '/plugins/0/ipam/ranges/0/0/rangeStart'],
  ['host-local-no-ranges.conflist', 'BRD317', '/plugins/0/ipam/ranges'],
  ['static-no-addresses.conflist', 'BRD318', '/plugins/0/ipam/addresses'],
  ['bandwidth-rate-without-burst.conflist', 'BRD320', '/plugins/1/ingressBurst'],
  ['bandwidth-burst-without-rate.conflist', 'BRD320', '/plugins/1/egressRate'],
  ['bandwidth-shaped-and-unshaped.conflist', 'BRD321', '/plugins/1/shapedSubnets'],
  ['portmap-without-capability.conflist', 'BRD322', '/plugins/1/capabilities/portMappings'],
  ['bandwidth-no-rates-no-capability.conflist', 'BRD322', '/plugins/1/capabilities/bandwidth'],
  ['unknown-capability.conflist', 'BRD323', '/plugins/1/capabilities/portMapping'],
  ['warn-unknown-capability-extension.conflist', 'BRD323', '/plugins/0/capabilities/sriov'],
  ['bridge-vlan-and-trunk-plugins-1.7.conflist', 'BRD337', '/plugins/0/vlanTrunk'],
  ['bridge-hairpin-and-promisc.conflist', 'BRD324', '/plugins/0/promiscMode'],
  ['portmap-mark-conflict.conflist', 'BRD324', '/plugins/1/externalSetMarkChain'],
  ['host-device-no-device.conflist', 'BRD325', '/plugins/0/device'],
  ['tuning-bad-mac.conflist', 'BRD326', '/plugins/1/mac'],
  ['macvlan-bad-master.conflist', 'BRD327', '/plugins/0/master'],
  ['tuning-sysctl-not-net.conflist', 'BRD328', '/plugins/1/sysctl/kernel.shmmax'],
  ['route-gw-wrong-family.conflist', 'BRD329', '/plugins/0/ipam/routes/0/gw'],
  ['dup-names', 'BRD330', '/name'],
  ['overlap', 'BRD332', '/plugins/0/ipam/ranges/0/0/subnet'],
  ['nad-bad-name.yaml', 'BRD333', '/metadata/name', 4],
  ['warn-nad-name-differs.yaml', 'BRD334', '/spec/config/name'],
  ['warn-nad-without-config.yaml', 'BRD335', '/spec/config'],
  // annotations
  ['pod-annotation-bad-json.yaml', 'BRD501', ANN, 15],
  ['pod-annotation-object-not-list.yaml', 'BRD501', ANN],
  ['pod-annotation-missing-name.yaml', 'BRD501', ANN],
  ['pod-missing-network.yaml', 'BRD502', ANN],
  ['pod-interface-too-long.yaml', 'BRD503', ANN],
  ['deployment-bad-annotation.yaml', 'BRD503', '/spec/template/metadata/annotations/k8s.v1.cni.cncf.io~1networks', 12],
  ['pod-bad-ip.yaml', 'BRD504', ANN],
  ['pod-bad-mac.yaml', 'BRD505', ANN],
  ['pod-bad-port.yaml', 'BRD506', ANN],
  ['pod-duplicate-interface.yaml', 'BRD507', ANN],
  ['pod-interface-eth0.yaml', 'BRD507', ANN],
  ['pod-two-default-routes.yaml', 'BRD508', ANN],
  ['pod-default-network-bad.yaml', 'BRD509', '/metadata/annotations/v1.multus-cni.io~1default-network'],
  ['pod-genie-bad.yaml', 'BRD510', '/metadata/annotations/cni'],
  ['pod-capability-missing.yaml', 'BRD511', ANN],
  ['warn-pod-ips-without-capability.yaml', 'BRD514', ANN],
  ['pod-interface-lo.yaml', 'BRD503', ANN, 15],
  ['pod-gateway-key.yaml', 'BRD501', ANN, 15],
  ['pod-annotation-key-typo.yaml', 'BRD512', '/metadata/annotations/k8s.v1.cni.cncf.io~1network'],
  ['deployment-annotation-on-owner.yaml', 'BRD513', ANN, 6],
];

describe('broken corpus', () => {
  it.each(CASES)('%s -> %s at %s', async (file, code, pointer, line) => {
    const { findings } = await validatePaths([join(CORPUS, file)], optsFor(file));
    const hit = findings.find((f) => f.code === code && f.pointer === pointer);
    expect(hit, JSON.stringify(findings, null, 1)).toBeDefined();
    expect(hit!.severity).toBe(CODES[code].severity);
    expect(hit!.message.length).toBeGreaterThan(10);
    if (line !== undefined) expect(hit!.line).toBe(line);
    if (CODES[code].severity === 'error') expect(findings.some((f) => f.severity === 'error')).toBe(true);
  });

  it('lists every corpus file, and every error case exits 1', async () => {
    const entries = readdirSync(CORPUS).filter((f) => f !== 'README.md');
    const listed = new Set(CASES.map((c) => c[0]));
    expect(entries.filter((e) => !listed.has(e))).toEqual([]);
    for (const e of entries) expect(statSync(join(CORPUS, e)).isFile() || statSync(join(CORPUS, e)).isDirectory()).toBe(true);
  });

  it('each case fails the run exactly when it has an error (warnings only under --strict, info never)', async () => {
    for (const file of [...new Set(CASES.map((c) => c[0]))]) {
      const sev = CASES.filter((c) => c[0] === file).map((c) => CODES[c[1]].severity);
      const { findings } = await validatePaths([join(CORPUS, file)], optsFor(file));
      expect([file, runFails(findings, false)]).toEqual([file, sev.includes('error')]);
      if (!sev.includes('error')) expect([file, runFails(findings, true)]).toEqual([file, sev.includes('warning')]);
    }
  });

  it('dist/braid exits 1 on an error case, 0 on warning- and info-only cases, and 1 on a warning under --strict', async () => {
    const runs = await Promise.all([
      runCli([join(CORPUS, 'ptp-without-ipam.conflist')]),
      runCli([join(CORPUS, 'warn-unknown-key.conflist')]),
      runCli(['--strict', join(CORPUS, 'warn-unknown-key.conflist')]),
      runCli(['--strict', join(CORPUS, 'info-no-schema.conflist')]),
      runCli(['--plugins-version', '1.7', join(CORPUS, 'bridge-vlan-and-trunk-plugins-1.7.conflist')]),
      runCli([join(CORPUS, 'bridge-vlan-and-trunk-plugins-1.7.conflist')]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([1, 0, 1, 0, 1, 0]);
  });

  it('the corpus covers every finding code except the binary and node ones and the no-files warning', () => {
    const covered = new Set(CASES.map((c) => c[1]));
    const missing = Object.keys(CODES).filter((c) => !covered.has(c as FindingCode) && !/^BRD4/.test(c) && !['BRD104', 'BRD105', 'BRD106', 'BRD209', 'BRD331', 'BRD336'].includes(c));
    expect(missing).toEqual([]);
  });
});
