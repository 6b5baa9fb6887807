// Pending network-status writes on disk (<cniDir>/status/<container>-<ifname>), so a daemon that
// stops or restarts while the API server is failing picks them up again: they stay pending until
// written, not until the process ends.
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { validateContainerId, validateInterfaceName } from '../cni/names.js';
import { ensurePrivateDir, writeFileAtomic } from '../engine/atomic-file.js';
import { log } from '../log.js';
import type { StatusWrite } from '../meta/status-write.js';
import { readPlan } from '../meta/plan-record.js';

export interface PendingStore {
  save(w: StatusWrite): void;
  remove(w: StatusWrite): void;
  /** The writes a previous daemon left, for containers that are still attached. */
  load(): StatusWrite[];
}

const isWrite = (v: unknown): v is StatusWrite => {
  const w = v as Partial<StatusWrite> | null;
  return !!w && typeof w.namespace === 'string' && typeof w.name === 'string' && typeof w.containerId === 'string' && typeof w.ifname === 'string' && typeof w.patch === 'object';
};

export function fileStore(cniDir: () => string): PendingStore {
  const dir = () => join(cniDir(), 'status');
  // Named as plan records are: checked container ID and interface name make a safe file name.
  const path = (w: StatusWrite) => {
    validateContainerId(w.containerId);
    validateInterfaceName(w.ifname);
    return join(dir(), `${w.containerId}-${w.ifname}`);
  };
  return {
    save(w) {
      try {
        ensurePrivateDir(cniDir());
        ensurePrivateDir(dir());
        writeFileAtomic(path(w), JSON.stringify(w));
      } catch (e) {
        log().warn({ pod: `${w.namespace}/${w.name}`, err: (e as Error).message }, 'pending network-status write not saved; it is lost if the daemon stops before it lands');
      }
    },
    remove(w) {
      try {
        unlinkSync(path(w));
      } catch {
        // never saved, or already gone
      }
    },
    load() {
      let names: string[];
      try {
        names = readdirSync(dir());
      } catch {
        return [];
      }
      const out: StatusWrite[] = [];
      for (const name of names) {
        const file = join(dir(), name);
        let w: unknown;
        try {
          w = JSON.parse(readFileSync(file, 'utf8'));
        } catch {
          w = undefined;
        }
        // A write whose container is no longer attached (DEL while no daemon ran) is moot.
        if (isWrite(w) && readPlan(cniDir(), w.containerId, w.ifname).state === 'ok') out.push(w);
        else unlinkSync(file);
      }
      return out;
    },
  };
}
