// Checks across the files of one run: duplicate network names, NAD names and their configs,
// and allocation pools of different networks that overlap.
import type { NadInput } from './classify.js';
import type { FindingSink } from './finding.js';
import { formatCidr } from './ip-utils.js';
import type { NetworkFacts } from './semantic-layer.js';

// NPWG v1.3 section 2: NetworkAttachmentDefinition names are DNS-1123 labels.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const where = (f: NetworkFacts) => {
  const pos = f.net.scope.doc.locate(`${f.net.scope.base}/name`);
  return `${f.net.scope.doc.file}${pos ? `:${pos.line}` : ''}`;
};

export function checkDuplicateNames(facts: readonly NetworkFacts[], sink: FindingSink): void {
  const first = new Map<string, NetworkFacts>();
  for (const f of facts) {
    if (f.net.nad || f.net.inline || !f.name) continue; // NAD configs are keyed by the NAD, below
    const prev = first.get(f.name);
    if (!prev) {
      first.set(f.name, f);
      continue;
    }
    const sameDir = prev.net.scope.doc.dir === f.net.scope.doc.dir;
    sink.at(
      f.net.scope,
      sameDir ? 'BRD330' : 'BRD331',
      '/name',
      `network name ${JSON.stringify(f.name)} is also defined at ${where(prev)}`,
      sameDir ? 'a runtime loads only one of the two (the first by file name); rename one' : 'harmless if the directories go to different hosts; otherwise rename one',
    );
  }
}

export function checkNads(nads: readonly NadInput[], fileNetworks: ReadonlySet<string>, sink: FindingSink): void {
  const seen = new Map<string, NadInput>();
  for (const nad of nads) {
    const namePtr = `${nad.scope.base}/metadata/name`;
    if (!nad.name) {
      sink.add(nad.scope.doc, 'BRD201', namePtr, 'NetworkAttachmentDefinition metadata.name is required');
      continue;
    }
    if (nad.name.length > 63 || !DNS1123_LABEL.test(nad.name)) {
      sink.add(nad.scope.doc, 'BRD333', namePtr, `NetworkAttachmentDefinition name ${JSON.stringify(nad.name)} is not a DNS-1123 label`, 'lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters');
    }
    const key = `${nad.namespace ?? ''}/${nad.name}`;
    const prev = seen.get(key);
    if (prev) {
      const sameDir = prev.scope.doc.dir === nad.scope.doc.dir;
      const pos = prev.scope.doc.locate(`${prev.scope.base}/metadata/name`);
      sink.add(
        nad.scope.doc,
        sameDir ? 'BRD330' : 'BRD331',
        namePtr,
        `NetworkAttachmentDefinition ${nad.namespace ? `${nad.namespace}/` : ''}${nad.name} is also defined at ${prev.scope.doc.file}${pos ? `:${pos.line}` : ''}`,
        sameDir ? 'applying both keeps only the last one' : undefined,
      );
    } else seen.set(key, nad);
    const net = nad.network;
    if (net && !net.nameInjected && typeof net.raw.name === 'string' && net.raw.name !== nad.name) {
      sink.at(net.scope, 'BRD334', '/name', `spec.config name ${JSON.stringify(net.raw.name)} differs from the NetworkAttachmentDefinition name ${JSON.stringify(nad.name)}`, 'runtimes and caches key the network by the config name; keep the two equal or omit name from spec.config');
    }
    if (!nad.hasConfig && !fileNetworks.has(nad.name)) {
      sink.add(nad.scope.doc, 'BRD335', `${nad.scope.base}/spec/config`, `NetworkAttachmentDefinition ${JSON.stringify(nad.name)} has no spec.config and no file given defines a network named ${JSON.stringify(nad.name)}`, 'the runtime then needs a conflist of that name in its CNI configuration directory on every node');
    }
  }
}

/** Pools of different networks that overlap: pods on both could get the same address. */
export function checkOverlaps(facts: readonly NetworkFacts[], sink: FindingSink): void {
  const pools = facts.flatMap((f) => f.pools.map((p) => ({ f, p })));
  pools.sort((a, b) => (a.p.cidr.family - b.p.cidr.family) || (a.p.cidr.network < b.p.cidr.network ? -1 : a.p.cidr.network > b.p.cidr.network ? 1 : 0));
  // Sweep: each pool against the earlier ones still open (sorted by start address).
  const open: typeof pools = [];
  for (const cur of pools) {
    for (let i = open.length - 1; i >= 0; i--) {
      const o = open[i]!;
      if (o.p.cidr.family !== cur.p.cidr.family || o.p.cidr.last < cur.p.cidr.network) open.splice(i, 1);
    }
    const other = open.find((o) => o.f !== cur.f && o.f.name !== cur.f.name);
    if (other) {
      sink.at(
        cur.f.net.scope,
        'BRD332',
        cur.p.pointer,
        `subnet ${formatCidr(cur.p.cidr)} overlaps ${formatCidr(other.p.cidr)} of network ${JSON.stringify(other.f.name ?? '?')} (${other.f.net.scope.doc.file})`,
        'two networks allocating from one range hand out the same addresses; give each network its own subnet',
      );
    }
    open.push(cur);
  }
}
