// Which networks a pod asks for: k8s.v1.cni.cncf.io/networks (NPWG multi-net-spec v1.3 section 4),
// CNI-Genie's `cni` annotation and Multus's v1.multus-cni.io/default-network. Pure: strings in,
// selections plus every problem out (collect, then throw once, as zod does).
import ipaddr from 'ipaddr.js';
import { CniError, Code } from '../cni/errors.js';
import { interfaceNameProblem } from '../cni/names.js';
import { hasInfinity } from '../cni/config.js';

export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';
export const GENIE_ANNOTATION = 'cni';
export const DEFAULT_NETWORK_ANNOTATION = 'v1.multus-cni.io/default-network';
export const MAX_ANNOTATION_BYTES = 64 * 1024;
export const MAX_ATTACHMENTS = 32;

/** protocol lower-cased, as the portmap plugin wants it. */
export interface PortMapping { hostPort: number; containerPort: number; protocol: 'tcp' | 'udp' | 'sctp'; hostIP?: string }
export interface Bandwidth { ingressRate?: number; ingressBurst?: number; egressRate?: number; egressBurst?: number }
export interface NetworkSelection {
  name: string;
  namespace: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  defaultRoute?: string[];
  portMappings?: PortMapping[];
  bandwidth?: Bandwidth;
  cniArgs?: Record<string, unknown>;
  infinibandGuid?: string;
  ipamClaimReference?: string;
  /** Multus's own (dot-less) key: becomes runtimeConfig.deviceID. */
  deviceID?: string;
  /** For messages: 'networks[2]' or 'networks element "ns/name@eth1"'. */
  source: string;
}
export interface SelectionProblem { path: string; message: string }
export interface SelectionAnalysis { selections: NetworkSelection[]; problems: SelectionProblem[] }

type Problems = SelectionProblem[];
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const show = (v: unknown): string => {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Array.isArray(v) ? '[...]' : '{...}'; // nested deeper than the stack (the 64 KiB limit allows ~30,000 levels)
  }
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
};

// DNS-1123 (the rules Kubernetes applies to namespaces and object names). A subdomain cannot hold
// '/', '..', NUL or a leading '/', which matters because names end up near file paths.
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const namespaceProblem = (ns: string) =>
  ns.length <= 63 && LABEL.test(ns) ? undefined
    : `namespace ${show(ns)} is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)`;
export const nameProblem = (name: string, what = 'network name') =>
  name.length <= 253 && SUBDOMAIN.test(name) ? undefined
    : `${what} ${show(name)} is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)`;

const isIp = (s: string) => (s.includes(':') ? ipaddr.IPv6.isValid(s) && !s.includes('%') : ipaddr.IPv4.isValidFourPartDecimal(s));
function isIpOrCidr(s: string): boolean {
  const [ip = '', prefix, ...rest] = s.split('/');
  if (rest.length || !isIp(ip)) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (ip.includes(':') ? 128 : 32));
}
const hexBytes = (n: number) => new RegExp(`^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){${n - 1}}$`);
const MAC = hexBytes(6);
const IB_MAC = hexBytes(20); // IP-over-InfiniBand hardware address, RFC 4391 9.1.1
const GUID = hexBytes(8);

// One rule per JSON key (spec 4.1.2.1); each validates and, when valid, fills the selection.
type Bad = (sub: string, message: string) => void;
type Rule = (v: unknown, sel: NetworkSelection, bad: Bad) => void;
const asString = (v: unknown, bad: Bad): v is string => {
  if (typeof v === 'string') return true;
  bad('', `must be a string, got ${show(v)}`);
  return false;
};
function ipList(v: unknown, bad: Bad, withPrefix: boolean): string[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return void bad('', `must be a non-empty list of IP addresses, got ${show(v)}`);
  const good = (v as unknown[]).filter((ip, i) => {
    const ok = typeof ip === 'string' && (withPrefix ? isIpOrCidr(ip) : isIp(ip));
    if (!ok) bad(`[${i}]`, `${show(ip)} is not an IP address${withPrefix ? ' or IP/prefix' : ''}`);
    return ok;
  });
  return good.length === v.length ? (good as string[]) : undefined;
}
const port = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

const RULES: Record<string, Rule> = {
  name: (v, sel, bad) => {
    if (!asString(v, bad)) return;
    const p = v === '' ? 'network name is empty' : nameProblem(v);
    if (p) bad('', p);
    else sel.name = v;
  },
  namespace: (v, sel, bad) => {
    if (!asString(v, bad) || v === '') return; // empty means the pod's namespace (spec 4.1.2.1.1)
    const p = namespaceProblem(v);
    if (p) bad('', p);
    else sel.namespace = v;
  },
  interface: (v, sel, bad) => {
    if (!asString(v, bad)) return;
    const p = interfaceNameProblem(v);
    if (p) bad('', `interface name ${show(v)} ${p}`);
    else sel.interface = v;
  },
  ips: (v, sel, bad) => {
    const ips = ipList(v, bad, true);
    if (ips) sel.ips = [...ips];
  },
  mac: (v, sel, bad) => {
    if (!asString(v, bad)) return;
    if (MAC.test(v) || IB_MAC.test(v)) sel.mac = v;
    else bad('', `mac ${show(v)} is not a colon-separated 6-byte (Ethernet) or 20-byte (InfiniBand) address`);
  },
  'default-route': (v, sel, bad) => {
    const gws = ipList(v, bad, false);
    if (!gws) return;
    for (const fam of ['IPv4', 'IPv6']) {
      const same = gws.filter((g) => g.includes(':') === (fam === 'IPv6'));
      if (same.length > 1) return bad('', `more than one ${fam} gateway (${same.map(show).join(', ')}): ECMP default routes are not supported`);
    }
    sel.defaultRoute = [...gws];
  },
  portMappings: (v, sel, bad) => {
    if (!Array.isArray(v)) return bad('', `must be a list, got ${show(v)}`);
    let ok = true;
    const no: Bad = (sub, message) => ((ok = false), bad(sub, message));
    const out = v.map((pm: unknown, i): PortMapping | undefined => {
      if (!isObj(pm)) return void no(`[${i}]`, `must be an object, got ${show(pm)}`);
      for (const k of ['hostPort', 'containerPort']) {
        if (!port(pm[k])) no(`[${i}].${k}`, pm[k] === undefined ? `${k} is required` : `${k} ${show(pm[k])} must be an integer 1..65535`);
      }
      const protocol = typeof pm.protocol === 'string' ? pm.protocol.toLowerCase() : pm.protocol === undefined ? 'tcp' : '';
      if (!['tcp', 'udp', 'sctp'].includes(protocol)) no(`[${i}].protocol`, `protocol ${show(pm.protocol)} must be TCP, UDP or SCTP`);
      const { hostIP } = pm;
      if (hostIP !== undefined && hostIP !== '' && !(typeof hostIP === 'string' && isIp(hostIP))) no(`[${i}].hostIP`, `hostIP ${show(hostIP)} is not an IP address`);
      const m = { hostPort: pm.hostPort, containerPort: pm.containerPort, protocol } as PortMapping;
      if (typeof hostIP === 'string' && hostIP !== '') m.hostIP = hostIP;
      return m;
    });
    if (ok) sel.portMappings = out as PortMapping[];
  },
  bandwidth: (v, sel, bad) => {
    if (!isObj(v)) return bad('', `must be an object, got ${show(v)}`);
    const bw: Bandwidth = {};
    let ok = true;
    for (const k of ['ingressRate', 'ingressBurst', 'egressRate', 'egressBurst'] as const) {
      const x = v[k];
      if (x === undefined) continue;
      if (Number.isSafeInteger(x) && (x as number) >= 0) bw[k] = x as number;
      else (ok = false), bad(`.${k}`, `${k} ${show(x)} must be a non-negative integer`);
    }
    for (const dir of ['ingress', 'egress'] as const) {
      if (bw[`${dir}Burst`] !== undefined && bw[`${dir}Rate`] === undefined) {
        (ok = false), bad(`.${dir}Burst`, `${dir}Burst ${show(bw[`${dir}Burst`])} needs ${dir}Rate`);
      }
    }
    if (ok) sel.bandwidth = bw;
  },
  'cni-args': (v, sel, bad) => {
    if (!isObj(v)) return bad('', `must be an object, got ${show(v)}`);
    try {
      sel.cniArgs = structuredClone(v);
    } catch {
      bad('', 'is nested too deeply'); // structuredClone recurses: a RangeError, not a CNI error
    }
  },
  'infiniband-guid': (v, sel, bad) => {
    if (!asString(v, bad)) return;
    if (GUID.test(v)) sel.infinibandGuid = v;
    else bad('', `infiniband-guid ${show(v)} is not a colon-separated 8-byte GUID`);
  },
  'ipam-claim-reference': (v, sel, bad) => {
    if (!asString(v, bad)) return;
    const p = v === '' ? 'IPAMClaim name is empty' : nameProblem(v, 'IPAMClaim name');
    if (p) bad('', p);
    else sel.ipamClaimReference = v;
  },
  deviceID: (v, sel, bad) => {
    if (asString(v, bad) && v !== '') sel.deviceID = v;
  },
};
// Multus before 3.2 spelled `interface` this way and still honours it when `interface` is absent.
RULES.interfaceRequest = (v, sel, bad) => {
  const was = sel.interface;
  RULES.interface!(v, sel, bad);
  if (was !== undefined) sel.interface = was;
};

function jsonElement(el: unknown, path: string, podNs: string, problems: Problems): NetworkSelection | undefined {
  if (!isObj(el)) return void problems.push({ path, message: `element must be an object, got ${show(el)}` });
  const before = problems.length;
  const sel: NetworkSelection = { name: '', namespace: podNs, source: path };
  // `interface` first so that the deprecated alias can see it.
  const keys = Object.keys(el).sort((a, b) => Number(b === 'interface') - Number(a === 'interface'));
  for (const key of keys) {
    const bad: Bad = (sub, message) => problems.push({ path: `${path}.${key}${sub}`, message });
    const rule = Object.hasOwn(RULES, key) ? RULES[key] : undefined; // not "toString" & co.
    if (rule) rule(el[key], sel, bad);
    // Spec 4.1.2.1: keys without a '.' are reserved and extensions use reverse-DNS names, so a
    // dot-less key we don't know is a typo or a newer spec's key: refuse it rather than ignore what
    // the pod asked for. Extension keys (with '.' or '/') are ignored.
    else if (!/[./]/.test(key)) bad('', `unknown key ${show(key)} (keys without a '.' are reserved by the standard; extensions use reverse-DNS names)`);
  }
  if (!('name' in el)) problems.push({ path: `${path}.name`, message: 'name is required' });
  if (el.ips !== undefined && el['ipam-claim-reference'] !== undefined) {
    problems.push({ path: `${path}.ipam-claim-reference`, message: `ipam-claim-reference ${show(el['ipam-claim-reference'])} cannot be combined with ips` });
  }
  return problems.length === before ? sel : undefined;
}

function commaElement(raw: string, root: string, path: string, podNs: string, problems: Problems): NetworkSelection | undefined {
  const text = raw.trim();
  const bad = (message: string) => void problems.push({ path, message });
  if (text === '') return bad('empty element (a leading, trailing or doubled comma)');
  const slash = text.split('/');
  if (slash.length > 2) return bad(`${show(text)} has more than one '/' (expected name, ns/name, name@ifname or ns/name@ifname)`);
  const at = slash[slash.length - 1]!.split('@');
  if (at.length > 2) return bad(`${show(text)} has more than one '@'`);
  const ns = slash.length === 2 ? slash[0]!.trim() : undefined;
  const name = at[0]!.trim();
  const ifname = at[1]?.trim();
  const before = problems.length;
  const check = (problem: string | undefined) => problem && bad(problem);
  if (ns !== undefined) check(ns === '' ? `${show(text)} has an empty namespace before '/'` : namespaceProblem(ns));
  check(name === '' ? `${show(text)} has an empty network name` : nameProblem(name));
  const ifProblem = ifname === undefined ? undefined : interfaceNameProblem(ifname);
  check(ifProblem && `interface name ${show(ifname)} ${ifProblem}`);
  if (problems.length !== before) return undefined;
  const sel: NetworkSelection = { name, namespace: ns ?? podNs, source: `${root} element ${show(text)}` };
  if (ifname !== undefined) sel.interface = ifname;
  return sel;
}

interface Found { sel: NetworkSelection; path: string; json: boolean }

function jsonList(value: string, root: string, podNs: string, problems: Problems): { found: Found[]; count: number } {
  let list: unknown;
  try {
    list = JSON.parse(value);
  } catch (e) {
    problems.push({ path: root, message: jsonSyntaxMessage(value, e) });
    return { found: [], count: 0 };
  }
  if (!Array.isArray(list)) {
    problems.push({ path: root, message: `must be a JSON list, got ${show(list)}` });
    return { found: [], count: 0 };
  }
  // A number beyond float64 would reach a delegate's args.cni as null (JSON.stringify(Infinity)).
  if (hasInfinity(value)) {
    problems.push({ path: root, message: 'holds a number outside the range of a 64-bit float' });
    return { found: [], count: 0 };
  }
  const found = list.flatMap((el, i): Found[] => {
    const path = `${root}[${i}]`;
    const sel = jsonElement(el, path, podNs, problems);
    return sel ? [{ sel, path, json: true }] : [];
  });
  return { found, count: list.length };
}

/** The grammar shared by networks, default-network and (names only) CNI-Genie's annotation. */
function analyze(value: string, podNs: string, root: string, namesOnly = false): SelectionAnalysis {
  const problems: Problems = [];
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_ANNOTATION_BYTES) {
    return { selections: [], problems: [{ path: root, message: `annotation is ${bytes} bytes, more than the limit of ${MAX_ANNOTATION_BYTES}` }] };
  }
  const text = value.trim();
  let found: Found[] = [];
  let count = 0;
  if (text === '') {
    // an empty annotation selects nothing (Multus treats it as absent)
  } else if (text.startsWith('[') && !namesOnly) {
    ({ found, count } = jsonList(text, root, podNs, problems));
  } else if (text.startsWith('{') && !namesOnly) {
    problems.push({ path: root, message: `the JSON form must be a list: wrap the object in [ ] (got ${show(text)})` });
  } else {
    const parts = text.split(',');
    count = parts.length;
    found = parts.flatMap((raw, i): Found[] => {
      const path = `${root}[${i}]`;
      const sel = namesOnly ? genieElement(raw, root, path, podNs, problems) : commaElement(raw, root, path, podNs, problems);
      return sel ? [{ sel, path, json: false }] : [];
    });
  }
  if (count > MAX_ATTACHMENTS) problems.push({ path: root, message: `lists ${count} networks, more than the limit of ${MAX_ATTACHMENTS}` });
  crossCheck(found, problems);
  return { selections: found.map((f) => f.sel), problems };
}

/** Rules across elements: one default-route carrier, unique interface names (spec 4.1.2.1.5). */
function crossCheck(found: Found[], problems: Problems): void {
  const routeBy = found.find((f) => f.sel.defaultRoute)?.path;
  const ifOwner = new Map<string, string>();
  for (const { sel, path, json } of found) {
    if (sel.defaultRoute && path !== routeBy) {
      problems.push({ path: `${path}.default-route`, message: `default-route ${show(sel.defaultRoute)} is already set by ${routeBy}; only one network may carry it` });
    }
    if (sel.interface === undefined) continue;
    const owner = ifOwner.get(sel.interface);
    if (owner) problems.push({ path: json ? `${path}.interface` : path, message: `interface name ${show(sel.interface)} is already requested by ${owner}` });
    else ifOwner.set(sel.interface, path);
  }
}

function genieElement(raw: string, root: string, path: string, podNs: string, problems: Problems): NetworkSelection | undefined {
  const name = raw.trim();
  const p = name === '' ? 'empty element (a leading, trailing or doubled comma)' : nameProblem(name);
  if (p) return void problems.push({ path, message: p });
  return { name, namespace: podNs, source: `${root} element ${show(name)}` };
}

function throwIfProblems(annotation: string, problems: Problems): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`).join('; ');
  const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
  throw new CniError(Code.InvalidConfig, `invalid ${annotation} annotation: ${shown}${more}`);
}

export const analyzeNetworksAnnotation = (value: string, podNamespace: string) => analyze(value, podNamespace, 'networks');
export const analyzeGenieAnnotation = (value: string, podNamespace: string) => analyze(value, podNamespace, 'cni', true);

/** An invalid element makes the whole annotation invalid (spec 4.1.2.1.3 and following). */
export function parseNetworksAnnotation(value: string, podNamespace: string): NetworkSelection[] {
  const { selections, problems } = analyzeNetworksAnnotation(value, podNamespace);
  throwIfProblems(NETWORKS_ANNOTATION, problems);
  return selections;
}

export function parseGenieAnnotation(value: string, podNamespace: string): NetworkSelection[] {
  const { selections, problems } = analyzeGenieAnnotation(value, podNamespace);
  throwIfProblems(`CNI-Genie ${GENIE_ANNOTATION}`, problems);
  return selections;
}

/**
 * Multus's per-pod cluster network: "name", "ns/name" or a one-element JSON list. An interface
 * request is refused: the cluster network always takes the runtime's CNI_IFNAME.
 */
export function parseDefaultNetworkAnnotation(value: string, podNamespace: string): NetworkSelection {
  const { selections, problems } = analyze(value, podNamespace, 'default-network');
  const [sel] = selections;
  if (problems.length === 0 && selections.length !== 1) {
    problems.push({ path: 'default-network', message: `must name exactly one network, got ${selections.length} in ${show(value)}` });
  } else if (problems.length === 0 && sel?.interface !== undefined) {
    const path = sel.source.startsWith('default-network[') ? 'default-network[0].interface' : 'default-network[0]';
    problems.push({ path, message: `interface ${show(sel.interface)} cannot be chosen for the cluster network (it always uses CNI_IFNAME)` });
  }
  throwIfProblems(DEFAULT_NETWORK_ANNOTATION, problems);
  return sel!;
}

/** "invalid JSON at line L, column C: reason"; V8 omits the position for some errors, so find it. */
function jsonSyntaxMessage(text: string, e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  const m = / at position (\d+)/.exec(raw);
  const offset = m ? Number(m[1]) : jsonErrorOffset(text);
  const reason = raw.replace(/, ".*" is not valid JSON$/s, '').replace(/ (in JSON )?at position \d+.*$/s, '');
  const lines = text.slice(0, offset).split('\n');
  return `invalid JSON at line ${lines.length}, column ${lines.at(-1)!.length + 1}: ${reason}`;
}

/**
 * Offset of the first bad character: the longest prefix that still fails only because it ends
 * early (viability is monotone, so binary search; at most ~17 parses of <= 64 KiB).
 */
function jsonErrorOffset(s: string): number {
  const viable = (k: number) => {
    try {
      return JSON.parse(s.slice(0, k)), true;
    } catch (e) {
      const msg = e instanceof Error ? e.message : '';
      const at = / at position (\d+)/.exec(msg);
      return msg.includes('Unexpected end') || (at !== null && Number(at[1]) >= k);
    }
  };
  let [lo, hi] = [0, s.length];
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (viable(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
