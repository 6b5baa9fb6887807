// Fuzzing the CNI_* environment (SPEC.md "Parameters"): CNI_ARGS parse -> format -> parse, and a
// bad environment is always a CNI error with code 4, never an exception or a half-built request.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCniArgs, parseCniArgs } from '../../src/cni/cni-args.js';
import { parseCniEnv, REQUIRED_VARS, VERBS } from '../../src/cni/env.js';
import { Code } from '../../src/cni/errors.js';
import { interfaceNameProblem } from '../../src/cni/names.js';
import { cniArgsRaw, cniEnv } from './arbitraries.js';
import { assertCoverage, FUZZ, FUZZ_TIMEOUT_MS, onlyCniErrors } from './fuzz-config.js';

describe('fuzz: CNI_ARGS and the CNI_* environment', () => {
  it('CNI_ARGS: only CNI errors (code 4), and parse -> format -> parse is stable', () => {
    let parsed = 0;
    fc.assert(
      fc.property(cniArgsRaw, (raw) => {
        const r = onlyCniErrors(() => parseCniArgs(raw));
        if (!r.ok) return void expect(r.error.code).toBe(Code.InvalidEnv);
        parsed++;
        for (const [k] of r.value) expect(k === '' || k.includes('=') || k.includes(';')).toBe(false);
        const printed = formatCniArgs(r.value);
        expect(parseCniArgs(printed)).toEqual(r.value);
        expect(formatCniArgs(parseCniArgs(printed))).toBe(printed);
      }),
      FUZZ,
    );
    assertCoverage('parsed CNI_ARGS', parsed, 0.3);
  }, FUZZ_TIMEOUT_MS);

  it('CNI_* environment: only CNI errors (code 4); an accepted request has what its verb needs', () => {
    let accepted = 0;
    fc.assert(
      fc.property(cniEnv, (vars) => {
        const r = onlyCniErrors(() => parseCniEnv({ ...vars }));
        if (!r.ok) return void expect(r.error.code).toBe(Code.InvalidEnv);
        accepted++;
        const req = r.value;
        expect(VERBS).toContain(req.command);
        expect(req.command).toBe(vars.CNI_COMMAND);
        for (const v of REQUIRED_VARS[req.command]) expect(vars[v]).toBeTruthy();
        if (REQUIRED_VARS[req.command].includes('CNI_CONTAINERID')) {
          expect(req.containerId).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/);
          expect(interfaceNameProblem(req.ifname)).toBeUndefined();
        }
        expect(req.path.every((p) => p !== '' && !p.includes(':'))).toBe(true);
        expect(formatCniArgs(req.args)).toBe(formatCniArgs(parseCniArgs(vars.CNI_ARGS)));
      }),
      FUZZ,
    );
    assertCoverage('accepted environments', accepted, 0.2);
  }, FUZZ_TIMEOUT_MS);
});
