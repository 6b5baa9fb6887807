// default-route (NPWG §4.1.2.1.9): the selected interface's gateway becomes the pod's default
// route and every other interface's default route goes, in the kernel as in the result.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CniError, Code } from '../cni/errors.js';
import type { Result } from '../cni/result.js';
import { log } from '../log.js';

const run = promisify(execFile);

async function ipIn(netns: string, args: string[]): Promise<void> {
  await run('nsenter', [`--net=${netns}`, 'ip', ...args]);
}

export interface RoutedAttachment {
  ifname: string;
  result: Result;
  wantsDefaultRoute?: boolean;
  defaultRouteGateways?: string[];
}

export async function applyDefaultRoute(netns: string, attachments: readonly RoutedAttachment[]): Promise<void> {
  const chosen = attachments.find((a) => a.wantsDefaultRoute);
  if (!chosen || !netns) return;
  for (const a of attachments) {
    if (a === chosen) continue;
    for (const family of ['-4', '-6']) {
      // Ignored when there is no default route on that interface.
      await ipIn(netns, [family, 'route', 'del', 'default', 'dev', a.ifname]).catch(() => undefined);
    }
  }
  const gateways = chosen.defaultRouteGateways?.length
    ? chosen.defaultRouteGateways
    : (chosen.result.ips ?? []).map((ip) => ip.gateway).filter((g): g is string => !!g);
  if (gateways.length === 0) {
    throw new CniError(Code.InvalidConfig, `default-route requested on ${chosen.ifname} but no gateway is known for it`);
  }
  for (const gw of gateways) {
    const family = gw.includes(':') ? '-6' : '-4';
    try {
      await ipIn(netns, [family, 'route', 'replace', 'default', 'via', gw, 'dev', chosen.ifname]);
    } catch (e) {
      throw new CniError(Code.IOFailure, `failed to set default route via ${gw} on ${chosen.ifname}: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
    }
  }
  log().debug({ ifname: chosen.ifname, gateways }, 'default route moved');
}
