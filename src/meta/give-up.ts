// The policy for attachments whose ADD never succeeded: a DEL that fails for one of them must not
// block the runtime's DEL forever (the pod could never be deleted). Before giving up, braid
// releases what it can reach directly, and reports what it could not at error level.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { NetConfList } from '../cni/config.js';
import type { CniError } from '../cni/errors.js';
import { log } from '../log.js';
import { runtimeFor, type MetaContext } from './context.js';

const run = promisify(execFile);

/** The bandwidth plugin's ifb device (plugins/meta/bandwidth: "bwp" + sha512(network + container ID), 15 chars). */
export function bandwidthIfbName(network: string, containerId: string): string {
  return `bwp${createHash('sha512').update(network + containerId).digest('hex')}`.slice(0, 15);
}

export const hasPlugin = (list: NetConfList, type: string): boolean => list.plugins.some((p) => p.type === type);

/** Host links named by an attachment's chain alone (no result needed to find them). */
export function hostLeftoverLinks(list: NetConfList, containerId: string): string[] {
  return hasPlugin(list, 'bandwidth') ? [bandwidthIfbName(list.name, containerId)] : [];
}

export const linkExists = (name: string): boolean => existsSync(`/sys/class/net/${name}`);

export interface GiveUpTarget {
  list: NetConfList;
  ifname: string;
  capabilityArgs: Record<string, unknown>;
  network?: string | undefined;
}

export interface GiveUpReport {
  released: string[];
  leftovers: string[];
}

/**
 * Releases what an attachment's failed DEL left behind that braid can reach without the
 * failing plugin: the IPAM reservation (the IPAM plugin's own DEL, with the attachment's
 * config), host links its chain names (the bandwidth ifb), its result-cache record.
 */
export async function releaseDirectly(ctx: MetaContext, t: GiveUpTarget): Promise<GiveUpReport> {
  const rt = runtimeFor(ctx, t);
  const released: string[] = [];
  const leftovers: string[] = [];
  try {
    const types = await ctx.engine.releaseIpam(t.list, rt);
    if (types.length) released.push(`IP reservation (${types.join(', ')} DEL)`);
  } catch (e) {
    leftovers.push(`IP reservation: ${(e as Error).message}`);
  }
  for (const link of hostLeftoverLinks(t.list, ctx.env.containerId)) {
    if (!linkExists(link)) continue;
    try {
      await run('ip', ['link', 'del', link]);
      released.push(`host link ${link}`);
    } catch (e) {
      leftovers.push(`host link ${link}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  try {
    ctx.engine.forgetResult(t.list, rt);
  } catch (e) {
    leftovers.push(`result-cache record: ${(e as Error).message}`);
  }
  return { released, leftovers };
}

/** Gives up on a failed teardown after releasing what can be released; never throws. */
export async function giveUp(ctx: MetaContext, t: GiveUpTarget, error: CniError, why: string): Promise<GiveUpReport> {
  const report = await releaseDirectly(ctx, t);
  const fields = {
    containerId: ctx.env.containerId,
    network: t.network ?? t.list.name,
    ifname: t.ifname,
    err: error.message,
    released: report.released,
    leftovers: report.leftovers,
  };
  // Error level even when nothing known is left: the failing plugin's own DEL did not finish.
  log().error(fields, `DEL gave up on an attachment ${why}${report.leftovers.length ? '; leftovers need an operator' : '; what braid could reach was released directly'}`);
  ctx.onGiveUp?.({ leftovers: report.leftovers.length });
  return report;
}
