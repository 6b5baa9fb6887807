// Fuzzing knobs: seeded and reproducible. A failure prints its seed and
// shrink path; replay it with FUZZ_SEED=<seed> (and fast-check's `path`), or dig deeper with a
// larger FUZZ_RUNS.
import { CniError } from '../../src/cni/errors.js';

export const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
export const SEED = Number(process.env.FUZZ_SEED ?? 0x62726964); // "brid"
export const FUZZ = { numRuns: RUNS, seed: SEED } as const;
/** Per-test timeout: generous, the suite as a whole stays well under two minutes. */
export const FUZZ_TIMEOUT_MS = Math.max(60_000, RUNS * 20);

const describeThrown = (e: unknown) => (e instanceof Error ? `${e.constructor.name}: ${e.message}\n${e.stack}` : `non-Error ${String(e)}`);

/** Property 1: `fn` returns, or throws a CniError with a numeric code and a string message. */
export function onlyCniErrors<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: CniError } {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return { ok: false, error: assertCniError(e) };
  }
}

export async function onlyCniErrorsAsync<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: CniError }> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: assertCniError(e) };
  }
}

export function assertCniError(e: unknown): CniError {
  if (!(e instanceof CniError)) throw new Error(`threw something other than a CniError: ${describeThrown(e)}`);
  if (typeof e.code !== 'number' || !Number.isInteger(e.code) || e.code <= 0) throw new Error(`CniError with code ${String(e.code)}`);
  if (typeof e.message !== 'string' || e.message === '') throw new Error('CniError without a message');
  return e;
}

/** A property that passes on every input is vacuous when it never reached the interesting branch. */
export function assertCoverage(what: string, hits: number, atLeast = 0.05): void {
  if (RUNS >= 1000 && hits < RUNS * atLeast) {
    throw new Error(`${what}: only ${hits} of ${RUNS} cases reached it (want at least ${atLeast * 100}%): the generator drifted`);
  }
}
