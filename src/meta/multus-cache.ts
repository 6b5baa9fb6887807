// Pods Multus attached before braid took the node over: Multus caches each pod's delegates in
// <cniDir>/<containerID> (pkg/multus saveDelegates: a JSON list of DelegateNetConf, each with
// "Conf", "ConfList", "Name", "ifnameRequest", "macRequest", "ipRequest", "deviceID", ... and
// "Bytes", the delegate config base64-encoded as Go marshals []byte), and libcni caches their
// results under <cniDir>/results. braid reads both so DEL, CHECK and GC of such a pod tear down
// or check exactly what Multus set up, in Multus's order, with Multus's interface names.
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigBytes } from '../cni/config.js';
import { validateContainerId } from '../cni/names.js';
import { listRecords, cannotExist } from '../engine/result-cache.js';
import { log } from '../log.js';
import type { MetaContext } from './context.js';
import type { Teardown } from './verbs/del.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export type MultusCacheRead = { state: 'missing' } | { state: 'ok'; delegates: Obj[]; file: string } | { state: 'corrupt'; reason: string; file: string };

const validId = (id: string) => {
  try {
    validateContainerId(id);
    return true;
  } catch {
    return false;
  }
};

export function multusCachePath(dir: string, containerId: string): string | undefined {
  return validId(containerId) ? join(dir, containerId) : undefined;
}

export function readMultusCache(dir: string, containerId: string): MultusCacheRead {
  const file = multusCachePath(dir, containerId);
  if (!file) return { state: 'missing' };
  let text: string;
  try {
    if (!statSync(file).isFile()) return { state: 'missing' };
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return cannotExist(e) ? { state: 'missing' } : { state: 'corrupt', reason: (e as Error).message, file };
  }
  try {
    const delegates = JSON.parse(text) as unknown;
    if (!Array.isArray(delegates) || delegates.length === 0 || !delegates.every(isObj)) {
      return { state: 'corrupt', reason: 'not a list of Multus delegates', file };
    }
    return { state: 'ok', delegates, file };
  } catch (e) {
    return { state: 'corrupt', reason: (e as Error).message, file };
  }
}

/** A delegate's config bytes: "Bytes" as Multus ran it, else the decoded ConfList or Conf. */
function delegateBytes(d: Obj): string {
  if (typeof d.Bytes === 'string' && d.Bytes !== '') return Buffer.from(d.Bytes, 'base64').toString('utf8');
  const list = isObj(d.ConfList) && Array.isArray(d.ConfList.plugins) && d.ConfList.plugins.length > 0 ? d.ConfList : undefined;
  return JSON.stringify(list ?? d.Conf);
}

/**
 * What Multus's DEL would tear down, in Multus's order (first = its master plugin, on the
 * runtime's interface; the rest on ifnameRequest or net<index>), with the capability args
 * Multus gives each (the runtime's for the master; the pod's requests for the others).
 */
export function multusTeardowns(ctx: MetaContext, delegates: Obj[], ifname: string): Teardown[] {
  return delegates.flatMap((d, idx): Teardown[] => {
    const name = typeof d.Name === 'string' ? d.Name : `delegate ${idx}`;
    try {
      const list = parseConfigBytes(delegateBytes(d), `Multus's cached config of ${name}`);
      const own = idx === 0 ? ifname : typeof d.ifnameRequest === 'string' && d.ifnameRequest !== '' ? d.ifnameRequest : `net${idx}`;
      const caps: Obj =
        idx === 0
          ? ((ctx.config.runtimeConfig ?? {}) as Obj)
          : {
              ...(Array.isArray(d.ipRequest) && d.ipRequest.length ? { ips: d.ipRequest } : {}),
              ...(typeof d.macRequest === 'string' && d.macRequest ? { mac: d.macRequest } : {}),
              ...(typeof d.infinibandGUIDRequest === 'string' && d.infinibandGUIDRequest ? { infinibandGUID: d.infinibandGUIDRequest } : {}),
              ...(typeof d.deviceID === 'string' && d.deviceID ? { deviceID: d.deviceID } : {}),
            };
      return [{ list, ifname: own, capabilityArgs: caps }];
    } catch (e) {
      log().error({ delegate: name, err: (e as Error).message }, "Multus's cached delegate is unusable; skipped");
      return [];
    }
  });
}

/** The context for running a Multus pod's delegates: libcni's result cache is Multus's. */
export const multusContext = (ctx: MetaContext): MetaContext => ({ ...ctx, engine: ctx.engine.withCacheDir(ctx.config.multusCniDir) });

export function removeMultusCache(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if (!cannotExist(e)) throw e;
  }
}

/** Container IDs Multus has a cache file for (GC), with the interface and netns its master used. */
export function multusCachedPods(dir: string): Array<{ containerId: string; ifname: string; netns: string }> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const records = listRecords(dir).records;
  return names
    .filter((n) => !n.startsWith('.') && validId(n))
    .filter((n) => {
      try {
        return statSync(join(dir, n)).isFile();
      } catch {
        return false;
      }
    })
    .map((containerId) => {
      // The master's interface is the runtime's CNI_IFNAME, which GC is not told: libcni's record
      // of the master's result holds it; Multus always ran the master first, on the runtime's name.
      const read = readMultusCache(dir, containerId);
      let ifname = 'eth0';
      let netns = '';
      if (read.state === 'ok') {
        try {
          const master = parseConfigBytes(delegateBytes(read.delegates[0]!), 'Multus master');
          const rec = records.find((r) => r.containerId === containerId && r.networkName === master.name);
          ifname = rec?.ifName ?? ifname;
          netns = rec?.netns ?? netns;
        } catch {
          // an unusable master keeps the defaults
        }
      }
      return { containerId, ifname, netns };
    });
}
