// The CniError a call throws (failing the test when it throws nothing or something else).
import { expect } from 'vitest';
import { CniError } from '../../src/cni/errors.js';

export function errorOf(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CniError);
    return e as CniError;
  }
  throw new Error('expected a CniError');
}
