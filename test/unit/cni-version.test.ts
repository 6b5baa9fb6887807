// Spec versions and libcni's choice among cniVersion / cniVersions (the CNI spec).
import { describe, expect, it } from 'vitest';
import { Code, CniError } from '../../src/cni/errors.js';
import {
  CURRENT_VERSION,
  SUPPORTED_VERSIONS,
  compareVersions,
  isSupported,
  parseSemver,
  pickVersion,
  versionAtLeast,
  versionInfo,
} from '../../src/cni/version.js';

describe('versions', () => {
  it('supports exactly the five spec versions, 1.1.0 current', () => {
    expect([...SUPPORTED_VERSIONS]).toEqual(['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
    expect(CURRENT_VERSION).toBe('1.1.0');
  });

  it.each(['0.1.0', '0.2.0', '1.2.0', '', '1.0', 'v1.0.0'])('%j is not supported', (v) => {
    expect(isSupported(v)).toBe(false);
  });

  it('parses strict semver only', () => {
    expect(parseSemver('1.10.0')).toEqual([1, 10, 0]);
    for (const bad of ['1.0', '01.0.0', '1.0.0-rc1', ' 1.0.0', 'x']) expect(parseSemver(bad)).toBeUndefined();
  });

  it('orders numerically, not lexically', () => {
    expect(compareVersions('1.10.0', '1.9.0')).toBeGreaterThan(0);
    expect(compareVersions('0.3.1', '0.4.0')).toBeLessThan(0);
    expect(compareVersions('1.1.0', '1.1.0')).toBe(0);
    expect(versionAtLeast('0.4.0', '0.4.0')).toBe(true);
    expect(versionAtLeast('0.3.1', '0.4.0')).toBe(false);
  });

  it('an invalid version in a comparison -> code 1 naming it', () => {
    try {
      compareVersions('1.0.0', 'one');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CniError);
      expect((e as CniError).code).toBe(Code.IncompatibleVersion);
      expect((e as CniError).message).toContain('"one"');
    }
  });
});

describe('pickVersion', () => {
  it.each<[string | undefined, string[] | undefined, string]>([
    ['1.0.0', undefined, '1.0.0'],
    ['1.0.0', ['0.4.0', '1.1.0'], '1.1.0'],
    ['1.1.0', ['0.3.1'], '1.1.0'],
    ['0.2.0', ['0.4.0', '0.3.0'], '0.4.0'],
    ['3.0.0', ['1.0.0', '2.0.0', 'garbage'], '1.0.0'],
    [undefined, ['0.3.1'], '0.3.1'],
  ])('cniVersion %j + cniVersions %j -> %s', (cv, cvs, want) => {
    expect(pickVersion(cv, cvs)).toBe(want);
  });

  it.each<[string | undefined, string[] | undefined]>([
    ['0.2.0', undefined],
    ['2.0.0', ['0.1.0']],
    [undefined, undefined],
    ['', []],
  ])('nothing supported (%j, %j) -> code 1 listing what braid supports', (cv, cvs) => {
    try {
      pickVersion(cv, cvs);
      expect.unreachable();
    } catch (e) {
      expect((e as CniError).code).toBe(Code.IncompatibleVersion);
      expect((e as CniError).message).toContain('0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0');
      if (cv) expect((e as CniError).message).toContain(cv);
    }
  });
});

describe('versionInfo', () => {
  it('answers VERSION with the asked version and every supported one', () => {
    expect(versionInfo('0.4.0')).toStrictEqual({ cniVersion: '0.4.0', supportedVersions: [...SUPPORTED_VERSIONS] });
    expect(versionInfo().cniVersion).toBe('1.1.0');
  });
});
