// Fuzzing the pod's network-selection annotations (NPWG v1.3 §4, both forms; CNI-Genie's `cni`;
// Multus's default-network): only CNI errors, valid selections only, and parse -> print -> parse.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interfaceNameProblem } from '../../src/cni/names.js';
import {
  analyzeGenieAnnotation,
  analyzeNetworksAnnotation,
  MAX_ATTACHMENTS,
  nameProblem,
  parseDefaultNetworkAnnotation,
  parseGenieAnnotation,
  parseNetworksAnnotation,
  type NetworkSelection,
} from '../../src/meta/network-selection.js';
import { annotationValue, commaFormAnnotation, compact, dnsLabel, jsonFormAnnotation } from './arbitraries.js';
import { assertCoverage, FUZZ, FUZZ_TIMEOUT_MS, onlyCniErrors } from './fuzz-config.js';

const podNamespace = fc.oneof({ weight: 4, arbitrary: fc.constant('default') }, { weight: 1, arbitrary: dnsLabel });
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function assertValidSelections(sels: NetworkSelection[]): void {
  if (sels.length > MAX_ATTACHMENTS) throw new Error(`${sels.length} selections accepted`);
  const seen = new Set<string>();
  for (const s of sels) {
    if (nameProblem(s.name)) throw new Error(`accepted name ${JSON.stringify(s.name)}`);
    if (!LABEL.test(s.namespace) || s.namespace.length > 63) throw new Error(`accepted namespace ${JSON.stringify(s.namespace)}`);
    if (s.interface !== undefined) {
      if (interfaceNameProblem(s.interface)) throw new Error(`accepted interface ${JSON.stringify(s.interface)}`);
      if (seen.has(s.interface)) throw new Error(`accepted interface ${s.interface} twice`);
      seen.add(s.interface);
    }
    if (s.ips && s.ipamClaimReference) throw new Error('accepted ips with ipam-claim-reference');
  }
  if (sels.filter((s) => s.defaultRoute).length > 1) throw new Error('accepted two default-route carriers');
}

/** The JSON form for a selection, every field spelled the way the standard spells it. */
const printJsonElement = (s: NetworkSelection) =>
  compact({
    name: s.name,
    namespace: s.namespace,
    interface: s.interface,
    ips: s.ips,
    mac: s.mac,
    'default-route': s.defaultRoute,
    portMappings: s.portMappings,
    bandwidth: s.bandwidth,
    'cni-args': s.cniArgs,
    'infiniband-guid': s.infinibandGuid,
    'ipam-claim-reference': s.ipamClaimReference,
    deviceID: s.deviceID,
  });
const printJsonForm = (sels: NetworkSelection[]) => JSON.stringify(sels.map(printJsonElement));
const printCommaForm = (sels: NetworkSelection[]) => sels.map((s) => `${s.namespace}/${s.name}${s.interface === undefined ? '' : `@${s.interface}`}`).join(',');
// The comma form holds name, namespace and an interface without its separators ('@' and ',' are
// legal in a Linux interface name, so only the JSON form can ask for "a@b").
const commaOnly = (s: NetworkSelection) =>
  Object.keys(s).every((k) => ['name', 'namespace', 'interface', 'source'].includes(k)) && !/[@,]/.test(s.interface ?? '');
/** Selections as data: `source` names where they came from, and JSON has no -0. */
const plain = (sels: NetworkSelection[]) => JSON.parse(JSON.stringify(sels.map(({ source: _s, ...rest }) => rest))) as unknown;

describe('fuzz: network-selection annotations', () => {
  it('never throws anything but a CniError, and accepts only valid selections', () => {
    let accepted = 0;
    fc.assert(
      fc.property(annotationValue, podNamespace, (value, ns) => {
        // analyze* collects problems: it must never throw at all.
        const analysis = analyzeNetworksAnnotation(value, ns);
        analyzeGenieAnnotation(value, ns);
        const r = onlyCniErrors(() => parseNetworksAnnotation(value, ns));
        if (r.ok) {
          accepted++;
          assertValidSelections(r.value);
          expect(analysis.problems).toEqual([]);
        } else expect(analysis.problems.length).toBeGreaterThan(0);
        const g = onlyCniErrors(() => parseGenieAnnotation(value, ns));
        if (g.ok) assertValidSelections(g.value);
        const d = onlyCniErrors(() => parseDefaultNetworkAnnotation(value, ns));
        if (d.ok) {
          assertValidSelections([d.value]);
          expect(d.value.interface).toBeUndefined();
        }
      }),
      FUZZ,
    );
    assertCoverage('accepted networks annotations', accepted, 0.2);
  }, FUZZ_TIMEOUT_MS);

  it('JSON form: parse -> print -> parse is stable', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(jsonFormAnnotation, commaFormAnnotation), podNamespace, (value, ns) => {
        const first = onlyCniErrors(() => parseNetworksAnnotation(value, ns));
        if (!first.ok) return;
        accepted++;
        const printed = printJsonForm(first.value);
        const again = parseNetworksAnnotation(printed, ns);
        expect(plain(again)).toEqual(plain(first.value));
        expect(printJsonForm(again)).toBe(printed);
        // What the comma form can hold survives it too.
        if (first.value.every(commaOnly)) expect(plain(parseNetworksAnnotation(printCommaForm(first.value), ns))).toEqual(plain(first.value));
      }),
      FUZZ,
    );
    assertCoverage('round-tripped annotations', accepted, 0.2);
  }, FUZZ_TIMEOUT_MS);
});
