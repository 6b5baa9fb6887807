// Finding configs on disk the way libcni does (libcni/conf.go): *.conflist first, then
// *.conf / *.json, each group in lexical order; a .conf is up-converted to a list.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { CniError, Code } from '../cni/errors.js';
import { parseConfigBytes, type NetConfList } from '../cni/config.js';
import { validateNetworkName } from '../cni/names.js';

export const LIST_EXTS = ['.conflist'];
export const CONF_EXTS = ['.conf', '.json'];
const MAX_CONFIG_BYTES = 1024 * 1024;

export function readConfigFile(path: string): NetConfList {
  let text: string;
  try {
    const st = statSync(path);
    if (st.size > MAX_CONFIG_BYTES) throw new Error(`larger than ${MAX_CONFIG_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CniError(Code.IOFailure, `failed to read network config ${path}: ${(e as Error).message}`);
  }
  return parseConfigBytes(text, `network config ${path}`);
}

/** Config files in a directory, conflists first, each group sorted. */
export function configFiles(dir: string, exts: readonly string[] = [...LIST_EXTS, ...CONF_EXTS]): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const sorted = names.filter((n) => !n.startsWith('.')).sort();
  const lists = sorted.filter((n) => LIST_EXTS.includes(extname(n)) && exts.includes(extname(n)));
  const confs = sorted.filter((n) => CONF_EXTS.includes(extname(n)) && exts.includes(extname(n)));
  return [...lists, ...confs].map((n) => join(dir, n)).filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

/** libcni LoadConfList: the list named `name` in `dir` (conflist first, then conf/json). */
export function loadConfListByName(dir: string, name: string): NetConfList | undefined {
  validateNetworkName(name, 'network name');
  for (const file of configFiles(dir)) {
    let peek: unknown;
    try {
      peek = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue; // a broken neighbour must not hide the network we want
    }
    if (peek && typeof peek === 'object' && (peek as { name?: unknown }).name === name) return readConfigFile(file);
  }
  return undefined;
}

/** The first valid config in a directory (how a runtime picks its default network). */
export function firstConfigIn(dir: string, skip: (file: string) => boolean = () => false): { file: string; list: NetConfList } | undefined {
  for (const file of configFiles(dir)) {
    if (skip(file)) continue;
    try {
      return { file, list: readConfigFile(file) };
    } catch {
      continue;
    }
  }
  return undefined;
}
