// libcni's result cache (libcni/api.go cacheAdd/getCachedResult).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Code } from '../../src/cni/errors.js';
import {
  configBytes,
  decodeRecord,
  listRecords,
  readRecord,
  recordPath,
  removeRecord,
  writeRecord,
  type AttachmentKey,
  type CacheRecord,
} from '../../src/engine/result-cache.js';
import { errorOf } from '../helpers/cni-error.js';

let tmp: string;
let cacheDir: string;
beforeEach(() => {
  tmp = mkdtempSync(join(os.tmpdir(), 'braid-cache-'));
  cacheDir = join(tmp, 'cache');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const CID = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const key: AttachmentKey = { network: 'net1', containerId: CID, ifname: 'eth0' };
const listText = '{"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"bridge"}]}';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function record(over: Partial<CacheRecord> = {}): CacheRecord {
  return {
    kind: 'cniCacheV1',
    containerId: CID,
    config: b64(listText),
    ifName: 'eth0',
    networkName: 'net1',
    netns: '/var/run/netns/cni-1',
    cniArgs: [['K8S_POD_NAME', 'web-0']],
    capabilityArgs: { portMappings: [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }] },
    result: { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }], dns: {} },
    ...over,
  };
}

const mode = (p: string) => statSync(p).mode & 0o777;


describe('recordPath', () => {
  it('is <cacheDir>/results/<network>-<containerID>-<ifname>', () => {
    expect(recordPath('/var/lib/cni', key)).toBe(`/var/lib/cni/results/net1-${CID}-eth0`);
    expect(recordPath('/c/', { network: 'a.b_c', containerId: 'x-y', ifname: 'net1' })).toBe('/c/results/a.b_c-x-y-net1');
  });
});

describe('writeRecord / readRecord', () => {
  it('round-trips the record', () => {
    const rec = record();
    writeRecord(cacheDir, rec);
    expect(readRecord(cacheDir, key)).toStrictEqual({ state: 'ok', record: rec });
  });

  it('writes the libcni JSON keys, config as standard base64', () => {
    writeRecord(cacheDir, record());
    const onDisk = JSON.parse(readFileSync(recordPath(cacheDir, key), 'utf8'));
    expect(onDisk).toMatchObject({ kind: 'cniCacheV1', containerId: CID, ifName: 'eth0', networkName: 'net1', netns: '/var/run/netns/cni-1' });
    expect(onDisk.config).toBe(Buffer.from(listText).toString('base64'));
  });

  it('creates a 0600 file in 0700 directories', () => {
    writeRecord(cacheDir, record());
    expect(mode(recordPath(cacheDir, key))).toBe(0o600);
    expect(mode(join(cacheDir, 'results'))).toBe(0o700);
    expect(mode(cacheDir)).toBe(0o700);
  });

  it('tightens an existing results dir and a looser existing file', () => {
    mkdirSync(join(cacheDir, 'results'), { recursive: true, mode: 0o755 });
    chmodSync(join(cacheDir, 'results'), 0o755);
    writeFileSync(recordPath(cacheDir, key), 'old', { mode: 0o644 });
    writeRecord(cacheDir, record());
    expect(mode(join(cacheDir, 'results'))).toBe(0o700);
    expect(mode(recordPath(cacheDir, key))).toBe(0o600);
    expect(readRecord(cacheDir, key).state).toBe('ok');
  });

  it('is atomic: no temp file is left and a rewrite replaces the record', () => {
    writeRecord(cacheDir, record());
    writeRecord(cacheDir, record({ netns: '/proc/1/ns/net' }));
    expect(readdirSync(join(cacheDir, 'results'))).toEqual([`net1-${CID}-eth0`]);
    const r = readRecord(cacheDir, key);
    expect(r.state === 'ok' && r.record.netns).toBe('/proc/1/ns/net');
  });

  it.each([
    ['unicode', '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","note":"日本語 ünï 🚀 \\u00e9"}]}'],
    ['odd whitespace', '\n\t{ "cniVersion" :"1.0.0" ,\r\n  "name":"n",\u00a0"plugins":[ {"type":"bridge"} ] }  \n\n'],
    ['empty', ''],
  ])('config bytes decode byte-identical (%s)', (_what, text) => {
    writeRecord(cacheDir, record({ config: b64(text) }));
    const r = readRecord(cacheDir, key);
    if (r.state !== 'ok') throw new Error(`state ${r.state}`);
    expect(configBytes(r.record)).toBe(text);
    expect(Buffer.from(configBytes(r.record), 'utf8').equals(Buffer.from(text, 'utf8'))).toBe(true);
  });

  it('missing -> missing', () => {
    expect(readRecord(cacheDir, key)).toStrictEqual({ state: 'missing' });
    mkdirSync(join(cacheDir, 'results'), { recursive: true });
    expect(readRecord(cacheDir, key)).toStrictEqual({ state: 'missing' });
  });

  const corrupt: Array<[string, string]> = [
    ['empty file', ''],
    ['truncated', JSON.stringify(record()).slice(0, 57)],
    ['garbage', '\u0000\u0001binary'],
    ['null', 'null'],
    ['array', '[1,2]'],
    ['string', '"cniCacheV1"'],
    ['other kind', JSON.stringify({ ...record(), kind: 'cniCacheV2' })],
    ['no config', JSON.stringify({ ...record(), config: undefined })],
    ['config not a string', JSON.stringify({ ...record(), config: [1, 2] })],
    ['no networkName', JSON.stringify({ ...record(), networkName: undefined })],
    ['no containerId', JSON.stringify({ ...record(), containerId: undefined })],
    ['no ifName', JSON.stringify({ ...record(), ifName: 7 })],
  ];
  it.each(corrupt)('%s -> corrupt, never throws', (_what, text) => {
    mkdirSync(join(cacheDir, 'results'), { recursive: true });
    writeFileSync(recordPath(cacheDir, key), text);
    const r = readRecord(cacheDir, key);
    expect(r.state).toBe('corrupt');
    expect(r.state === 'corrupt' && typeof r.reason).toBe('string');
    expect(decodeRecord(text).state).toBe('corrupt');
  });

  it('a directory where the record should be -> corrupt', () => {
    mkdirSync(recordPath(cacheDir, key), { recursive: true });
    expect(readRecord(cacheDir, key).state).toBe('corrupt');
  });
});

describe('unsafe keys are rejected before any file is touched', () => {
  const bad: Array<[string, Partial<AttachmentKey>]> = [];
  for (const v of ['../x', 'a/b', 'a\u0000b', 'x'.repeat(300), '..', '', '/abs']) {
    bad.push([`network ${JSON.stringify(v).slice(0, 20)}`, { network: v }]);
    bad.push([`containerId ${JSON.stringify(v).slice(0, 20)}`, { containerId: v }]);
    bad.push([`ifname ${JSON.stringify(v).slice(0, 20)}`, { ifname: v }]);
  }
  it.each(bad)('%s', (_what, over) => {
    const k = { ...key, ...over };
    const rec = record({ networkName: k.network, containerId: k.containerId, ifName: k.ifname });
    for (const fn of [
      () => recordPath(cacheDir, k),
      () => writeRecord(cacheDir, rec),
      () => readRecord(cacheDir, k),
      () => removeRecord(cacheDir, k),
    ]) {
      const e = errorOf(fn);
      expect(e.code).toBe('network' in over ? Code.InvalidConfig : Code.InvalidEnv);
    }
    expect(existsSync(cacheDir)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('names too long for one file name', () => {
  // Each part is valid, but together they exceed NAME_MAX (255): no record can exist.
  const long: AttachmentKey = { network: 'n'.repeat(200), containerId: CID, ifname: 'eth0' };

  it('write fails with an I/O error', () => {
    expect(errorOf(() => writeRecord(cacheDir, record({ networkName: long.network }))).code).toBe(Code.IOFailure);
  });

  it('read is missing and remove is a no-op, so DEL stays idempotent', () => {
    mkdirSync(join(cacheDir, 'results'), { recursive: true });
    expect(readRecord(cacheDir, long)).toStrictEqual({ state: 'missing' });
    expect(() => removeRecord(cacheDir, long)).not.toThrow();
  });
});

describe('removeRecord', () => {
  it('removes the record and tolerates a missing one', () => {
    writeRecord(cacheDir, record());
    removeRecord(cacheDir, key);
    expect(readRecord(cacheDir, key).state).toBe('missing');
    expect(() => removeRecord(cacheDir, key)).not.toThrow();
    expect(() => removeRecord(join(tmp, 'nope'), key)).not.toThrow();
  });

  it('leaves other attachments alone', () => {
    writeRecord(cacheDir, record());
    writeRecord(cacheDir, record({ ifName: 'net1' }));
    removeRecord(cacheDir, key);
    expect(readRecord(cacheDir, { ...key, ifname: 'net1' }).state).toBe('ok');
  });

  it('reports a failure other than absence as I/O (code 5)', () => {
    mkdirSync(join(recordPath(cacheDir, key), 'inner'), { recursive: true });
    expect(errorOf(() => removeRecord(cacheDir, key)).code).toBe(Code.IOFailure);
  });
});

describe('listRecords', () => {
  it('is empty without a cache', () => {
    expect(listRecords(cacheDir)).toStrictEqual({ records: [], broken: [] });
  });

  it('returns readable records and reports broken files', () => {
    const a = record();
    const b = record({ networkName: 'net2', containerId: 'c2', ifName: 'net1' });
    writeRecord(cacheDir, a);
    writeRecord(cacheDir, b);
    const dir = join(cacheDir, 'results');
    writeFileSync(join(dir, 'net1-c3-eth0'), '{"kind":"cniCacheV1","config":');
    writeFileSync(join(dir, 'net1-c4-eth0'), JSON.stringify({ kind: 'cniCacheV1', config: '', networkName: 'net1' }));
    writeFileSync(join(dir, '.net1-c5-eth0.abcdef.tmp'), 'half a write');
    mkdirSync(join(dir, 'a-directory'));
    const { records, broken } = listRecords(cacheDir);
    expect(records.sort((x, y) => x.networkName.localeCompare(y.networkName))).toStrictEqual([a, b]);
    expect(broken.sort()).toEqual(['a-directory', 'net1-c3-eth0', 'net1-c4-eth0']);
  });
});
