// What braid recorded about a node's containers (plans, attachments, result records), what is
// actually in each pod's netns and on the host (links, host-local reservations, bandwidth ifbs),
// and where the two disagree.
import { parseConfigBytes, type NetConfList } from '../cni/config.js';
import { configBytes, listRecords, type CacheRecord } from '../engine/result-cache.js';
import type { MetaContext } from '../meta/context.js';
import { hostLeftoverLinks, linkExists } from '../meta/give-up.js';
import { hostLocalDirs, reservations } from '../meta/host-local.js';
import { isBaseInterface, netnsLinks, type NetnsLink } from '../meta/netns-view.js';
import { listPlans, plannedList, type PlanRecord } from '../meta/plan-record.js';

export interface InspectedAttachment {
  network: string;
  ifname: string;
  state: string;
  plugins: string[];
  /** From the attachment's result record; undefined when there is none. */
  recorded?: { ips: string[]; mac?: string };
  inPod?: { ips: string[]; mac?: string; up: boolean } | undefined;
  reservations: string[];
  hostLinks: Array<{ name: string; exists: boolean }>;
}

export interface InspectedContainer {
  containerId: string;
  ifname?: string;
  pod?: string;
  /** Which record this comes from: a plan, or result records alone. */
  record: string;
  netns: string;
  netnsExists: boolean;
  createdAt?: string;
  unfinished?: string;
  attachments: InspectedAttachment[];
  /** Non-loopback interfaces in the pod (undefined when the netns is gone or unreadable). */
  podInterfaces?: Array<{ ifname: string; kind?: string; addresses: string[] }>;
  differences: string[];
}

const ipsOn = (rec: CacheRecord | undefined, ifname: string): { ips: string[]; mac?: string } | undefined => {
  const r = rec?.result as { interfaces?: Array<{ name?: string; mac?: string; sandbox?: string }>; ips?: Array<{ address?: string; interface?: number }> } | undefined;
  if (!r) return undefined;
  const idx = (r.interfaces ?? []).findIndex((i) => i.name === ifname && i.sandbox);
  const ips = (r.ips ?? []).filter((ip) => ip.address && (ip.interface === undefined || ip.interface === idx)).map((ip) => ip.address!);
  const mac = idx >= 0 ? r.interfaces![idx]!.mac : undefined;
  return { ips, ...(mac ? { mac } : {}) };
};

const bare = (cidr: string) => cidr.split('/')[0]!;

async function inspectOne(
  containerId: string,
  head: Omit<InspectedContainer, 'containerId' | 'attachments' | 'differences' | 'netnsExists' | 'podInterfaces'>,
  planned: Array<{ network: string; ifname: string; state: string; list: NetConfList | undefined }>,
  cache: CacheRecord[],
): Promise<InspectedContainer> {
  const links = await netnsLinks(head.netns);
  const inPod = new Map<string, NetnsLink>((links ?? []).map((l) => [l.ifname, l]));
  const differences: string[] = [];
  const attachments: InspectedAttachment[] = planned.map((a) => {
    const rec = cache.find((r) => r.ifName === a.ifname && (!a.list || r.networkName === a.list.name));
    const link = inPod.get(a.ifname);
    const recorded = ipsOn(rec, a.ifname);
    const out: InspectedAttachment = {
      network: a.network,
      ifname: a.ifname,
      state: a.state,
      plugins: a.list?.plugins.map((p) => String(p.type)) ?? [],
      ...(recorded ? { recorded } : {}),
      inPod: link ? { ips: link.addresses, ...(link.mac ? { mac: link.mac } : {}), up: link.up } : undefined,
      reservations: a.list ? reservations(a.list, containerId, a.ifname) : [],
      hostLinks: a.list ? hostLeftoverLinks(a.list, containerId).map((name) => ({ name, exists: linkExists(name) })) : [],
    };
    const what = `${a.network} (${a.ifname})`;
    if (a.state === 'planned' || a.state === 'failed') differences.push(`${what}: its ADD never succeeded (state ${a.state})`);
    if (links && a.state === 'added' && !link) differences.push(`${what}: recorded as added, but no ${a.ifname} in the pod`);
    if (a.state === 'added' && !rec) differences.push(`${what}: recorded as added, but its result record is missing`);
    if (recorded && link) {
      const missing = recorded.ips.filter((ip) => !link.addresses.includes(ip));
      if (missing.length) differences.push(`${what}: recorded ${missing.join(', ')}, not on ${a.ifname} in the pod (has ${link.addresses.join(', ') || 'none'})`);
    }
    if (recorded) {
      const reserved = new Set(out.reservations);
      for (const ip of recorded.ips) if (hostLocalDirs(a.list!).length && !reserved.has(bare(ip))) differences.push(`${what}: ${ip} is recorded, but host-local holds no reservation for it`);
      const extra = out.reservations.filter((r) => !recorded.ips.some((ip) => bare(ip) === r));
      if (extra.length) differences.push(`${what}: host-local reserves ${extra.join(', ')} for it, which no record mentions`);
    } else if (out.reservations.length) {
      differences.push(`${what}: host-local reserves ${out.reservations.join(', ')} for it, with no result record`);
    }
    for (const l of out.hostLinks) if (a.state === 'added' && !l.exists) differences.push(`${what}: host link ${l.name} is missing`);
    return out;
  });
  if (!links) differences.push(head.netns ? `netns ${head.netns} is gone: these records are orphans (braid gc removes them)` : 'no netns recorded');
  for (const l of links ?? []) {
    if (!isBaseInterface(l) && !planned.some((a) => a.ifname === l.ifname)) differences.push(`${l.ifname} is in the pod, but no record explains it`);
  }
  if (head.unfinished) differences.push(`an earlier DEL found the records lost and could not finish: ${head.unfinished}`);
  return {
    containerId,
    ...head,
    netnsExists: links !== undefined,
    attachments,
    ...(links ? { podInterfaces: links.filter((l) => !isBaseInterface(l)).map((l) => ({ ifname: l.ifname, ...(l.kind ? { kind: l.kind } : {}), addresses: l.addresses })) } : {}),
    differences,
  };
}

const listOf = (rec: CacheRecord): NetConfList | undefined => {
  try {
    return parseConfigBytes(configBytes(rec), 'cached network config');
  } catch {
    return undefined;
  }
};

/** Every container braid has records of, or those matching `which` (a container ID, or namespace/pod). */
export async function inspectNode(ctx: MetaContext, which?: string): Promise<InspectedContainer[]> {
  const cache = listRecords(ctx.config.cniDir).records;
  const out: InspectedContainer[] = [];
  const seen = new Set<string>();
  const wanted = (cid: string, pod?: string) => !which || which === cid || which === pod;
  for (const { file, read } of listPlans(ctx.config.cniDir)) {
    if (read.state !== 'ok') {
      const mine = cache.filter((r) => file.startsWith(`${r.containerId}-`));
      const cid = mine[0]?.containerId ?? file;
      if (!wanted(cid)) continue;
      seen.add(cid);
      const c = await inspectOne(cid, { record: `plans/${file}`, netns: mine[0]?.netns ?? '' }, mine.map((r) => ({ network: r.networkName, ifname: r.ifName, state: 'unknown', list: listOf(r) })), mine);
      c.differences.unshift(`plan record unreadable (${read.state === 'corrupt' ? read.reason : 'missing'}); its DEL falls back to the result records and the API`);
      out.push(c);
      continue;
    }
    const p: PlanRecord = read.plan;
    const pod = p.pod ? `${p.pod.namespace}/${p.pod.name}` : undefined;
    if (!wanted(p.containerId, pod)) continue;
    seen.add(p.containerId);
    const planned = p.attachments.map((a) => {
      let list: NetConfList | undefined;
      try {
        list = plannedList(a);
      } catch {
        list = undefined;
      }
      return { network: a.network, ifname: a.ifname, state: a.state ?? 'added', list };
    });
    out.push(
      await inspectOne(
        p.containerId,
        {
          ifname: p.ifname,
          ...(pod ? { pod } : {}),
          record: `plans/${file}`,
          netns: p.netns,
          ...(p.createdAt ? { createdAt: new Date(p.createdAt).toISOString() } : {}),
          ...(p.unfinished ? { unfinished: p.unfinished.reason } : {}),
        },
        planned,
        cache.filter((r) => r.containerId === p.containerId),
      ),
    );
  }
  // Result records with no plan: a plan lost, or a DEL cut short.
  const rest = new Map<string, CacheRecord[]>();
  for (const r of cache) if (!seen.has(r.containerId) && wanted(r.containerId)) rest.set(r.containerId, [...(rest.get(r.containerId) ?? []), r]);
  for (const [cid, recs] of rest) {
    const c = await inspectOne(cid, { record: 'results only', netns: recs[0]!.netns ?? '' }, recs.map((r) => ({ network: r.networkName, ifname: r.ifName, state: 'unknown', list: listOf(r) })), recs);
    c.differences.unshift('result records with no plan: its DEL rebuilds the rest from the API');
    out.push(c);
  }
  return out;
}

export function formatInspection(containers: InspectedContainer[]): string {
  if (containers.length === 0) return 'no records\n';
  const lines: string[] = [];
  for (const c of containers) {
    lines.push(`container ${c.containerId}${c.pod ? `  pod ${c.pod}` : ''}`);
    lines.push(`  record   ${c.record}${c.createdAt ? `, written ${c.createdAt}` : ''}`);
    lines.push(`  netns    ${c.netns || '(none)'} ${c.netnsExists ? '(present)' : '(gone)'}`);
    const rows = c.attachments.map((a) => [
      a.ifname,
      a.network,
      a.state,
      a.recorded ? a.recorded.ips.join(',') || '-' : '(no result)',
      a.inPod ? a.inPod.ips.join(',') || '(no IP)' : c.netnsExists ? '(missing)' : '-',
      [...a.reservations, ...a.hostLinks.map((l) => `${l.name}${l.exists ? '' : ' (missing)'}`)].join(',') || '-',
    ]);
    const header = ['IFNAME', 'NETWORK', 'STATE', 'RECORDED IPS', 'IN POD', 'HOST (reservations, links)'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [header, ...rows]) lines.push(`  ${r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()}`);
    if (c.differences.length === 0) lines.push('  differences: none');
    else {
      lines.push('  differences:');
      for (const d of c.differences) lines.push(`    - ${d}`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
