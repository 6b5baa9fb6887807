// Annotation layer: a pod's (or pod template's) network annotations, parsed by the same code
// braid runs on ADD (src/meta/network-selection.ts), then resolved against the NADs and files
// of the run: every reference exists, asks only for capabilities its network declares.
import type { FindingCode } from './codes.js';
import { isObject, type Json, type NadInput, type NetworkInput, type WorkloadInput } from './classify.js';
import { editDistance, suggest } from './did-you-mean.js';
import type { FindingSink } from './finding.js';
import { escapeSegment } from './json-pointer.js';
import { pluginsOf } from './schema-layer.js';
import {
  analyzeGenieAnnotation,
  analyzeNetworksAnnotation,
  DEFAULT_NETWORK_ANNOTATION,
  GENIE_ANNOTATION,
  NETWORKS_ANNOTATION,
  parseDefaultNetworkAnnotation,
  type NetworkSelection,
  type SelectionProblem,
} from '../meta/network-selection.js';

/** What the run knows about networks, to resolve references. */
export interface NetworkIndex {
  nads: readonly NadInput[];
  fileNetworks: ReadonlyMap<string, NetworkInput>;
}

// The cluster network takes the runtime's CNI_IFNAME, eth0 in every Kubernetes runtime.
const CLUSTER_IFNAME = 'eth0';

// Which capability each selection field needs (NPWG v1.3 section 4.1.2.1 -> runtimeConfig).
const NEEDS: [keyof NetworkSelection, string][] = [
  ['ips', 'ips'],
  ['mac', 'mac'],
  ['portMappings', 'portMappings'],
  ['bandwidth', 'bandwidth'],
  ['infinibandGuid', 'infinibandGUID'],
];

function problemCode(p: SelectionProblem): FindingCode {
  const { path, message } = p;
  if (/already requested by/.test(message)) return 'BRD507';
  if (/already set by/.test(message)) return 'BRD508';
  if (/\.interface(Request)?$/.test(path) || /^interface name /.test(message)) return 'BRD503';
  if (/\.(ips|default-route)(\[\d+\])?$/.test(path) || /\.hostIP$/.test(path)) return /\.hostIP$/.test(path) ? 'BRD506' : 'BRD504';
  if (/\.mac$/.test(path)) return 'BRD505';
  if (/\.portMappings/.test(path)) return 'BRD506';
  return 'BRD501';
}

const SELECTING = [NETWORKS_ANNOTATION, DEFAULT_NETWORK_ANNOTATION];
const KNOWN_KEYS = new Set([...SELECTING, GENIE_ANNOTATION, 'k8s.v1.cni.cncf.io/network-status', 'k8s.v1.cni.cncf.io/networks-status']);

/** Annotation keys one slip away from a selecting annotation: Multus ignores them silently. */
function checkKeys(annotations: Json, pointer: string, what: string, w: WorkloadInput, sink: FindingSink): void {
  for (const key of Object.keys(annotations)) {
    if (KNOWN_KEYS.has(key)) continue;
    const s = suggest(key, SELECTING);
    if (s && (s.caseOnly || editDistance(key, s.word) <= 3)) {
      sink.add(w.scope.doc, 'BRD512', `${pointer}/${escapeSegment(key)}`, `${what}: annotation ${JSON.stringify(key)} is not a network annotation, so the pod gets no extra networks`, `did you mean ${JSON.stringify(s.word)}?`);
    }
  }
}

export function checkWorkload(w: WorkloadInput, index: NetworkIndex, sink: FindingSink): void {
  const podNs = w.namespace ?? 'default';
  const at = (key: string) => `${w.scope.base}${w.annotationsPointer}/${escapeSegment(key)}`;
  const what = `${w.kind} ${w.name}`;
  const selections: NetworkSelection[] = [];
  checkKeys(w.annotations, `${w.scope.base}${w.annotationsPointer}`, what, w, sink);
  if (w.ownerAnnotations) {
    const ownerPtr = `${w.scope.base}/metadata/annotations`;
    for (const key of SELECTING) {
      if (w.ownerAnnotations[key] !== undefined && w.annotations[key] === undefined) {
        sink.add(w.scope.doc, 'BRD513', `${ownerPtr}/${escapeSegment(key)}`, `${what}: ${key} is set on the ${w.kind} itself, not on its pod template, so its pods get no extra networks`, `move it to ${w.annotationsPointer.slice(1).replace(/\//g, '.')}`);
      }
    }
  }

  const networks = w.annotations[NETWORKS_ANNOTATION];
  if (networks !== undefined) {
    if (typeof networks !== 'string') sink.add(w.scope.doc, 'BRD501', at(NETWORKS_ANNOTATION), `${what}: annotation ${NETWORKS_ANNOTATION} must be a string, got ${typeof networks}`);
    else {
      const r = analyzeNetworksAnnotation(networks, podNs);
      for (const p of r.problems) sink.add(w.scope.doc, problemCode(p), at(NETWORKS_ANNOTATION), `${what}: ${NETWORKS_ANNOTATION} ${p.path}: ${p.message}`, hintFor(problemCode(p)));
      selections.push(...r.selections); // the valid elements: their references are still checked
    }
  }

  const genie = w.annotations[GENIE_ANNOTATION];
  if (typeof genie === 'string') {
    const r = analyzeGenieAnnotation(genie, podNs);
    for (const p of r.problems) sink.add(w.scope.doc, 'BRD510', at(GENIE_ANNOTATION), `${what}: annotation cni ${p.path}: ${p.message}`);
    selections.push(...r.selections);
  }

  let defaultSel: NetworkSelection | undefined;
  const dflt = w.annotations[DEFAULT_NETWORK_ANNOTATION];
  if (dflt !== undefined) {
    try {
      if (typeof dflt !== 'string') throw new Error(`must be a string, got ${typeof dflt}`);
      defaultSel = parseDefaultNetworkAnnotation(dflt, podNs);
    } catch (e) {
      sink.add(w.scope.doc, 'BRD509', at(DEFAULT_NETWORK_ANNOTATION), `${what}: ${(e as Error).message}`);
    }
  }

  for (const sel of selections) {
    if (sel.interface === CLUSTER_IFNAME) {
      sink.add(w.scope.doc, 'BRD507', at(NETWORKS_ANNOTATION), `${what}: ${sel.source} asks for interface ${JSON.stringify(CLUSTER_IFNAME)}, which the cluster network uses`, 'pick another name, e.g. "net1"');
    }
  }

  const known = index.nads.length > 0 || index.fileNetworks.size > 0;
  if (!known) return;
  const refs: [NetworkSelection, string][] = [
    ...selections.map((s): [NetworkSelection, string] => [s, s.source.startsWith('cni') ? GENIE_ANNOTATION : NETWORKS_ANNOTATION]),
    ...(defaultSel ? [[defaultSel, DEFAULT_NETWORK_ANNOTATION] as [NetworkSelection, string]] : []),
  ];
  for (const [sel, key] of refs) {
    const target = resolve(sel, w.namespace, index);
    if (!target) {
      sink.add(
        w.scope.doc,
        'BRD502',
        at(key),
        `${what}: ${sel.source} references network ${sel.namespace}/${sel.name}, which is not among the NetworkAttachmentDefinitions and files given`,
        nearestName(sel.name, index),
      );
      continue;
    }
    if (!target.network) continue; // a NAD without spec.config: its plugins are not known here
    const caps = new Set(pluginsOf(target.network).flatMap((p) => (isObject(p.conf.capabilities) ? Object.keys(p.conf.capabilities).filter((k) => (p.conf.capabilities as Record<string, unknown>)[k] === true) : [])));
    for (const [field, cap] of NEEDS) {
      if (sel[field] === undefined || caps.has(cap)) continue;
      sink.add(
        w.scope.doc,
        'BRD511',
        at(key),
        `${what}: ${sel.source} sets ${field === 'infinibandGuid' ? 'infiniband-guid' : field} for network ${sel.name}, but no plugin of that network declares the ${JSON.stringify(cap)} capability, so the attachment fails`,
        `add "capabilities": {${JSON.stringify(cap)}: true} to the plugin that consumes it`,
      );
    }
  }
}

interface Target {
  network?: NetworkInput;
}

/** NPWG v1.3 section 3.4: the NAD (matching namespace) first, else an on-disk config of that name. */
function resolve(sel: NetworkSelection, podNs: string | undefined, index: NetworkIndex): Target | undefined {
  const nad =
    index.nads.find((n) => n.name === sel.name && n.namespace === sel.namespace) ??
    // A manifest without metadata.namespace lands in whatever namespace it is applied to.
    index.nads.find((n) => n.name === sel.name && (n.namespace === undefined || podNs === undefined));
  if (nad) return nad.network ? { network: nad.network } : {};
  const file = index.fileNetworks.get(sel.name);
  return file ? { network: file } : undefined;
}

function nearestName(name: string, index: NetworkIndex): string | undefined {
  const names = [...new Set([...index.nads.map((n) => n.name), ...index.fileNetworks.keys()])];
  if (names.length === 0) return undefined;
  const close = names.filter((n) => n.toLowerCase().includes(name.toLowerCase()) || name.toLowerCase().includes(n.toLowerCase()));
  return `known networks: ${(close.length ? close : names).slice(0, 8).join(', ')}`;
}

function hintFor(code: FindingCode): string | undefined {
  switch (code) {
    case 'BRD503':
      return 'interface names are 1..15 characters, without "/", ":" or whitespace';
    case 'BRD507':
      return 'each attachment needs its own interface name';
    case 'BRD508':
      return 'only one network may carry default-route';
    case 'BRD501':
      return 'use "name", "ns/name", "name@ifname", or a JSON list of {"name": ..., "namespace": ..., "interface": ...}';
    default:
      return undefined;
  }
}
