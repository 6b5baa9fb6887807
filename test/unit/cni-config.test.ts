// Conflist / conf parsing (the CNI spec; libcni/conf.go NetworkConfFromBytes, ConfListFromConf).
import { describe, expect, it } from 'vitest';
import { Code } from '../../src/cni/errors.js';
import { confToConfList, parseAnyConfig, parseConfList, parseConfigBytes, parseJsonObject } from '../../src/cni/config.js';
import { errorOf } from '../helpers/cni-error.js';


const list = (over: Record<string, unknown> = {}) => ({
  cniVersion: '1.0.0',
  name: 'net1',
  plugins: [{ type: 'bridge', bridge: 'cni0' }, { type: 'portmap', capabilities: { portMappings: true } }],
  ...over,
});

describe('parseConfList envelope', () => {
  it('parses a plain list', () => {
    const raw = list();
    const l = parseConfList(raw);
    expect(l).toMatchObject({ cniVersion: '1.0.0', declaredVersion: '1.0.0', name: 'net1', disableCheck: false, disableGC: false });
    expect(l.plugins).toStrictEqual(raw.plugins);
    expect(l.raw).toBe(raw);
  });

  it.each<[string, unknown, string]>([
    ['1.0.0', ['0.4.0', '1.1.0'], '1.1.0'],
    ['1.1.0', ['0.4.0'], '1.1.0'],
    ['0.2.0', ['0.3.1', '0.4.0'], '0.4.0'],
    ['2.0.0', ['9.9.9', '1.0.0'], '1.0.0'],
    ['0.4.0', [], '0.4.0'],
    ['0.3.0', ['not-a-version'], '0.3.0'],
  ])('cniVersion %s with cniVersions %j speaks %s', (cniVersion, cniVersions, want) => {
    const l = parseConfList(list({ cniVersion, cniVersions }));
    expect(l.cniVersion).toBe(want);
    expect(l.declaredVersion).toBe(cniVersion);
  });

  it.each<[string, unknown]>([
    ['0.2.0', undefined],
    ['2.0.0', ['0.1.0', '1.2.0']],
    ['0.1.0', []],
  ])('no supported version (%s, %j) -> code 1', (cniVersion, cniVersions) => {
    const e = errorOf(() => parseConfList(list({ cniVersion, cniVersions })));
    expect(e.code).toBe(Code.IncompatibleVersion);
    expect(e.message).toContain(cniVersion);
  });

  it('a missing cniVersion is invalid config', () => {
    const { cniVersion: _c, ...raw } = list();
    const e = errorOf(() => parseConfList(raw));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('cniVersion');
  });

  it.each(['a', 'net1', 'my_net.v2-a', '0abc', 'A'.repeat(253)])('accepts name %j', (name) => {
    expect(parseConfList(list({ name })).name).toBe(name);
  });

  it.each(['-net', '.net', '_net', 'a b', 'a/b', '../x', 'net:1', 'ünï', 'a\u0000b', 'A'.repeat(254)])('rejects name %j with code 7', (name) => {
    const e = errorOf(() => parseConfList(list({ name })));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain(JSON.stringify(name).slice(0, 40));
  });

  it.each([undefined, '', 7])('rejects a missing/empty/non-string name %j', (name) => {
    const e = errorOf(() => parseConfList(list({ name })));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('name');
  });

  it.each<[unknown, boolean]>([
    [true, true],
    [false, false],
    ['true', true],
    ['false', false],
    ['TRUE', true],
    ['False', false],
  ])('disableCheck/disableGC %j -> %s', (value, want) => {
    const l = parseConfList(list({ disableCheck: value, disableGC: value }));
    expect(l.disableCheck).toBe(want);
    expect(l.disableGC).toBe(want);
  });

  it.each(['yes', '1', 1, null, ['true']])('disableCheck %j is invalid', (value) => {
    const e = errorOf(() => parseConfList(list({ disableCheck: value })));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('disableCheck');
    expect(errorOf(() => parseConfList(list({ disableGC: value }))).message).toContain('disableGC');
  });
});

describe('parseConfList plugins', () => {
  it.each<[string, unknown]>([
    ['empty', []],
    ['missing', undefined],
    ['not a list', { type: 'bridge' }],
  ])('%s plugins -> code 7', (_what, plugins) => {
    const e = errorOf(() => parseConfList(list({ plugins })));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('plugins');
  });

  it('a plugin without type -> code 7 naming plugins[i].type', () => {
    const e = errorOf(() => parseConfList(list({ plugins: [{ type: 'bridge' }, { bridge: 'cni0' }] })));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('plugins[1].type');
  });

  it.each([null, 'bridge', 3, ['bridge']])('a non-object plugin %j -> code 7', (p) => {
    const e = errorOf(() => parseConfList(list({ plugins: [p] })));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('plugins[0]');
  });

  it.each(['', '/opt/cni/bin/bridge', '../bridge', 'a/b', '..', '.', 'a\\b', 'bri\u0000dge'])('type %j -> code 7', (type) => {
    const e = errorOf(() => parseConfList(list({ plugins: [{ type: 'bridge' }, { type }] })));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('plugins[1].type');
  });

  it.each(['bridge', 'host-local', 'my.plugin', 'a..b'])('type %j is a plain binary name', (type) => {
    expect(parseConfList(list({ plugins: [{ type }] })).plugins[0]!.type).toBe(type);
  });

  it('a bad capabilities map -> code 7 naming it', () => {
    const e = errorOf(() => parseConfList(list({ plugins: [{ type: 'portmap', capabilities: { portMappings: 'yes' } }] })));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('plugins[0].capabilities.portMappings');
  });

  it('keeps unknown and reserved keys of each plugin byte-for-byte', () => {
    const text = `{"cniVersion":"1.1.0","name":"n","x-top":{"k":1},"plugins":[
      {"type":"bridge","zzz":1,"aaa":{"nested":[1,2.5,"s",null,true,{"é":"ü"}]},"runtimeConfig":{"mac":"aa"},
       "args":{"cni":{"ips":["10.0.0.2/24"]}},"cni.dev/attachment":"x","ipam":{"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24"}]],"weird":"\\u2028"}},
      {"type":"tuning","sysctl":{"net.ipv4.conf.eth0.accept_redirects":"0"}}]}`;
    const l = parseConfigBytes(text);
    const want = JSON.parse(text) as { plugins: unknown[] };
    expect(l.plugins).toStrictEqual(want.plugins);
    for (let i = 0; i < want.plugins.length; i++) {
      expect(JSON.stringify(l.plugins[i])).toBe(JSON.stringify(want.plugins[i]));
    }
    expect(l.raw['x-top']).toStrictEqual({ k: 1 });
  });
});

describe('single .conf up-conversion', () => {
  const conf = {
    cniVersion: '0.3.1',
    name: 'mynet',
    type: 'bridge',
    bridge: 'cni0',
    ipam: { type: 'host-local', subnet: '10.1.0.0/16' },
    dns: { nameservers: ['10.1.0.1'] },
  };

  it('confToConfList wraps the whole conf as the only plugin', () => {
    expect(confToConfList(conf)).toStrictEqual({ cniVersion: '0.3.1', name: 'mynet', plugins: [conf] });
  });

  it('parseAnyConfig gives a one-element list', () => {
    const l = parseAnyConfig({ ...conf });
    expect(l.name).toBe('mynet');
    expect(l.cniVersion).toBe('0.3.1');
    expect(l.plugins).toStrictEqual([conf]);
    expect(l.disableCheck).toBe(false);
  });

  it('parseAnyConfig passes a list through', () => {
    expect(parseAnyConfig(list()).plugins).toHaveLength(2);
  });

  it('neither plugins nor type -> code 7', () => {
    const e = errorOf(() => parseAnyConfig({ cniVersion: '1.0.0', name: 'x' }, 'network config /etc/cni/net.d/x.conf'));
    expect(e.code).toBe(Code.InvalidConfig);
    expect(e.message).toContain('/etc/cni/net.d/x.conf');
  });

  it('a conf with a bad name or type is still checked', () => {
    expect(errorOf(() => parseAnyConfig({ ...conf, name: '../x' })).code).toBe(Code.InvalidConfig);
    expect(errorOf(() => parseAnyConfig({ ...conf, type: '../bridge' })).code).toBe(Code.InvalidConfig);
  });
});

describe('parseConfigBytes / parseJsonObject', () => {
  it('keeps the exact bytes of a list', () => {
    const text = '{\n\t"cniVersion" : "1.0.0",  "name":"ünïcode-free",\r\n "plugins":[{"type":"bridge","note":"日本語 \\u00e9"}]   }\n';
    const bad = () => parseConfigBytes(text);
    expect(errorOf(bad).code).toBe(Code.InvalidConfig); // name is not ASCII
    const ok = text.replace('ünïcode-free', 'net1');
    const l = parseConfigBytes(ok);
    expect(l.bytes).toBe(ok);
    expect(l.plugins[0]).toStrictEqual({ type: 'bridge', note: '日本語 é' });
  });

  it.each(['', '{', '{"cniVersion":"1.0.0",}', 'nul', "{'a':1}"])('invalid JSON %j -> code 6', (text) => {
    const e = errorOf(() => parseConfigBytes(text, 'network config x.conflist'));
    expect(e.code).toBe(Code.DecodeFailure);
    expect(e.message).toContain('network config x.conflist');
  });

  it.each(['null', '[]', '"s"', '42', 'true'])('JSON that is not an object %s -> code 6', (text) => {
    expect(errorOf(() => parseConfigBytes(text)).code).toBe(Code.DecodeFailure);
  });

  it('accepts a Buffer', () => {
    expect(parseJsonObject(Buffer.from('{"a":"é"}'), 'x')).toStrictEqual({ a: 'é' });
  });
});
