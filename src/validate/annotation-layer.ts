// Annotation layer: a pod's (or pod template's) network annotations, parsed by the same code
// braid runs on ADD (src/meta/network-selection.ts), then resolved against the NADs and files
// of the run: every reference exists, asks only for capabilities its network declares.
import type { FindingCode } from './codes.js';
import { isObject, type Json, type NadInput, type NetworkInput, type WorkloadInput } from './classify.js';
import { editDistance, suggest } from './did-you-mean.js';
import { fixedAt, type DocContext, type FindingSink } from './finding.js';
import { embeddedOffsetLocator } from './embedded-json.js';
import { locateJsonPointer } from './text-position.js';
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

/** Where inside an annotation's value a problem path ("networks[1].interface") points, in the file. */
async function annotationSpots(w: WorkloadInput, key: string, value: string): Promise<(path?: string) => DocContext> {
  const pointer = `${w.scope.base}${w.annotationsPointer}/${escapeSegment(key)}`;
  const toFile = await embeddedOffsetLocator(w.doc, pointer, value);
  const atKey = w.scope.doc.locate(pointer);
  const text = value.trimStart();
  const lead = value.length - text.length;
  const json = text.startsWith('[') || text.startsWith('{');
  return (path) => {
    const m = path ? /^[\w-]+(\[(\d+)\](.*))?$/.exec(path) : null;
    if (!m || m[2] === undefined) return fixedAt(w.scope.doc, atKey);
    let offset: number;
    if (json) {
      const sub = (m[3] ?? '').replace(/\[(\d+)\]/g, '/$1').replace(/\.([^.[]+)/g, (_, k: string) => `/${escapeSegment(k)}`);
      offset = lead + locateJsonPointer(text, `/${m[2]}${sub}`);
    } else {
      const parts = value.split(',');
      offset = parts.slice(0, Number(m[2])).reduce((n, part) => n + part.length + 1, 0);
      offset += (parts[Number(m[2])] ?? '').length - (parts[Number(m[2])] ?? '').trimStart().length;
    }
    return fixedAt(w.scope.doc, toFile(offset) ?? atKey);
  };
}

// Names a kernel refuses for a new link in the pod: "lo" exists in every network namespace
// (ADD fails "already exists", and the rollback's DEL fails on it too); "all" and "default"
// collide with /proc/sys/net/*/conf/ entries (EINVAL).
const RESERVED_IFNAMES: Record<string, string> = {
  lo: 'is the loopback interface every pod already has: ADD fails with "already exists" and the pod cannot be cleaned up',
  all: 'is reserved by the kernel (/proc/sys/net/ipv4/conf/all): creating it fails with "invalid argument"',
  default: 'is reserved by the kernel (/proc/sys/net/ipv4/conf/default): creating it fails with "invalid argument"',
};

const SELECTION_KEYS = ['name', 'namespace', 'interface', 'ips', 'mac', 'default-route', 'portMappings', 'bandwidth', 'cni-args', 'infiniband-guid', 'ipam-claim-reference', 'deviceID'];

function problemHint(p: SelectionProblem, code: FindingCode): string | undefined {
  const unknown = /unknown key "([^"]+)"/.exec(p.message)?.[1];
  if (unknown === 'gateway') return 'Multus ignores "gateway"; the key for the gateway of the default route is "default-route": ["<gateway IP>"]';
  if (unknown) {
    const s = suggest(unknown, SELECTION_KEYS);
    if (s) return `did you mean ${JSON.stringify(s.word)}?`;
  }
  return hintFor(code);
}

export async function checkWorkload(w: WorkloadInput, index: NetworkIndex, sink: FindingSink): Promise<void> {
  const podNs = w.namespace ?? 'default';
  const what = `${w.kind} ${w.name}`;
  const refs: [NetworkSelection, string, (path?: string) => DocContext][] = [];
  checkKeys(w.annotations, `${w.scope.base}${w.annotationsPointer}`, what, w, sink);
  if (w.ownerAnnotations) {
    const ownerPtr = `${w.scope.base}/metadata/annotations`;
    for (const key of SELECTING) {
      if (w.ownerAnnotations[key] !== undefined && w.annotations[key] === undefined) {
        sink.add(w.scope.doc, 'BRD513', `${ownerPtr}/${escapeSegment(key)}`, `${what}: ${key} is set on the ${w.kind} itself, not on its pod template, so its pods get no extra networks`, `move it to ${w.annotationsPointer.slice(1).replace(/\//g, '.')}`);
      }
    }
  }
  const at = (key: string) => `${w.scope.base}${w.annotationsPointer}/${escapeSegment(key)}`;

  for (const [key, analyze, code] of [
    [NETWORKS_ANNOTATION, analyzeNetworksAnnotation, undefined],
    [GENIE_ANNOTATION, analyzeGenieAnnotation, 'BRD510'],
  ] as const) {
    const value = w.annotations[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      sink.add(w.scope.doc, code ?? 'BRD501', at(key), `${what}: annotation ${key} must be a string, got ${typeof value}`);
      continue;
    }
    const spot = await annotationSpots(w, key, value);
    const r = analyze(value, podNs);
    for (const p of r.problems) {
      const c = code ?? problemCode(p);
      sink.add(spot(p.path), c, at(key), `${what}: ${key === GENIE_ANNOTATION ? 'annotation cni' : key} ${p.path}: ${p.message}`, problemHint(p, c));
    }
    for (const sel of r.selections) refs.push([sel, key, spot]);
    // Elements with a problem still name a network: check that reference too.
    for (const sel of invalidElementsNamed(value, r.selections, podNs)) refs.push([sel, key, spot]);
  }

  const dflt = w.annotations[DEFAULT_NETWORK_ANNOTATION];
  if (dflt !== undefined) {
    try {
      if (typeof dflt !== 'string') throw new Error(`must be a string, got ${typeof dflt}`);
      const sel = parseDefaultNetworkAnnotation(dflt, podNs);
      refs.push([sel, DEFAULT_NETWORK_ANNOTATION, () => w.scope.doc]);
    } catch (e) {
      sink.add(w.scope.doc, 'BRD509', at(DEFAULT_NETWORK_ANNOTATION), `${what}: ${(e as Error).message}`);
    }
  }

  for (const [sel, key, spot] of refs) {
    if (key === DEFAULT_NETWORK_ANNOTATION || sel.interface === undefined) continue;
    const where = spot(`${sourcePath(sel)}.interface`);
    if (sel.interface === CLUSTER_IFNAME) {
      sink.add(where, 'BRD507', at(key), `${what}: ${sel.source} asks for interface ${JSON.stringify(CLUSTER_IFNAME)}, which the cluster network uses`, 'pick another name, e.g. "net1"');
    }
    const reserved = RESERVED_IFNAMES[sel.interface];
    if (reserved) sink.add(where, 'BRD503', at(key), `${what}: ${sel.source} asks for interface ${JSON.stringify(sel.interface)}, which ${reserved}`, 'pick another name, e.g. "net1"');
  }

  const known = index.nads.length > 0 || index.fileNetworks.size > 0;
  if (!known) return;
  for (const [sel, key, spot] of refs) {
    const where = spot(sourcePath(sel));
    const target = resolve(sel, w.namespace, index);
    if (!target) {
      sink.add(where, 'BRD502', at(key), `${what}: ${sel.source} references network ${sel.namespace}/${sel.name}, which is not among the NetworkAttachmentDefinitions and files given`, nearestName(sel.name, index));
      continue;
    }
    if (!target.network) continue; // a NAD without spec.config: its plugins are not known here
    const caps = new Set(pluginsOf(target.network).flatMap((p) => (isObject(p.conf.capabilities) ? Object.keys(p.conf.capabilities).filter((k) => (p.conf.capabilities as Record<string, unknown>)[k] === true) : [])));
    for (const [field, cap] of NEEDS) {
      if (sel[field] === undefined || caps.has(cap)) continue;
      const fieldName = field === 'infinibandGuid' ? 'infiniband-guid' : field;
      const fieldSpot = spot(`${sourcePath(sel)}.${fieldName}`);
      if (field === 'ips' || field === 'mac') {
        // Multus passes them in CNI_ARGS (IP=, MAC=) and args.cni too; braid does the same and checks the result.
        sink.add(
          fieldSpot,
          'BRD514',
          at(key),
          `${what}: ${sel.source} sets ${fieldName} for network ${sel.name}, but no plugin of that network declares the ${JSON.stringify(cap)} capability: it travels in CNI_ARGS (${field === 'ips' ? 'IP=' : 'MAC='}) and args.cni only, and the attachment fails after ADD if the interface does not get it`,
          `declare "capabilities": {${JSON.stringify(cap)}: true} on the plugin that applies it (e.g. static IPAM's plugin, tuning), or check that a plugin reads ${field === 'ips' ? 'IP' : 'MAC'} from CNI_ARGS`,
        );
        continue;
      }
      sink.add(fieldSpot, 'BRD511', at(key), `${what}: ${sel.source} sets ${fieldName} for network ${sel.name}, but no plugin of that network declares the ${JSON.stringify(cap)} capability, so the attachment fails`, `add "capabilities": {${JSON.stringify(cap)}: true} to the plugin that consumes it`);
    }
  }
}

/** "networks[2]" for a JSON element; comma-form sources carry their index in the same form. */
const sourcePath = (sel: NetworkSelection) => /^[\w-]+\[\d+\]/.exec(sel.source)?.[0] ?? sel.source;

/** Names of JSON elements that failed validation, so their references are still checked. */
function invalidElementsNamed(value: string, valid: readonly NetworkSelection[], podNs: string): NetworkSelection[] {
  const text = value.trim();
  if (!text.startsWith('[')) return [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  const ok = new Set(valid.map((s) => s.source));
  return list.flatMap((el, i): NetworkSelection[] => {
    const source = `networks[${i}]`;
    if (ok.has(source) || !isObject(el) || typeof el.name !== 'string' || el.name === '') return [];
    const sel: NetworkSelection = { name: el.name, namespace: typeof el.namespace === 'string' && el.namespace ? el.namespace : podNs, source };
    if (typeof el.interface === 'string') sel.interface = el.interface;
    return [sel];
  });
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
