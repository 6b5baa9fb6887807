// zod issues -> one CniError naming field and value.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Code } from '../../src/cni/errors.js';
import { describeValue, formatPath, issuesToError } from '../../src/cni/zod-issues.js';

describe('formatPath', () => {
  it.each<[PropertyKey[], string, string]>([
    [[], '', '(root)'],
    [['ips', 0, 'address'], '', 'ips[0].address'],
    [[0, 'a'], '', '[0].a'],
    [['type'], 'plugins[3]', 'plugins[3].type'],
    [[], 'plugins[3]', 'plugins[3]'],
  ])('%j under %j', (path, root, want) => {
    expect(formatPath(path, root)).toBe(want);
  });
});

describe('describeValue', () => {
  it('shows missing, JSON, and truncates long values', () => {
    expect(describeValue(undefined)).toBe('missing');
    expect(describeValue('x')).toBe('"x"');
    expect(describeValue(() => 1)).toMatch(/=>/);
    const long = describeValue('y'.repeat(200));
    expect(long).toHaveLength(80);
    expect(long.endsWith('...')).toBe(true);
  });
});

describe('issuesToError', () => {
  const schema = z.object({ a: z.string(), b: z.array(z.number()) });

  it('names path and value with the given code', () => {
    const input = { a: 5, b: [1, 'two'] };
    const r = schema.safeParse(input);
    const e = issuesToError(r.error!, input, 'thing', Code.DecodeFailure);
    expect(e.code).toBe(Code.DecodeFailure);
    expect(e.message).toMatch(/^invalid thing: a: .* \(got 5\); b\[1\]: .* \(got "two"\)$/);
  });

  it('defaults to code 7 and caps at five issues', () => {
    const wide = z.object(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, z.string()])));
    const r = wide.safeParse({});
    const e = issuesToError(r.error!, {}, 'conf');
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('k4');
    expect(e.message).not.toContain('k5:');
    expect(e.message).toMatch(/; and 3 more$/);
  });
});
