// Fuzzing braid's on-disk records: the libcni-format result cache and the plan record. Whatever a
// crash, a full disk or an older braid left in the file, decoding never throws (it reports a
// state), and a record written is a record read back unchanged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configBytes, decodeRecord } from '../../src/engine/result-cache.js';
import { decodePlan } from '../../src/meta/plan-record.js';
import { cacheRecord, planRecord, recordText } from './arbitraries.js';
import { assertCoverage, FUZZ, FUZZ_TIMEOUT_MS } from './fuzz-config.js';

function neverThrows<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new Error(`${what} threw (it must return a state): ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`);
  }
}

const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isPairs = (v: unknown) => Array.isArray(v) && v.every((kv) => Array.isArray(kv) && kv.length === 2 && kv.every((x) => typeof x === 'string'));
/** What a record holds after a write (JSON has no -0). */
const viaJson = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('fuzz: cached records', () => {
  it('result cache: decoding never throws; an ok record has the typed fields; write -> read is stable', () => {
    let ok = 0;
    fc.assert(
      fc.property(recordText(cacheRecord), cacheRecord, (text, valid) => {
        const read = neverThrows('decodeRecord', () => decodeRecord(text));
        expect(['ok', 'corrupt']).toContain(read.state);
        if (read.state === 'corrupt') expect(typeof read.reason).toBe('string');
        if (read.state === 'ok') {
          ok++;
          const r = read.record;
          expect(r.kind).toBe('cniCacheV1');
          for (const k of ['config', 'networkName', 'containerId', 'ifName'] as const) expect(typeof r[k]).toBe('string');
          if (r.netns != null) expect(typeof r.netns).toBe('string');
          if (r.cniArgs != null) expect(isPairs(r.cniArgs)).toBe(true);
          if (r.capabilityArgs != null) expect(isObject(r.capabilityArgs)).toBe(true);
          neverThrows('configBytes', () => configBytes(r));
        }
        const again = decodeRecord(JSON.stringify(valid));
        expect(again).toEqual({ state: 'ok', record: viaJson(valid) });
        if (again.state === 'ok') expect(decodeRecord(JSON.stringify(again.record))).toEqual(again);
      }),
      FUZZ,
    );
    assertCoverage('ok cache records', ok, 0.2);
  }, FUZZ_TIMEOUT_MS);

  it('plan record: decoding never throws; an ok plan has the typed fields; write -> read is stable', () => {
    let ok = 0;
    fc.assert(
      fc.property(recordText(planRecord), planRecord, (text, valid) => {
        const read = neverThrows('decodePlan', () => decodePlan(text));
        expect(['ok', 'corrupt']).toContain(read.state);
        if (read.state === 'corrupt') expect(typeof read.reason).toBe('string');
        if (read.state === 'ok') {
          ok++;
          expect(read.plan.kind).toBe('braidPlanV1');
          for (const k of ['containerId', 'ifname', 'netns'] as const) expect(typeof read.plan[k]).toBe('string');
          expect(isPairs(read.plan.cniArgs)).toBe(true);
          for (const a of read.plan.attachments) {
            for (const k of ['config', 'ifname', 'network'] as const) expect(typeof a[k]).toBe('string');
            expect(isObject(a.capabilityArgs)).toBe(true);
          }
        }
        const again = decodePlan(JSON.stringify(valid));
        expect(again).toEqual({ state: 'ok', plan: viaJson(valid) });
        if (again.state === 'ok') expect(decodePlan(JSON.stringify(again.plan))).toEqual(again);
      }),
      FUZZ,
    );
    assertCoverage('ok plan records', ok, 0.2);
  }, FUZZ_TIMEOUT_MS);
});
