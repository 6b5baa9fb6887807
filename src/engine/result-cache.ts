// libcni's result cache (libcni/api.go cacheAdd): <cacheDir>/results/<network>-<containerID>-<ifname>,
// kind "cniCacheV1", the list bytes base64-encoded exactly as Go marshals []byte, so DEL
// replays the very config ADD used.
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { jsonDepth, MAX_JSON_DEPTH } from '../cni/config.js';
import { CniError, Code } from '../cni/errors.js';
import { validateContainerId, validateInterfaceName, validateNetworkName } from '../cni/names.js';
import type { CniArgs } from '../cni/cni-args.js';
import { ensurePrivateDir, removeStaleTemps, writeFileAtomic } from './atomic-file.js';

export interface CacheRecord {
  kind: 'cniCacheV1';
  containerId: string;
  config: string; // base64 of the list bytes
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs?: CniArgs;
  capabilityArgs?: Record<string, unknown>;
  result?: unknown;
}

export interface AttachmentKey {
  network: string;
  containerId: string;
  ifname: string;
}

export function recordPath(cacheDir: string, key: AttachmentKey): string {
  // Every part is validated, so none can carry a '/' or '..' out of the directory.
  validateNetworkName(key.network, 'network name');
  validateContainerId(key.containerId);
  validateInterfaceName(key.ifname);
  return join(cacheDir, 'results', `${key.network}-${key.containerId}-${key.ifname}`);
}

export function writeRecord(cacheDir: string, rec: CacheRecord): void {
  const path = recordPath(cacheDir, { network: rec.networkName, containerId: rec.containerId, ifname: rec.ifName });
  try {
    ensurePrivateDir(cacheDir);
    ensurePrivateDir(join(cacheDir, 'results'));
    writeFileAtomic(path, JSON.stringify(rec));
  } catch (e) {
    throw new CniError(Code.IOFailure, `failed to write result cache ${path}: ${(e as Error).message}`);
  }
}

export type ReadOutcome = { state: 'missing' } | { state: 'ok'; record: CacheRecord } | { state: 'corrupt'; reason: string };

export function readRecord(cacheDir: string, key: AttachmentKey): ReadOutcome {
  const path = recordPath(cacheDir, key);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (cannotExist(e)) return { state: 'missing' };
    return { state: 'corrupt', reason: (e as Error).message };
  }
  return decodeRecord(text);
}

// DEL and GC use a record's fields as they are: a record whose fields have the wrong type, or that
// nests deeper than JSON.stringify can print, is corrupt rather than a crash later.
export const isCniArgsValue = (v: unknown): v is CniArgs =>
  Array.isArray(v) && v.every((kv) => Array.isArray(kv) && kv.length === 2 && typeof kv[0] === 'string' && typeof kv[1] === 'string');
export const isObjectValue = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
export const printableDepth = (text: string) => jsonDepth(text) <= MAX_JSON_DEPTH;

export function decodeRecord(text: string): ReadOutcome {
  try {
    const rec = JSON.parse(text) as CacheRecord;
    if (
      !rec ||
      rec.kind !== 'cniCacheV1' ||
      typeof rec.config !== 'string' ||
      typeof rec.networkName !== 'string' ||
      typeof rec.containerId !== 'string' ||
      typeof rec.ifName !== 'string' ||
      (rec.netns != null && typeof rec.netns !== 'string') ||
      (rec.cniArgs != null && !isCniArgsValue(rec.cniArgs)) ||
      (rec.capabilityArgs != null && !isObjectValue(rec.capabilityArgs)) ||
      !printableDepth(text)
    ) {
      return { state: 'corrupt', reason: 'not a cniCacheV1 record' };
    }
    return { state: 'ok', record: rec };
  } catch (e) {
    return { state: 'corrupt', reason: (e as Error).message };
  }
}

// No such record, and none could be there (a path component is a file, or the name is too long).
export const cannotExist = (e: unknown) => ['ENOENT', 'ENOTDIR', 'ENAMETOOLONG'].includes((e as NodeJS.ErrnoException).code ?? '');

export function removeRecord(cacheDir: string, key: AttachmentKey): void {
  const path = recordPath(cacheDir, key); // outside the try: a bad key keeps its own code
  try {
    unlinkSync(path);
  } catch (e) {
    if (!cannotExist(e)) {
      throw new CniError(Code.IOFailure, `failed to remove result cache: ${(e as Error).message}`);
    }
  }
  removeStaleTemps(path);
}

export const configBytes = (rec: CacheRecord) => Buffer.from(rec.config, 'base64').toString('utf8');

/** Every readable record (for GC); unreadable ones are reported, not fatal. */
export function listRecords(cacheDir: string): { records: CacheRecord[]; broken: string[] } {
  const dir = join(cacheDir, 'results');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { records: [], broken: [] };
  }
  const records: CacheRecord[] = [];
  const broken: string[] = [];
  for (const n of names) {
    if (n.startsWith('.')) continue;
    let text: string;
    try {
      text = readFileSync(join(dir, n), 'utf8');
    } catch {
      broken.push(n);
      continue;
    }
    const r = decodeRecord(text);
    if (r.state === 'ok') records.push(r.record);
    else broken.push(n);
  }
  return { records, broken };
}
