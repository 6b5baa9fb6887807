// The one wire error type (the CNI spec): codes, JSON shape, conversion at the edge.
import { describe, expect, it } from 'vitest';
import {
  Code,
  CniError,
  decodeFailure,
  invalidConfig,
  invalidEnv,
  ioFailure,
  isCniError,
  toCniError,
  tryAgainLater,
} from '../../src/cni/errors.js';

describe('codes', () => {
  it('match the spec and libcni', () => {
    expect(Code).toStrictEqual({
      IncompatibleVersion: 1,
      UnsupportedField: 2,
      UnknownContainer: 3,
      InvalidEnv: 4,
      IOFailure: 5,
      DecodeFailure: 6,
      InvalidConfig: 7,
      InvalidNetns: 8,
      TryAgainLater: 11,
      NotAvailable: 50,
      NotAvailableImpaired: 51,
      Internal: 999,
    });
  });

  it.each<[(m: string, d?: string) => CniError, number]>([
    [invalidConfig, 7],
    [decodeFailure, 6],
    [ioFailure, 5],
    [invalidEnv, 4],
    [tryAgainLater, 11],
  ])('factory %# makes code %i', (make, code) => {
    const e = make('m', 'd');
    expect(e).toBeInstanceOf(CniError);
    expect(e.code).toBe(code);
    expect(e.message).toBe('m');
    expect(e.details).toBe('d');
  });
});

describe('CniError', () => {
  it('is an Error named CniError', () => {
    const e = new CniError(Code.UnknownContainer, 'no such container');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('CniError');
    expect(isCniError(e)).toBe(true);
    expect(isCniError(new Error('x'))).toBe(false);
    expect(isCniError({ code: 7, msg: 'x' })).toBe(false);
  });

  it('renders {cniVersion, code, msg, details}', () => {
    const e = new CniError(Code.UnsupportedField, 'unsupported field "foo"', 'value "bar"');
    expect(e.toJSON('1.1.0')).toStrictEqual({ cniVersion: '1.1.0', code: 2, msg: 'unsupported field "foo"', details: 'value "bar"' });
  });

  it.each([undefined, ''])('omits details %j', (details) => {
    const json = new CniError(Code.InvalidConfig, 'bad', details).toJSON('0.4.0');
    expect(json).toStrictEqual({ cniVersion: '0.4.0', code: 7, msg: 'bad' });
    expect(Object.keys(json)).toEqual(['cniVersion', 'code', 'msg']);
  });

  it('withContext keeps code and details and prefixes the message', () => {
    const inner = new CniError(Code.TryAgainLater, 'ipam busy', 'lock held');
    const outer = inner.withContext('network "a": plugin host-local');
    expect(outer).not.toBe(inner);
    expect(outer.code).toBe(11);
    expect(outer.details).toBe('lock held');
    expect(outer.message).toBe('network "a": plugin host-local: ipam busy');
    expect(outer.withContext('pod x').message).toBe('pod x: network "a": plugin host-local: ipam busy');
  });
});

describe('toCniError', () => {
  it('passes a CniError through unchanged', () => {
    const e = new CniError(Code.DecodeFailure, 'bad json');
    expect(toCniError(e)).toBe(e);
  });

  it('turns a plain Error into 999 with its message and no stack', () => {
    const plain = new TypeError('cannot read properties of undefined');
    const e = toCniError(plain);
    expect(e.code).toBe(999);
    expect(e.message).toBe('cannot read properties of undefined');
    const json = e.toJSON('1.0.0');
    expect(json.msg).not.toMatch(/\n\s+at /);
    expect(json.msg).not.toContain(plain.stack!.split('\n')[1]!.trim());
    expect(json).toStrictEqual({ cniVersion: '1.0.0', code: 999, msg: 'cannot read properties of undefined' });
  });

  it('uses the error name when the message is empty', () => {
    expect(toCniError(new RangeError('')).message).toBe('RangeError');
  });

  it.each<[unknown, string]>([
    ['boom', 'boom'],
    [42, '42'],
    [undefined, 'undefined'],
    [null, 'null'],
  ])('a thrown non-Error %j becomes 999', (v, msg) => {
    const e = toCniError(v);
    expect(e.code).toBe(999);
    expect(e.message).toBe(msg);
  });
});
