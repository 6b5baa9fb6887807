// Fuzzing network configurations (SPEC.md "Configuration format"), braid's own config and
// NetworkAttachmentDefinitions as the API returns them: only CNI errors, what is accepted obeys
// the rules, parsing leaves its input alone, and parse -> print -> parse is stable.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { confToConfList, parseAnyConfig, parseConfigBytes, parseConfList, parseJsonObject, type NetConfList } from '../../src/cni/config.js';
import { isSupported } from '../../src/cni/version.js';
import type { KubeApi, KubeObject } from '../../src/k8s/kube-api.js';
import { parseBraidConfig } from '../../src/meta/braid-config.js';
import { resolveNad, type ResolveContext } from '../../src/meta/resolve-networks.js';
import { braidConfig, conflist, configText, configValue, fromText, mutated, namespaceName, nadObject, networkName, singleConf } from './arbitraries.js';
import { assertCoverage, FUZZ, FUZZ_TIMEOUT_MS, onlyCniErrors, onlyCniErrorsAsync } from './fuzz-config.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const printable = (v: unknown): string | undefined => {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined; // nested past the stack
  }
};
/** A generated value as a shallow object (deep markers left as strings), for round trips. */
const shallow = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

function assertValidList(list: NetConfList): void {
  expect(isSupported(list.cniVersion)).toBe(true);
  expect(list.name).toMatch(NAME);
  expect(list.plugins.length).toBeGreaterThan(0);
  for (const p of list.plugins) {
    expect(typeof p.type === 'string' && p.type !== '' && !/[/\\\0]/.test(p.type) && p.type !== '.' && p.type !== '..').toBe(true);
  }
  expect(typeof list.disableCheck).toBe('boolean');
  expect(typeof list.disableGC).toBe('boolean');
}
const envelope = (l: NetConfList) => ({ cniVersion: l.cniVersion, declaredVersion: l.declaredVersion, name: l.name, disableCheck: l.disableCheck, disableGC: l.disableGC, plugins: l.plugins, raw: l.raw });

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('fuzz: configurations', () => {
  it('config bytes and objects: only CNI errors, valid lists only, input untouched', () => {
    let accepted = 0;
    fc.assert(
      fc.property(configText, (text) => {
        const obj = onlyCniErrors(() => parseJsonObject(text, 'config'));
        const bytes = onlyCniErrors(() => parseConfigBytes(text));
        if (bytes.ok) {
          accepted++;
          assertValidList(bytes.value);
        }
        if (!obj.ok) return void expect(bytes.ok).toBe(false);
        const before = printable(obj.value);
        const any = onlyCniErrors(() => parseAnyConfig(obj.value));
        expect(any.ok).toBe(bytes.ok);
        if (any.ok) assertValidList(any.value);
        const list = onlyCniErrors(() => parseConfList(obj.value));
        if (list.ok) assertValidList(list.value);
        expect(printable(obj.value)).toBe(before);
        if ('type' in obj.value && !('plugins' in obj.value)) {
          const up = confToConfList(obj.value);
          expect(Array.isArray(up.plugins) && (up.plugins as unknown[]).length).toBe(1);
        }
      }),
      FUZZ,
    );
    assertCoverage('accepted configs', accepted, 0.1);
  }, FUZZ_TIMEOUT_MS);

  it('conflists: parse -> print -> parse is stable (and a .conf parses as its up-converted list)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(conflist, singleConf, mutated(conflist), mutated(singleConf)), (value) => {
        const raw = shallow(value);
        if (!isObject(raw)) return;
        const first = onlyCniErrors(() => parseAnyConfig(raw));
        if (!first.ok) return;
        accepted++;
        const printed = JSON.stringify(first.value.raw);
        const again = parseConfList(JSON.parse(printed) as Record<string, unknown>);
        expect(envelope(again)).toEqual(envelope(first.value));
        const fromBytes = parseConfigBytes(printed);
        expect(envelope(fromBytes)).toEqual(envelope(first.value));
        expect(fromBytes.bytes).toBe(printed);
        expect(JSON.stringify(again.raw)).toBe(printed);
      }),
      FUZZ,
    );
    assertCoverage('round-tripped configs', accepted, 0.1);
  }, FUZZ_TIMEOUT_MS);

  it("braid's config: only CNI errors, and parse -> print -> parse is stable", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: braidConfig }, { weight: 3, arbitrary: mutated(braidConfig) }, { weight: 1, arbitrary: configValue }), (value) => {
        const obj = fromText(value);
        const first = onlyCniErrors(() => parseBraidConfig(obj));
        if (!first.ok) return;
        accepted++;
        const { config } = first.value;
        expect(config.clusterNetwork !== undefined || (config.delegates?.length ?? 0) > 0).toBe(true);
        expect(Array.isArray(config.binDir) && Array.isArray(config.globalNamespaces) && Array.isArray(config.systemNamespaces)).toBe(true);
        const printed = printable(config);
        if (printed === undefined) return; // a deep value passed through untouched: nothing to print
        const again = parseBraidConfig(JSON.parse(printed));
        expect(again.config).toEqual(JSON.parse(printed));
        expect(again.warnings.filter((w) => w.startsWith('unknown key'))).toEqual([]);
      }),
      FUZZ,
    );
    assertCoverage('accepted braid configs', accepted, 0.1);
  }, FUZZ_TIMEOUT_MS);

  it('NetworkAttachmentDefinitions: resolving one only fails with CNI errors; spec.config lands intact', async () => {
    const confDir = mkdtempSync(join(tmpdir(), 'braid-fuzz-nad-'));
    dirs.push(confDir);
    const { config } = parseBraidConfig({ type: 'braid', clusterNetwork: 'cluster', confDir, cniDir: confDir });
    let resolved = 0;
    await fc.assert(
      fc.asyncProperty(
        namespaceName,
        networkName.chain((name) => fc.tuple(fc.constant(name), nadObject(name))),
        async (namespace, [name, nad]) => {
          const served = fromText(nad) as KubeObject;
          const api: KubeApi = {
            getPod: () => Promise.reject(new Error('not used')),
            getNad: () => Promise.resolve(served),
            patchPodStatus: () => Promise.resolve(),
          };
          const ctx: ResolveContext = { api, config, podNamespace: 'default', nadMemo: new Map() };
          const r = await onlyCniErrorsAsync(() => resolveNad(ctx, namespace, name));
          if (!r.ok) return;
          resolved++;
          const { list } = r.value;
          assertValidList(list);
          expect(r.value.displayName).toBe(`${namespace}/${name}`);
          // What the delegates get is what was resolved (as JSON prints it: -0 as 0), and re-parses the same.
          expect(JSON.parse(list.bytes!)).toEqual(JSON.parse(JSON.stringify(list.raw)));
          expect(envelope(parseConfigBytes(list.bytes!))).toEqual(envelope(list));
          const specConfig = JSON.parse((served.spec as { config: string }).config) as Record<string, unknown>;
          if (typeof specConfig.name !== 'string' || specConfig.name === '') expect(list.name).toBe(name); // NPWG §4.2
        },
      ),
      FUZZ,
    );
    assertCoverage('resolved NADs', resolved, 0.1);
  }, FUZZ_TIMEOUT_MS);
});
