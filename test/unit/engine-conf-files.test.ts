// Configs on disk the way libcni finds them (the CNI spec; libcni/conf.go LoadConfList).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Code } from '../../src/cni/errors.js';
import { configFiles, firstConfigIn, loadConfListByName, readConfigFile } from '../../src/engine/conf-files.js';
import { errorOf } from '../helpers/cni-error.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'braid-conf-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const conflist = (name: string, type = 'bridge') =>
  JSON.stringify({ cniVersion: '1.0.0', name, plugins: [{ type }] });
const conf = (name: string, type = 'bridge') => JSON.stringify({ cniVersion: '0.4.0', name, type });
const put = (file: string, text: string) => writeFileSync(join(dir, file), text);
const names = (files: string[]) => files.map((f) => basename(f));


describe('configFiles', () => {
  it('lists conflists first, then .conf/.json together, each in lexical order', () => {
    put('99-z.conf', conf('z'));
    put('10-b.conflist', conflist('b'));
    put('01-d.json', conf('d'));
    put('20-a.conflist', conflist('a'));
    put('05-c.conf', conf('c'));
    put('00-first.conflist', conflist('first'));
    put('README.md', 'x');
    put('50-x.conflist.bak', 'x');
    put('.hidden.conflist', conflist('hidden'));
    mkdirSync(join(dir, '30-dir.conflist'));
    expect(names(configFiles(dir))).toEqual([
      '00-first.conflist',
      '10-b.conflist',
      '20-a.conflist',
      '01-d.json',
      '05-c.conf',
      '99-z.conf',
    ]);
  });

  it('sorts by code point, uppercase before lowercase, like Go sort.Strings', () => {
    for (const f of ['b.conflist', 'B.conflist', 'a.conflist', '10.conflist', '9.conflist']) put(f, conflist('x'));
    expect(names(configFiles(dir))).toEqual(['10.conflist', '9.conflist', 'B.conflist', 'a.conflist', 'b.conflist']);
  });

  it('filters by the extensions given', () => {
    put('a.conflist', conflist('a'));
    put('b.conf', conf('b'));
    put('c.json', conf('c'));
    expect(names(configFiles(dir, ['.conf']))).toEqual(['b.conf']);
    expect(names(configFiles(dir, ['.conflist']))).toEqual(['a.conflist']);
  });

  it('a missing directory has no files', () => {
    expect(configFiles(join(dir, 'nope'))).toEqual([]);
  });
});

describe('loadConfListByName', () => {
  it('prefers a conflist over an earlier-sorting .conf of the same name', () => {
    put('00-net.conf', conf('net', 'macvlan'));
    put('99-net.conflist', conflist('net', 'bridge'));
    const l = loadConfListByName(dir, 'net')!;
    expect(l.plugins[0]!.type).toBe('bridge');
    expect(l.bytes).toBe(conflist('net', 'bridge'));
  });

  it('takes the lexically first of two conflists with the same name', () => {
    put('20-net.conflist', conflist('net', 'second'));
    put('10-net.conflist', conflist('net', 'first'));
    expect(loadConfListByName(dir, 'net')!.plugins[0]!.type).toBe('first');
  });

  it('up-converts a .conf or .json to a one-plugin list', () => {
    put('10-other.conflist', conflist('other'));
    put('20-net.json', conf('net', 'ipvlan'));
    const l = loadConfListByName(dir, 'net')!;
    expect(l.name).toBe('net');
    expect(l.cniVersion).toBe('0.4.0');
    expect(l.plugins).toStrictEqual([{ cniVersion: '0.4.0', name: 'net', type: 'ipvlan' }]);
  });

  it('a broken JSON neighbour does not hide the wanted network', () => {
    put('00-broken.conflist', '{"cniVersion": "1.0.0", "name": "net", "plugins": [');
    put('01-null.conflist', 'null');
    put('02-array.conflist', '[]');
    put('03-invalid.conflist', conflist('other', '../evil'));
    put('10-net.conflist', conflist('net'));
    expect(loadConfListByName(dir, 'net')!.name).toBe('net');
  });

  it('is undefined when no file has the name', () => {
    put('10-a.conflist', conflist('a'));
    expect(loadConfListByName(dir, 'b')).toBeUndefined();
    expect(loadConfListByName(join(dir, 'nope'), 'b')).toBeUndefined();
  });

  it('a wanted network that is invalid is an error, not skipped', () => {
    put('10-net.conflist', JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [] }));
    put('20-net.conf', conf('net'));
    expect(errorOf(() => loadConfListByName(dir, 'net')).code).toBe(Code.InvalidConfig);
  });

  it.each(['../etc', 'a/b', '..', '', '/etc/cni', 'x\u0000'])('rejects the name %j (code 7)', (name) => {
    put('10-a.conflist', conflist('a'));
    const e = errorOf(() => loadConfListByName(dir, name));
    expect(e.code).toBe(Code.InvalidConfig);
  });
});

describe('readConfigFile', () => {
  it('keeps the bytes of a list file', () => {
    const text = `  ${conflist('net')}\n`;
    put('a.conflist', text);
    expect(readConfigFile(join(dir, 'a.conflist')).bytes).toBe(text);
  });

  it('a missing file -> code 5', () => {
    expect(errorOf(() => readConfigFile(join(dir, 'nope.conflist'))).code).toBe(Code.IOFailure);
  });

  it('a file over 1 MiB -> code 5', () => {
    put('big.conflist', ' '.repeat(1024 * 1024 + 1));
    const e = errorOf(() => readConfigFile(join(dir, 'big.conflist')));
    expect(e.code).toBe(Code.IOFailure);
    expect(e.message).toContain('big.conflist');
  });

  it('invalid JSON -> code 6 naming the file', () => {
    put('bad.conflist', '{');
    const e = errorOf(() => readConfigFile(join(dir, 'bad.conflist')));
    expect(e.code).toBe(Code.DecodeFailure);
    expect(e.message).toContain(join(dir, 'bad.conflist'));
  });
});

describe('firstConfigIn', () => {
  it('returns the first valid config, skipping broken ones', () => {
    put('00-broken.conflist', '{');
    put('01-noplugins.conflist', JSON.stringify({ cniVersion: '1.0.0', name: 'x', plugins: [] }));
    put('10-good.conflist', conflist('good'));
    put('05-conf.conf', conf('conf'));
    const r = firstConfigIn(dir)!;
    expect(basename(r.file)).toBe('10-good.conflist');
    expect(r.list.name).toBe('good');
  });

  it('skips files by predicate', () => {
    put('00-braid.conflist', conflist('braid', 'braid'));
    put('10-cluster.conflist', conflist('cluster'));
    put('20-conf.conf', conf('conf'));
    const seen: string[] = [];
    const r = firstConfigIn(dir, (f) => {
      seen.push(basename(f));
      return basename(f).includes('braid');
    })!;
    expect(r.list.name).toBe('cluster');
    expect(seen).toEqual(['00-braid.conflist', '10-cluster.conflist']);
    expect(firstConfigIn(dir, (f) => f.endsWith('.conflist'))!.list.name).toBe('conf');
  });

  it('is undefined when nothing usable is there', () => {
    put('00-broken.conflist', '{');
    expect(firstConfigIn(dir)).toBeUndefined();
    expect(firstConfigIn(join(dir, 'nope'))).toBeUndefined();
    expect(firstConfigIn(dir, () => true)).toBeUndefined();
  });
});
