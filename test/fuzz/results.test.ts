// Fuzzing delegate results of every version (SPEC.md "Success"; libcni types/040, types/100 and
// convert): only CNI errors, parse -> print -> parse is stable, and converting up and down keeps
// every field the lower version can hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertResult, parseResult, toVersion, type Result } from '../../src/cni/result.js';
import { compareVersions, isSupported, SUPPORTED_VERSIONS } from '../../src/cni/version.js';
import { fromText, resultValue, versionedResult, versionish } from './arbitraries.js';
import { assertCoverage, FUZZ, FUZZ_TIMEOUT_MS, onlyCniErrors } from './fuzz-config.js';

type Wire = Record<string, unknown> & {
  interfaces?: Array<Record<string, unknown>>;
  ips?: Array<Record<string, unknown>>;
  routes?: Array<Record<string, unknown>>;
  dns?: Record<string, unknown>;
};

/** Two supported versions, lo <= hi. */
const versionPair = fc
  .tuple(fc.constantFrom(...SUPPORTED_VERSIONS), fc.constantFrom(...SUPPORTED_VERSIONS))
  .map(([a, b]) => (compareVersions(a, b) <= 0 ? ([a, b] as const) : ([b, a] as const)));

/** Through JSON, as a delegate's stdout and the next plugin's prevResult travel. */
const wire = (r: Result, v: string) => JSON.parse(JSON.stringify(toVersion(r, v))) as Wire;
const pick = (o: Record<string, unknown> | undefined, keys: string[]) => Object.fromEntries(keys.filter((k) => o?.[k] !== undefined).map((k) => [k, o![k]]));

describe('fuzz: delegate results', () => {
  it('parsing and converting throw nothing but CNI errors', () => {
    let parsed = 0;
    fc.assert(
      fc.property(resultValue, versionish, versionish, (value, fallback, target) => {
        const input = fromText(value);
        const r = onlyCniErrors(() => parseResult(input, fallback));
        onlyCniErrors(() => convertResult(input, fallback, target));
        if (!r.ok) return;
        parsed++;
        expect(isSupported(r.value.cniVersion)).toBe(true);
        for (const v of SUPPORTED_VERSIONS) toVersion(r.value, v); // every supported version renders
        onlyCniErrors(() => toVersion(r.value, target));
      }),
      FUZZ,
    );
    assertCoverage('parsed results', parsed, 0.2);
  }, FUZZ_TIMEOUT_MS);

  it('parse -> print -> parse is stable in every version', () => {
    let parsed = 0;
    fc.assert(
      fc.property(resultValue, fc.constantFrom(...SUPPORTED_VERSIONS), (value, v) => {
        const first = onlyCniErrors(() => parseResult(JSON.parse(JSON.stringify(value ?? null)), v));
        if (!first.ok) return;
        parsed++;
        const printed = wire(first.value, v);
        const again = parseResult(printed, '1.1.0');
        expect(wire(again, v)).toEqual(printed);
        expect(JSON.stringify(toVersion(again, v))).toBe(JSON.stringify(printed));
      }),
      FUZZ,
    );
    assertCoverage('round-tripped results', parsed, 0.2);
  }, FUZZ_TIMEOUT_MS);

  it('conversion up and down keeps every field the lower version can hold', () => {
    fc.assert(
      fc.property(versionedResult, versionPair, ({ version, result }, [lo, hi]) => {
        const r = parseResult(result, version); // valid by construction: must parse
        const low = wire(r, lo);
        // Down: through hi and back down is the same as going straight down.
        expect(wire(parseResult(wire(r, hi), hi), lo)).toEqual(low);
        // Up: everything lo holds survives the trip to hi, field by field.
        const up = wire(parseResult(low, lo), hi);
        expect(up.cniVersion).toBe(hi);
        expect(up.interfaces?.map((i) => pick(i, ['name', 'mac', 'sandbox']))).toEqual(low.interfaces?.map((i) => pick(i, ['name', 'mac', 'sandbox'])));
        expect(up.ips?.map((i) => pick(i, ['address', 'gateway', 'interface']))).toEqual(low.ips?.map((i) => pick(i, ['address', 'gateway', 'interface'])));
        expect(up.routes?.map((i) => pick(i, ['dst', 'gw']))).toEqual(low.routes?.map((i) => pick(i, ['dst', 'gw'])));
        expect(up.dns).toEqual(low.dns);
        // ... and coming back down from hi loses nothing either.
        expect(wire(parseResult(up, hi), lo)).toEqual(low);
        // 0.x carries ips[].version, matching the address family; 1.x never does.
        for (const ip of low.ips ?? []) {
          if (lo.startsWith('0.')) expect(ip.version).toBe(String(ip.address).includes(':') ? '6' : '4');
          else expect(ip.version).toBeUndefined();
        }
      }),
      FUZZ,
    );
  }, FUZZ_TIMEOUT_MS);
});
