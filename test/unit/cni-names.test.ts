// Identifier rules (the CNI spec): network names, container IDs, interface names, plugin types.
import { describe, expect, it } from 'vitest';
import { Code } from '../../src/cni/errors.js';
import {
  MAX_IFNAME,
  interfaceNameProblem,
  validateContainerId,
  validateInterfaceName,
  validateName,
  validateNetworkName,
  validatePluginType,
} from '../../src/cni/names.js';
import { errorOf } from '../helpers/cni-error.js';


const good = ['a', 'Z9', '0', 'net-1', 'my_net.v2', 'a..b', 'a-', '4b8f2c1e'.repeat(8)];
const bad = ['-a', '_a', '.a', '..', '../x', 'a/b', 'a b', 'a\tb', 'a:b', 'a;b', 'é', 'a\u0000b', 'x'.repeat(254), 'x'.repeat(300)];

describe('validateName', () => {
  it.each(good)('accepts %j', (v) => {
    expect(validateName(v, 'f')).toBe(v);
  });

  it.each(bad)('rejects %j naming the field and value', (v) => {
    const e = errorOf(() => validateName(v, 'networks[0].name'));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('networks[0].name');
    expect(e.message).toContain(JSON.stringify(v).slice(0, 50));
  });

  it.each([undefined, null, '', 5])('%j is required', (v) => {
    expect(errorOf(() => validateName(v, 'f')).message).toBe('f is required');
  });

  it('uses the code given', () => {
    expect(errorOf(() => validateName('-', 'f', Code.InvalidEnv)).code).toBe(Code.InvalidEnv);
  });

  it('network names are code 7, container IDs code 4', () => {
    expect(errorOf(() => validateNetworkName('a/b')).code).toBe(Code.InvalidConfig);
    const e = errorOf(() => validateContainerId('a/b'));
    expect(e.code).toBe(Code.InvalidEnv);
    expect(e.message).toContain('CNI_CONTAINERID');
    expect(e.message).toContain('"a/b"');
  });
});

describe('interface names', () => {
  it.each(['eth0', 'net1', 'a', 'x'.repeat(MAX_IFNAME), 'veth-1_a.b', 'é'])('accepts %j', (n) => {
    expect(interfaceNameProblem(n)).toBeUndefined();
    expect(validateInterfaceName(n)).toBe(n);
  });

  it.each<[string, string]>([
    ['', 'is empty'],
    ['x'.repeat(16), 'exceeds 15 characters'],
    ['averyveryverylongname', 'exceeds 15 characters'],
    ['.', '"." or ".."'],
    ['..', '"." or ".."'],
    ['a/b', "'/'"],
    ['a:b', "':'"],
    ['a b', 'whitespace'],
    ['a\tb', 'whitespace'],
    ['a\nb', 'whitespace'],
    ['a\u0000b', 'NUL'],
  ])('rejects %j (%s) with code 4 naming the value', (n, why) => {
    expect(interfaceNameProblem(n)).toContain(why);
    const e = errorOf(() => validateInterfaceName(n));
    expect(e.code).toBe(Code.InvalidEnv);
    expect(e.message).toContain(JSON.stringify(n));
    expect(e.message).toContain('CNI_IFNAME');
  });

  it('uses the field and code given', () => {
    const e = errorOf(() => validateInterfaceName('a/b', 'networks[1].interface', Code.InvalidConfig));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('networks[1].interface');
    expect(errorOf(() => validateInterfaceName(undefined)).message).toBe('CNI_IFNAME is required');
  });
});

describe('validatePluginType', () => {
  it.each(['bridge', 'host-local', 'a..b', 'sriov.v2'])('accepts %j', (t) => {
    expect(validatePluginType(t)).toBe(t);
  });

  it.each(['', '.', '..', '/bin/sh', '../bridge', 'a/b', 'a\\b', 'br\u0000'])('rejects %j with code 7', (t) => {
    const e = errorOf(() => validatePluginType(t, 'plugins[2].type'));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('plugins[2].type');
  });

  it.each([undefined, 7, null])('a missing type %j is required', (t) => {
    expect(errorOf(() => validatePluginType(t)).message).toBe('type is required');
  });
});
