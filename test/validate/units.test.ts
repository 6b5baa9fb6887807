// The small pure pieces: pointers, positions, suggestions, IP parsing.
import { describe, expect, it } from 'vitest';
import { editDistance, suggest } from '../../src/validate/did-you-mean.js';
import { formatCidr, isMac, parseCidr, parseIP } from '../../src/validate/ip-utils.js';
import { fieldPath, parsePointer, ptr } from '../../src/validate/json-pointer.js';
import { jsonErrorOffset, jsonLocator, locateJsonPointer } from '../../src/validate/text-position.js';
import { validateTexts } from './helpers.js';

describe('json pointers', () => {
  it('escape and read RFC 6901 pointers', () => {
    expect(ptr('metadata', 'annotations', 'k8s.v1.cni.cncf.io/networks')).toBe('/metadata/annotations/k8s.v1.cni.cncf.io~1networks');
    expect(parsePointer('/a~1b/c~0d/0')).toEqual(['a/b', 'c~d', '0']);
    expect(fieldPath('/plugins/0/ipam/ranges/0/1/gateway')).toBe('plugins[0].ipam.ranges[0][1].gateway');
  });
});

describe('positions', () => {
  const text = '{\n  "a": {"b": [10, {"c": "x"}]},\n  "d~/": 1\n}';
  it('finds keys and elements in JSON text', () => {
    const at = (p: string) => jsonLocator(text)(p);
    expect(at('/a/b/1/c')).toEqual({ line: 2, column: 20 });
    expect(at('/a/b/0')).toEqual({ line: 2, column: 15 });
    expect(at('/d~0~1')).toEqual({ line: 3, column: 3 });
    expect(at('/a/missing')).toEqual({ line: 2, column: 3 }); // deepest existing parent
    expect(locateJsonPointer(text, '')).toBe(0);
  });
  it('locates JSON syntax errors, with or without V8 giving a position', () => {
    const bad = '{\n  "a": [1,\n  ]\n}';
    expect(jsonErrorOffset("Unexpected token ']'", bad)).toBe(bad.indexOf(']'));
    expect(jsonErrorOffset('Expected x in JSON at position 7', bad)).toBe(7);
  });
  it('maps findings inside a NAD block literal to exact lines and columns', async () => {
    const yaml = 'apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: n\nspec:\n  config: |\n    {\n      "cniVersion": "1.0.0",\n      "name": "n",\n      "type": "macvlan",\n      "mode": "vepa2"\n    }\n';
    const { findings } = await validateTexts({ 'n.yaml': yaml });
    expect(findings).toMatchObject([{ code: 'BRD203', pointer: '/spec/config/mode', line: 11, column: 7 }]);
  });
});

describe('did you mean', () => {
  it('counts a transposition as one slip', () => {
    expect(editDistance('isGatway', 'isGateway')).toBe(1);
    expect(editDistance('mdoe', 'mode')).toBe(1);
  });
  it('suggests close words only, and flags case-only differences', () => {
    expect(suggest('isGatway', ['isGateway', 'ipMasq'])).toEqual({ word: 'isGateway', caseOnly: false });
    expect(suggest('IPMASQ', ['isGateway', 'ipMasq'])).toEqual({ word: 'ipMasq', caseOnly: true });
    expect(suggest('foo', ['isGateway', 'ipMasq'])).toBeUndefined();
  });
});

describe('ip parsing (as strict as Go)', () => {
  it('parses dotted quads and IPv6, refuses short forms', () => {
    expect(parseIP('198.18.0.1')?.family).toBe(4);
    expect(parseIP('fd00::1')?.family).toBe(6);
    expect(parseIP('10.1')).toBeUndefined();
    expect(parseIP('1.2.3.256')).toBeUndefined();
    expect(parseIP('::ffff:10.0.0.1')?.family).toBe(4);
  });
  it('parses CIDRs with their network and last address', () => {
    const c = parseCidr('198.18.1.7/24')!;
    expect(formatCidr(c)).toBe('198.18.1.0/24');
    expect(c.addr).not.toBe(c.network);
    expect(parseCidr('fd00:1::/64')!.prefix).toBe(64);
    expect(parseCidr('198.18.0.0/33')).toBeUndefined();
    expect(parseCidr('198.18.0.0')).toBeUndefined();
  });
  it('knows MAC addresses the way net.ParseMAC does', () => {
    expect(isMac('02:00:00:00:00:01')).toBe(true);
    expect(isMac('02-00-00-00-00-01')).toBe(true);
    expect(isMac('0200.0000.0001')).toBe(true);
    expect(isMac('02:00:00:00:00')).toBe(false);
    expect(isMac('02:00-00:00:00:01')).toBe(false);
  });
});

describe('documents', () => {
  it('skips other Kubernetes kinds silently and warns about unknown documents', async () => {
    const { findings } = await validateTexts({
      'svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\nfoo: bar\n',
    });
    expect(findings.map((f) => f.code)).toEqual(['BRD104']);
  });
  it('validates the networks inlined in braid config, and braid.schema.json when present', async () => {
    const conf = { cniVersion: '1.0.0', name: 'braid', type: 'braid', delegates: [{ name: 'cbr0', plugins: [{ type: 'tuning' }] }] };
    const { findings } = await validateTexts({ '00-braid.conf': JSON.stringify(conf) });
    expect(findings.map((f) => `${f.code} ${f.pointer}`)).toContain('BRD305 /delegates/0/plugins/0/type');
  });
  it('unreadable files are findings, not crashes', async () => {
    const { validateFiles } = await import('../../src/validate/validate.js');
    const r = await validateFiles([{ file: 'gone.conf', dir: '.', readError: 'EACCES' }]);
    expect(r.findings.map((f) => f.code)).toEqual(['BRD106']);
  });
  it('a duplicate name in another directory is only a warning', async () => {
    const { validateFiles } = await import('../../src/validate/validate.js');
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'same', plugins: [{ type: 'loopback' }] });
    const r = await validateFiles([{ file: 'a/x.conflist', dir: 'a', text: conf }, { file: 'b/x.conflist', dir: 'b', text: conf }]);
    expect(r.findings.map((f) => `${f.code} ${f.file}`)).toEqual(['BRD331 b/x.conflist']);
  });
});
