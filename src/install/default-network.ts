// Which config is the node's default network: the file a runtime would pick if braid were not
// there. containerd (go-cni) and CRI-O (ocicni) sort .conf/.conflist/.json together by name and
// take the first that loads, so this is one lexical order, not libcni's conflists-first lookup.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseConfigBytes, type NetConfList } from '../cni/config.js';

export const BRAID_ENTRY_FILE = '00-braid.conflist';
const EXTS = ['.conf', '.conflist', '.json'];
// Meta-plugin entries: never a cluster network (braid's own, its daemon shim, Multus).
const META_TYPES = new Set(['braid', 'braid-shim', 'multus', 'multus-shim']);

export interface DefaultNetwork {
  file: string;
  list: NetConfList;
  /** The bytes read, so a watcher can tell a rewrite from a touch. */
  text: string;
}

export interface Skipped {
  file: string;
  reason: string;
}

/** Candidate files in runtime order (hidden and temporary files excluded). */
export function candidateFiles(confDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(confDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.') && EXTS.includes(extname(n)))
    .sort()
    .map((n) => join(confDir, n))
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
}

const isMetaEntry = (list: NetConfList) => list.plugins.some((p) => META_TYPES.has(String(p.type)));

/**
 * The first config that loads and is not a meta-plugin entry. Files skipped for a reason worth
 * telling (unreadable, broken JSON, invalid config) are reported; braid's own file silently.
 */
export function findDefaultNetwork(confDir: string): { found: DefaultNetwork | undefined; skipped: Skipped[] } {
  const skipped: Skipped[] = [];
  for (const file of candidateFiles(confDir)) {
    if (file === join(confDir, BRAID_ENTRY_FILE)) continue;
    let text: string;
    let list: NetConfList;
    try {
      text = readFileSync(file, 'utf8');
      list = parseConfigBytes(text, file);
    } catch (e) {
      skipped.push({ file, reason: (e as Error).message });
      continue;
    }
    if (isMetaEntry(list)) {
      skipped.push({ file, reason: `a meta-plugin entry (type ${list.plugins.map((p) => p.type).join(', ')}), not a cluster network` });
      continue;
    }
    return { found: { file, list, text }, skipped };
  }
  return { found: undefined, skipped };
}

/** Multus's own entries in the conf dir (type multus or multus-shim), in runtime order. */
export function multusEntries(confDir: string): string[] {
  return candidateFiles(confDir).filter((file) => {
    try {
      return parseConfigBytes(readFileSync(file, 'utf8'), file).plugins.some((p) => p.type === 'multus' || p.type === 'multus-shim');
    } catch {
      return false;
    }
  });
}

/** The capabilities any plugin of the list declares (true only), sorted for stable output. */
export function capabilityUnion(list: NetConfList): string[] {
  const caps = new Set<string>();
  for (const p of list.plugins) {
    const c = p.capabilities;
    if (c && typeof c === 'object') for (const [k, v] of Object.entries(c)) if (v === true) caps.add(k);
  }
  return [...caps].sort();
}
