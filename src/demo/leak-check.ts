// "Nothing left behind": after DEL, the pods' namespaces hold only lo, no bridge has a port
// left, host-local holds no reservation, no iptables/nft rule names a pod's IP or container ID,
// and neither braid nor the runtime keeps a cache record. After teardown, no namespace or link
// carries the demo's prefix.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hostLinks, ipJson, prefixed, run, type Link } from './host.js';

export interface Check {
  what: string;
  leftovers: string[];
}

export interface AttachmentTraces {
  netns: string[];
  bridges: string[];
  containerIds: string[];
  ips: string[];
  ipamDir: string;
  /** braid's cniDir and the runtime's cache dir. */
  recordDirs: string[];
  /** Record files found otherwise (containerd's libcni cache entries for these sandboxes). */
  records?: string[];
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const ipRe = /^(\d+\.\d+\.\d+\.\d+|[0-9a-f:]+:[0-9a-f:]*)$/i;

export function attachmentChecks(t: AttachmentTraces): Check[] {
  const interfaces = t.netns.flatMap((ns) =>
    ipJson<Link[]>(['-n', ns, 'link'])
      .filter((l) => l.ifname !== 'lo')
      .map((l) => `${ns}: ${l.ifname}`),
  );
  const ports = hostLinks()
    .filter((l) => l.master !== undefined && t.bridges.includes(l.master))
    .map((l) => `${l.ifname} on ${l.master}`);
  const reservations = filesUnder(t.ipamDir).filter((f) => ipRe.test(f.split('/').pop()!));
  const rules = `${run('iptables-save', [], { allowFail: true }).stdout}\n${run('nft', ['list', 'ruleset'], { allowFail: true }).stdout}`;
  const needles = [...t.containerIds, ...t.ips.map((ip) => ip.split('/')[0]!)];
  // A bare IP must not match a longer one (198.19.10.2 inside 198.19.10.20).
  const mentions = (line: string) => needles.some((n) => new RegExp(`(^|[^0-9a-f.])${n.replace(/\./g, '\\.')}([^0-9a-f.]|$)`, 'i').test(line));
  const iptables = [...new Set(rules.split('\n').filter(mentions).map((l) => l.trim()))];
  // Directory skeletons may stay; a file is a record.
  const records = [...t.recordDirs.flatMap(filesUnder).filter((f) => !f.endsWith('.lock')), ...(t.records ?? [])];
  return [
    { what: 'interfaces in the pods’ namespaces (besides lo)', leftovers: interfaces },
    { what: 'veths on the bridges', leftovers: ports },
    { what: 'IP reservations (host-local)', leftovers: reservations },
    { what: 'iptables / nft rules naming a pod IP or container ID', leftovers: iptables },
    { what: 'cache records (braid and runtime)', leftovers: records },
  ];
}

export function hostChecks(): Check[] {
  const p = prefixed();
  return [
    { what: 'network namespaces named braid-demo-*', leftovers: p.namespaces },
    { what: 'links named braid-demo-* (bridges, veths)', leftovers: p.links },
  ];
}
