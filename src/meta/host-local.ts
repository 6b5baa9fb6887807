// host-local's reservations, read straight from its data directory (one file per IP, named by
// the IP, holding "containerID\r\nifname"): how braid tells, without any record of its own,
// that a container still holds an address.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetConfList } from '../cni/config.js';

/** host-local's reservation directories of a chain (its dataDir, default /var/lib/cni/networks, per network name). */
export function hostLocalDirs(list: NetConfList): string[] {
  return list.plugins.flatMap((p) => {
    const ipam = p.ipam as { type?: unknown; dataDir?: unknown } | undefined;
    if (ipam?.type !== 'host-local') return [];
    return [join(typeof ipam.dataDir === 'string' ? ipam.dataDir : '/var/lib/cni/networks', list.name)];
  });
}

/** host-local's reservations held by (containerId, ifname): files named by IP holding "id\r\nifname". */
export function reservations(list: NetConfList, containerId: string, ifname: string): string[] {
  const out: string[] = [];
  for (const dir of hostLocalDirs(list)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!/^[0-9a-f.:]+$/i.test(n) || !/[.:]/.test(n)) continue;
      try {
        const [id, ifn] = readFileSync(join(dir, n), 'utf8').split(/\r?\n/);
        if (id?.trim() === containerId && (ifn === undefined || ifn.trim() === '' || ifn.trim() === ifname)) out.push(n);
      } catch {
        // vanished meanwhile
      }
    }
  }
  return out;
}

