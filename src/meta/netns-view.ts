// What is actually in a pod's network namespace, read with iproute2 from inside it (nsenter):
// node cannot enter a namespace itself. Used only off the hot path (lost records, inspect).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface NetnsLink {
  ifname: string;
  kind?: string;
  mac?: string;
  mtu?: number;
  up: boolean;
  addresses: string[];
}

interface IpAddrJson {
  ifname: string;
  address?: string;
  mtu?: number;
  flags?: string[];
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ local?: string; prefixlen?: number; scope?: string }>;
}

/** The links of a netns with their global addresses; undefined when the netns is gone or unreadable. */
export async function netnsLinks(netns: string): Promise<NetnsLink[] | undefined> {
  if (!netns || !existsSync(netns)) return undefined;
  try {
    const { stdout } = await run('nsenter', [`--net=${netns}`, 'ip', '-d', '-j', 'addr', 'show'], { timeout: 10_000 });
    return (JSON.parse(stdout || '[]') as IpAddrJson[]).map((l) => ({
      ifname: l.ifname,
      ...(l.linkinfo?.info_kind ? { kind: l.linkinfo.info_kind } : {}),
      ...(l.address ? { mac: l.address } : {}),
      ...(l.mtu ? { mtu: l.mtu } : {}),
      up: (l.flags ?? []).includes('UP'),
      addresses: (l.addr_info ?? []).filter((a) => a.scope !== 'link' && a.scope !== 'host' && a.local).map((a) => `${a.local}/${a.prefixlen}`),
    }));
  } catch {
    return undefined;
  }
}

/** Interfaces a runtime's sandbox has before any CNI plugin ran. */
export const isBaseInterface = (l: NetnsLink): boolean => l.ifname === 'lo';
