// Real network namespaces and links for tests, named with a unique prefix and always removed
// (even when a test fails), plus scoped leak checks: every assertion looks only at names,
// IPs and container IDs this test created, so parallel test files can't disturb each other.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipJson, sh } from './sh.js';

export const CNI_BIN = '/usr/lib/cni';

export function haveLinkType(type: string): boolean {
  const name = `brdprobe${randomBytes(2).toString('hex')}`;
  const r = sh('ip', ['link', 'add', name, 'type', type], { allowFail: true });
  const ok = existsSync(`/sys/class/net/${name}`);
  if (ok) sh('ip', ['link', 'del', name], { allowFail: true });
  void r;
  return ok;
}

/** One test's world: a unique tag, its namespaces, links, and temp dirs; cleanup() undoes all. */
export class TestWorld {
  readonly tag = `b${randomBytes(3).toString('hex')}`; // 7 chars: leaves room in 15-char ifnames
  readonly tmp = mkdtempSync(join(tmpdir(), `braid-${this.tag}-`));
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];
  private readonly peers: string[] = [];

  /** Links the test made on purpose (e.g. macvlan masters): not leaks. */
  ownLinks(): string[] {
    return [...this.links, ...this.peers];
  }
  private readonly undo: Array<() => unknown> = [];

  /** Run before namespaces go (LIFO): e.g. a DEL for every attachment a test added. */
  onCleanup(fn: () => unknown): void {
    this.undo.push(fn);
  }

  name(suffix: string): string {
    return `${this.tag}${suffix}`;
  }

  netns(suffix = 'ns'): { name: string; path: string } {
    const n = this.namespaces.length;
    const name = `braid-${this.tag}-${suffix}${n ? n : ''}`;
    sh('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return { name, path: `/var/run/netns/${name}` };
  }

  /** A veth pair on the host; one end can serve as a macvlan master (no dummy module here). */
  veth(suffix: string): { a: string; b: string } {
    const a = this.name(`${suffix}a`);
    const b = this.name(`${suffix}b`);
    sh('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    this.links.push(a);
    this.peers.push(b);
    sh('ip', ['link', 'set', a, 'up']);
    sh('ip', ['link', 'set', b, 'up']);
    return { a, b };
  }

  dir(name: string): string {
    return join(this.tmp, name);
  }

  async cleanup(): Promise<void> {
    for (const fn of this.undo.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // best effort: the namespace removal below still runs
      }
    }
    for (const ns of this.namespaces.splice(0)) sh('ip', ['netns', 'del', ns], { allowFail: true });
    for (const l of this.links.splice(0)) sh('ip', ['link', 'del', l], { allowFail: true });
    // Bridges and host veths a failed test left behind carry the tag.
    for (const l of hostLinks()) if (l.includes(this.tag)) sh('ip', ['link', 'del', l], { allowFail: true });
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

export const hostLinks = (): string[] => ipJson<Array<{ ifname: string }>>(['link']).map((l) => l.ifname);

/** Host links except bridges: the bridge plugin keeps its bridge after DEL, as libcni expects. */
const hostLinksNotBridges = (): string[] =>
  ipJson<Array<{ ifname: string; linkinfo?: { info_kind?: string } }>>(['-d', 'link'])
    .filter((l) => l.linkinfo?.info_kind !== 'bridge')
    .map((l) => l.ifname);

export interface NsAddr {
  ifname: string;
  mtu: number;
  address: string;
  addr_info: Array<{ family: string; local: string; prefixlen: number }>;
}
export const nsAddrs = (ns: string): NsAddr[] => ipJson(['-n', ns, 'addr']);
export const nsRoutes = (ns: string, family = '-4'): Array<{ dst: string; gateway?: string; dev: string }> =>
  ipJson([family, '-n', ns, 'route']);

export function ifaceIn(ns: string, ifname: string): NsAddr | undefined {
  return nsAddrs(ns).find((a) => a.ifname === ifname);
}

export function ipv4Of(ns: string, ifname: string): string[] {
  return (ifaceIn(ns, ifname)?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

/** The bandwidth plugin's ifb name (plugins/meta/bandwidth: "bwp" + hash of network+container). */
export function bandwidthIfbName(network: string, containerId: string): string {
  return `bwp${createHash('sha512').update(network + containerId).digest('hex')}`.slice(0, 15);
}

export interface Traces {
  links: string[];
  iptables: string[];
  reservations: string[];
  qdiscs: string[];
}

/**
 * What of a container is still on the host: links named with the tag, iptables/nft rules
 * mentioning its container ID or IPs, host-local reservations in the given data dirs.
 */
export function traces(opts: { tag: string; containerIds: string[]; ips?: string[]; dataDirs?: string[]; networks?: string[]; ignoreLinks?: string[] }): Traces {
  const links = hostLinksNotBridges().filter(
    (l) =>
      !(opts.ignoreLinks ?? []).includes(l) && l.includes(opts.tag) || opts.containerIds.some((c) => (opts.networks ?? []).some((n) => l === bandwidthIfbName(n, c))),
  );
  const rules = `${sh('iptables-save', [], { allowFail: true })}\n${sh('nft', ['list', 'ruleset'], { allowFail: true })}`;
  const needles = [...opts.containerIds, ...(opts.ips ?? []).map((ip) => ip.split('/')[0]!)];
  const iptables = rules.split('\n').filter((line) => needles.some((n) => line.includes(n)));
  const reservations: string[] = [];
  for (const d of opts.dataDirs ?? []) {
    if (!existsSync(d)) continue;
    for (const net of readdirSync(d)) {
      for (const f of readdirSync(join(d, net))) {
        if (/^\d+\.\d+\.\d+\.\d+$/.test(f) || f.includes(':')) reservations.push(`${net}/${f}`);
      }
    }
  }
  const qdiscs = (JSON.parse(sh('tc', ['-j', 'qdisc', 'show'], { allowFail: true }) || '[]') as Array<{ dev: string; kind: string }>)
    .filter((q) => (q.dev.includes(opts.tag) || links.includes(q.dev)) && !['noqueue', 'pfifo_fast', 'fq_codel'].includes(q.kind))
    .map((q) => `${q.dev}:${q.kind}`);
  return { links, iptables, reservations, qdiscs };
}

export const NO_TRACES: Traces = { links: [], iptables: [], reservations: [], qdiscs: [] };
