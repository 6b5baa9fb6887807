// Generators for everything braid parses from outside: structured values that are valid or
// nearly so (so parsers get past their first check), mutated and truncated variants, and plain
// garbage. Objects always travel as JSON text (fc's records may have a null prototype).
import fc from 'fast-check';
import { SUPPORTED_VERSIONS } from '../../src/cni/version.js';

type Json = unknown;
type Obj = Record<string, Json>;

// ---------------------------------------------------------------- strings and JSON in general

/** Strings that have broken parsers before: traversal, NUL, lone surrogates, prototype keys. */
export const trickyString = fc.constantFrom(
  '', ' ', '\t', '\n', '\0', '.', '..', '/', '../x', 'a/b', 'a\\b', '__proto__', 'constructor', 'toString',
  'hasOwnProperty', '\u2028', '\ud800', '😀', 'é', 'İ', '\u212a', 'true', 'null', '[]', '{}', ',', ';', '=', '@', ':',
  '-1', '1e309', 'x'.repeat(16), 'x'.repeat(64), 'x'.repeat(254), 'x'.repeat(5000),
);

export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme' }) },
  { weight: 3, arbitrary: trickyString },
);

/** JSON nested past the stack (JSON.parse copes, recursive printers and cloners do not). */
export const deepJsonText = fc
  .tuple(fc.integer({ min: 3_000, max: 20_000 }), fc.boolean())
  .map(([depth, arr]) => deepText(depth, arr));
const deepText = (depth: number, arr: boolean) => (arr ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

// A generator can't hold a value nested that deep (fast-check and JSON.stringify recurse), so it
// holds a marker string, and toText() splices the deep JSON into the text.
const DEEP_MARK = /"\\u0000deep:(\d+):([ao])\\u0000"/g;
const deepMarker = fc.tuple(fc.integer({ min: 3_000, max: 20_000 }), fc.constantFrom('a', 'o')).map(([d, k]) => `\0deep:${d}:${k}\0`);
/** JSON text for a generated value, deep markers expanded. */
export const toText = (v: Json): string => (JSON.stringify(v) ?? 'undefined').replace(DEEP_MARK, (_m, d: string, k: string) => deepText(Number(d), k === 'a'));
/** A generated value as the object a parser would see (via its JSON text). */
export const fromText = (v: Json): Json => JSON.parse(toText(v)) as Json;

/** Any JSON value, now and then one nested past the stack (expanded by toText). */
export const anyJson: fc.Arbitrary<Json> = fc.oneof(
  { weight: 12, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deepMarker },
);
/** Any JSON value that JSON.stringify can print back (for round trips). */
export const shallowJson: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 });

/** Damage JSON text: cut it short, drop, insert or duplicate characters. */
export function damagedText(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(text, fc.nat(), fc.nat(), fc.constantFrom('truncate', 'drop', 'insert', 'dup'), fc.string({ minLength: 1, maxLength: 3, unit: 'binary' }))
    .map(([t, a, b, how, ins]) => {
      const i = t.length ? a % t.length : 0;
      const j = Math.min(t.length, i + 1 + (b % 8));
      if (how === 'truncate') return t.slice(0, i);
      if (how === 'drop') return t.slice(0, i) + t.slice(j);
      if (how === 'insert') return t.slice(0, i) + ins + t.slice(i);
      return t.slice(0, j) + t.slice(i);
    });
}

interface Mutation {
  path: number[];
  op: 'set' | 'delete' | 'add' | 'wrap';
  value: Json;
  key: string;
}
const mutation: fc.Arbitrary<Mutation> = fc.record({
  path: fc.array(fc.nat(), { maxLength: 3 }),
  op: fc.constantFrom('set', 'set', 'delete', 'add', 'wrap'),
  value: anyJson,
  key: fc.oneof(fc.string({ maxLength: 8 }), trickyString),
});

function applyMutation(root: Json, m: Mutation): Json {
  if (root === null || typeof root !== 'object') return m.op === 'wrap' ? [root] : m.value;
  let cur = root as Obj | Json[];
  let steps = m.path.length;
  for (const n of m.path) {
    const keys = Object.keys(cur);
    if (keys.length === 0) break;
    const next = (cur as Obj)[keys[n % keys.length]!];
    if (next === null || typeof next !== 'object' || --steps === 0) {
      return mutateAt(root, cur, keys[n % keys.length]!, m);
    }
    cur = next as Obj | Json[];
  }
  return mutateAt(root, cur, m.key, m);
}

function mutateAt(root: Json, parent: Obj | Json[], key: string, m: Mutation): Json {
  const p = parent as Obj;
  if (m.op === 'delete') {
    if (Array.isArray(parent) && /^\d+$/.test(key)) parent.splice(Number(key), 1);
    else delete p[key];
  } else if (m.op === 'wrap') p[key] = [p[key]];
  else if (m.op === 'add' && !Array.isArray(parent)) p[m.key] = m.value;
  else p[key] = m.value;
  return root;
}

/** A valid value with one to three random changes somewhere inside (a wrong type, a missing key). */
export function mutated<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<Json> {
  return fc
    .tuple(arb, fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([v, ms]) => ms.reduce((acc, m) => applyMutation(acc, m), JSON.parse(JSON.stringify(v)) as Json));
}

/** Drop keys whose value is undefined (so optional parts can be generated as `undefined`). */
export function compact<T extends object>(o: T): T {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** undefined `skip` times for each time `arb` (a fraction: `arb` 1/skip times as often as undefined). */
export const sometimes = <T>(arb: fc.Arbitrary<T>, skip = 2) =>
  fc.oneof(
    { weight: skip >= 1 ? Math.round(skip) : 1, arbitrary: fc.constant(undefined) },
    { weight: skip >= 1 ? 1 : Math.round(1 / skip), arbitrary: arb },
  );

// ---------------------------------------------------------------- names

export const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/);
export const dnsSubdomain = fc.array(dnsLabel, { minLength: 1, maxLength: 3 }).map((a) => a.join('.'));
export const badName = fc.constantFrom(
  'a/b', '..', '.', 'a..b', 'a\0b', 'Net', 'ñet', '-a', 'a-', 'a_b', ' a', 'a b', 'x'.repeat(254), 'x'.repeat(64), '',
  '__proto__', 'toString', 'a@b', 'a,b', 'ns/a/b', '/abs', 'a\nb', '😀',
);
export const networkName = fc.oneof(
  { weight: 8, arbitrary: dnsSubdomain },
  { weight: 2, arbitrary: badName },
  { weight: 1, arbitrary: anyString },
);
export const namespaceName = fc.oneof(
  { weight: 8, arbitrary: dnsLabel },
  { weight: 2, arbitrary: badName },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(63), 'a.b') },
  { weight: 1, arbitrary: anyString },
);
export const validIfName = fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/);
export const ifName = fc.oneof(
  { weight: 8, arbitrary: validIfName },
  { weight: 2, arbitrary: fc.constantFrom('', '.', '..', 'a/b', 'a:b', 'a b', 'x'.repeat(16), 'eth\0', 'ethé', 'net\t1', 'x'.repeat(15), '@') },
  { weight: 1, arbitrary: anyString },
);
export const validContainerId = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,70}$/);
export const containerId = fc.oneof(
  { weight: 8, arbitrary: validContainerId },
  { weight: 2, arbitrary: badName },
  { weight: 1, arbitrary: anyString },
);

// ---------------------------------------------------------------- addresses

export const ipv4 = fc.ipV4();
export const ipv6 = fc.oneof(fc.ipV6(), fc.constantFrom('::', '::1', '::ffff:10.0.0.1', 'FE80::1', 'fd00:10:244::5'));
export const ip = fc.oneof(ipv4, ipv6);
export const cidr4 = fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`);
export const cidr6 = fc.tuple(ipv6, fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`);
export const cidr = fc.oneof(cidr4, cidr6);
export const badIp = fc.oneof(
  fc.ipV4Extended(),
  fc.constantFrom('1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', 'fe80::1%eth0', '::g', '1.2.3.4/33', '::/129', '1.2.3.4/', '/24', '1.2.3.4/-1', '1.2.3.4/024', 'localhost', ''),
  anyString,
);
const hex2 = fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).padStart(2, '0'));
const hexBytes = (n: number) => fc.array(hex2, { minLength: n, maxLength: n }).map((a) => a.join(':'));
export const mac = fc.oneof({ weight: 4, arbitrary: hexBytes(6) }, { weight: 1, arbitrary: hexBytes(20) }, { weight: 1, arbitrary: fc.constantFrom('00:11:22:33:44', '0011.2233.4455', 'zz:11:22:33:44:55') });
export const guid = fc.oneof({ weight: 3, arbitrary: hexBytes(8) }, { weight: 1, arbitrary: hexBytes(7) });

// ---------------------------------------------------------------- the networks annotation

const port = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 65535 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 65536, -1, 1.5, '80', null) });
const portMapping = fc
  .record({
    hostPort: port,
    containerPort: port,
    protocol: sometimes(fc.constantFrom('tcp', 'TCP', 'Udp', 'sctp', 'icmp', '', 5)),
    hostIP: sometimes(fc.oneof(ip, fc.constant(''), badIp)),
  })
  .map(compact);
const rate = fc.oneof({ weight: 8, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.constantFrom(-1, 1.5, 2 ** 53, '1', null) });
const bandwidth = fc
  .record({ ingressRate: sometimes(rate, 1), ingressBurst: sometimes(rate), egressRate: sometimes(rate, 1), egressBurst: sometimes(rate) })
  .map(compact);

/** One JSON-form element; each key rarely present, so most elements are valid. */
export const selectionElement = fc
  .record({
    name: fc.oneof({ weight: 12, arbitrary: networkName }, { weight: 1, arbitrary: shallowJson }),
    namespace: sometimes(fc.oneof(namespaceName, fc.constant('')), 1),
    interface: sometimes(ifName, 1),
    interfaceRequest: sometimes(ifName, 8),
    ips: sometimes(fc.array(fc.oneof({ weight: 6, arbitrary: fc.oneof(ip, cidr) }, { weight: 1, arbitrary: badIp }), { minLength: 1, maxLength: 3 }), 4),
    mac: sometimes(mac, 4),
    'default-route': sometimes(fc.oneof(fc.tuple(ipv4).map((a) => a as string[]), fc.tuple(ipv4, ipv6), fc.array(fc.oneof(ip, badIp), { maxLength: 3 })), 5),
    portMappings: sometimes(fc.array(portMapping, { maxLength: 2 }), 4),
    bandwidth: sometimes(bandwidth, 4),
    'cni-args': sometimes(fc.oneof({ weight: 6, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }) }, { weight: 1, arbitrary: shallowJson }), 4),
    'infiniband-guid': sometimes(guid, 6),
    'ipam-claim-reference': sometimes(networkName, 8),
    deviceID: sometimes(fc.oneof(fc.constantFrom('0000:03:00.1', ''), anyString), 6),
    'example.com/extension': sometimes(shallowJson, 8),
    typo: sometimes(shallowJson, 20),
  })
  .map(compact);

/** A JSON-form annotation: a list of elements, printed with random spacing. */
export const jsonFormAnnotation = fc
  .tuple(fc.array(selectionElement, { maxLength: 5 }), fc.constantFrom(0, 0, 1, 2), fc.constantFrom('', ' ', '\n'))
  .map(([els, indent, pad]) => {
    // Give elements distinct interfaces more often than chance, and at most one default-route.
    let routed = false;
    const list = els.map((e: Obj, i) => {
      const out = { ...e };
      if (out['default-route'] !== undefined && routed) delete out['default-route'];
      if (out['default-route'] !== undefined) routed = true;
      if (typeof out.interface === 'string' && /^[a-z][a-z0-9]*$/.test(out.interface)) out.interface = `${out.interface.slice(0, 12)}${i}`;
      return out;
    });
    return `${pad}${JSON.stringify(list, null, indent)}${pad}`;
  });

const spaced = (s: string) => fc.tuple(fc.constantFrom('', ' ', '  '), fc.constantFrom('', ' ', '\t')).map(([a, b]) => `${a}${s}${b}`);
const commaElement = fc
  .tuple(sometimes(namespaceName, 1), networkName, sometimes(ifName, 1), fc.nat())
  .chain(([ns, name, ifn, i]) => {
    const iface = ifn !== undefined && /^[a-z][a-z0-9]*$/.test(ifn) ? `${ifn.slice(0, 12)}${i % 100}` : ifn;
    return spaced(`${ns === undefined ? '' : `${ns}/`}${name}${iface === undefined ? '' : `@${iface}`}`);
  });
/** The comma form: name, ns/name, name@if, with spaces, empty elements and extra separators. */
export const commaFormAnnotation = fc
  .array(fc.oneof({ weight: 12, arbitrary: commaElement }, { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a/b/c', 'a@b@c', '/x', 'ns/', '@eth0') }), { minLength: 1, maxLength: 6 })
  .map((els) => els.join(','));

/** Everything a pod could put in the networks annotation. */
export const annotationValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: jsonFormAnnotation },
  { weight: 5, arbitrary: commaFormAnnotation },
  { weight: 2, arbitrary: mutated(jsonFormAnnotation.map((t) => JSON.parse(t) as Json)).map(toText) },
  { weight: 2, arbitrary: damagedText(jsonFormAnnotation) },
  { weight: 2, arbitrary: anyString },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.nat({ max: 60 }).map((n) => Array.from({ length: n }, (_, i) => `n${i}`).join(',')) },
  // Rare and slow: nested past the stack, over the size limit, thousands of elements.
  {
    weight: 1,
    arbitrary: fc.oneof(
      deepJsonText.map((t) => `[${t}]`),
      deepJsonText.map((t) => `[{"name":"a","cni-args":{"x":${t}}}]`),
      fc.constantFrom('x'.repeat(70_000), `[${'{"name":"a"},'.repeat(6000)}{"name":"a"}]`),
    ),
  },
);

// ---------------------------------------------------------------- CNI_ARGS and the environment

const argKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('IgnoreUnknown', 'K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_UID', 'K8S_POD_INFRA_CONTAINER_ID', 'MAC', 'IP') },
  { weight: 2, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 1, arbitrary: anyString },
);
const argValue = fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 12 }) }, { weight: 1, arbitrary: anyString });
/** K=V;K2=V2 with empty elements, '=' in values, ';' and '=' in odd places. */
export const cniArgsRaw: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.tuple(argKey, argValue), { maxLength: 6 }).map((ps) => ps.map(([k, v]) => `${k}=${v}`).join(';')) },
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.constant(''), fc.tuple(argKey, argValue).map(([k, v]) => `${k}=${v}`), argKey), { maxLength: 5 }).map((ps) => ps.join(';')) },
  { weight: 2, arbitrary: anyString },
);

export const verbish = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC') },
  { weight: 2, arbitrary: fc.constantFrom('add', 'Del', '', ' ADD', 'ADD ', 'FOO', 'toString', '__proto__') },
  { weight: 1, arbitrary: anyString },
);

export interface CniEnvVars {
  CNI_COMMAND?: string;
  CNI_CONTAINERID?: string;
  CNI_NETNS?: string;
  CNI_IFNAME?: string;
  CNI_ARGS?: string;
  CNI_PATH?: string;
  [k: string]: string | undefined;
}

/** A random subset of the CNI_* variables; values mostly valid. */
export const cniEnv: fc.Arbitrary<CniEnvVars> = fc
  .record({
    CNI_COMMAND: sometimes(verbish, 0.1),
    CNI_CONTAINERID: sometimes(containerId, 0.2),
    CNI_NETNS: sometimes(fc.oneof(fc.constantFrom('/var/run/netns/cni-1', '/proc/1/ns/net', ''), anyString), 0.3),
    CNI_IFNAME: sometimes(ifName, 0.2),
    CNI_ARGS: sometimes(cniArgsRaw, 1),
    CNI_PATH: sometimes(fc.oneof(fc.constantFrom('/opt/cni/bin', '/opt/cni/bin:/usr/libexec/cni', ':', '', 'relative:dir'), anyString), 0.2),
    CNI_EXTRA: sometimes(anyString, 8),
  })
  .map(compact);

// ---------------------------------------------------------------- configs and conflists

export const versionish = fc.oneof(
  { weight: 16, arbitrary: fc.constantFrom(...SUPPORTED_VERSIONS) },
  { weight: 2, arbitrary: fc.constantFrom('0.1.0', '0.2.0', '2.0.0', '1.0', '01.0.0', '', 'v1.0.0', '1.0.0-rc1') },
  { weight: 1, arbitrary: anyString },
);
const boolish = fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 2, arbitrary: fc.constantFrom('true', 'FALSE', 'True', 'yes', '1', 1, null) });
export const pluginType = fc.oneof(
  { weight: 16, arbitrary: fc.constantFrom('bridge', 'macvlan', 'portmap', 'tuning', 'bandwidth', 'host-local', 'firewall') },
  { weight: 2, arbitrary: fc.constantFrom('', '../bin/sh', 'a/b', 'a\\b', '.', '..', 'x\0y', '/bin/true') },
  { weight: 1, arbitrary: anyString },
);
const extraKeys = fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('cni.dev/x', '__proto__', 'toString')), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });

export const pluginConf = fc
  .tuple(
    fc.record({
      type: pluginType,
      name: sometimes(networkName, 4),
      cniVersion: sometimes(versionish, 4),
      capabilities: sometimes(fc.dictionary(fc.constantFrom('portMappings', 'ips', 'mac', 'bandwidth', 'x'), fc.boolean(), { maxKeys: 3 }), 3),
      ipam: sometimes(fc.record({ type: fc.constantFrom('host-local', 'static', 'dhcp'), subnet: sometimes(cidr4, 1) }).map(compact), 1),
      dns: sometimes(fc.record({ nameservers: sometimes(fc.array(ip, { maxLength: 2 }), 1), domain: sometimes(fc.string(), 1) }).map(compact), 4),
      args: sometimes(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }), 4),
      runtimeConfig: sometimes(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }), 6),
    }),
    extraKeys,
  )
  .map(([p, extra]) => ({ ...extra, ...compact(p) }));

export const conflist = fc
  .tuple(
    fc.record({
      cniVersion: versionish,
      cniVersions: sometimes(fc.array(versionish, { maxLength: 3 }), 4),
      name: networkName,
      disableCheck: sometimes(boolish, 3),
      disableGC: sometimes(boolish, 3),
      plugins: fc.array(pluginConf, { minLength: 1, maxLength: 3 }),
    }),
    extraKeys,
  )
  .map(([l, extra]) => ({ ...extra, ...compact(l) }) as Obj);

/** A pre-1.0 single-plugin .conf. */
export const singleConf = fc
  .tuple(pluginConf, fc.record({ cniVersion: versionish, name: networkName, cniVersions: sometimes(fc.array(versionish, { maxLength: 2 }), 4) }))
  .map(([p, l]) => ({ ...p, ...compact(l) }) as Obj);

/** Any JSON value offered as a network configuration. */
export const configValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: conflist },
  { weight: 3, arbitrary: singleConf },
  { weight: 4, arbitrary: mutated(conflist) },
  { weight: 2, arbitrary: mutated(singleConf) },
  { weight: 2, arbitrary: anyJson },
);
/** Bytes offered as a configuration file or spec.config. */
export const configText: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: configValue.map(toText) },
  { weight: 2, arbitrary: damagedText(conflist.map((v) => JSON.stringify(v))) },
  { weight: 1, arbitrary: anyString },
  { weight: 1, arbitrary: deepJsonText.map((t) => `{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"x","ipam":${t}}]}`) },
);

// ---------------------------------------------------------------- NAD objects

export const nadObject = (name: string): fc.Arbitrary<Json> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ apiVersion: fc.constant('k8s.cni.cncf.io/v1'), kind: fc.constant('NetworkAttachmentDefinition'), metadata: fc.constant({ name, namespace: 'default' }), spec: fc.record({ config: configText }) }) },
    { weight: 2, arbitrary: fc.record({ metadata: fc.constant({ name }), spec: sometimes(fc.record({ config: sometimes(anyJson, 1) }).map(compact), 1) }).map(compact) },
    { weight: 1, arbitrary: mutated(fc.record({ metadata: fc.constant({ name }), spec: fc.record({ config: configText }) })) },
  );

// ---------------------------------------------------------------- braid's own config

/** Usually `valid`, now and then `junk`. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, junk: fc.Arbitrary<U>) => fc.oneof({ weight: 8, arbitrary: valid }, { weight: 1, arbitrary: junk });

// Networks the edge fuzz's confDir holds, so selections resolve and reach the engine.
const knownNetworks = fc.constantFrom('net1', 'net2,old', 'default/net1@eth1', '[{"name":"net2","interface":"net0"}]', 'net1,net1', 'broken', 'deep', 'cluster', 'team-a/net1');
const podAnnotations = fc
  .record({
    'k8s.v1.cni.cncf.io/networks': sometimes(fc.oneof({ weight: 4, arbitrary: knownNetworks }, { weight: 4, arbitrary: annotationValue }, { weight: 1, arbitrary: anyJson }), 0.5),
    cni: sometimes(fc.oneof(fc.constantFrom('net1', 'net2'), commaFormAnnotation, anyString), 4),
    'v1.multus-cni.io/default-network': sometimes(fc.oneof(fc.constantFrom('cluster', 'kube-system/cluster', 'net1'), annotationValue), 4),
  })
  .map(compact);

export const braidConfig = fc
  .tuple(
    fc.record({
      cniVersion: sometimes(versionish, 0.2),
      cniVersions: sometimes(fc.array(versionish, { maxLength: 2 }), 6),
      name: sometimes(networkName, 0.5),
      type: mostly(fc.constantFrom('braid', 'multus'), anyString),
      clusterNetwork: sometimes(fc.oneof(conflist, singleConf, fc.constantFrom('cluster', 'kube-system/cluster', 'net1', 'old', '/ABS', '/ABS/cluster.conflist', '/ABS/missing.conf'), networkName), 0.3),
      delegates: sometimes(fc.array(fc.oneof(conflist, singleConf), { maxLength: 2 }), 2),
      defaultNetworks: sometimes(fc.array(fc.oneof(fc.constantFrom('net1', 'net2', 'default/net1'), networkName), { maxLength: 2 }), 2),
      runtimeConfig: sometimes(
        fc
          .record({
            'io.kubernetes.cri.pod-annotations': sometimes(mostly(podAnnotations, anyJson), 0.3),
            portMappings: sometimes(fc.array(portMapping, { maxLength: 2 }), 3),
            ips: sometimes(fc.array(cidr, { maxLength: 2 }), 4),
          })
          .map(compact),
        0.5,
      ),
      namespaceIsolation: sometimes(mostly(fc.boolean(), boolish), 2),
      globalNamespaces: sometimes(fc.oneof(fc.constantFrom('default,kube-system', ''), fc.array(namespaceName, { maxLength: 2 })), 4),
      systemNamespaces: sometimes(fc.oneof(fc.constantFrom('kube-system', ''), fc.array(namespaceName, { maxLength: 2 })), 4),
      multusNamespace: sometimes(mostly(dnsLabel, namespaceName), 4),
      readinessindicatorfile: sometimes(fc.constant('/READY'), 4),
      logLevel: sometimes(fc.oneof(fc.constantFrom('debug', 'verbose', 'PANIC', 'nope', ''), anyString), 3),
      LogFile: sometimes(fc.constant('x'), 6),
      parallel: sometimes(mostly(fc.boolean(), boolish), 3),
      result: sometimes(mostly(fc.constantFrom('merged', 'cluster'), fc.constantFrom('both', '')), 3),
      delegateTimeout: sometimes(mostly(fc.integer({ min: 1, max: 3600 }), fc.oneof(fc.double({ min: -1, max: 4000, noNaN: true }), fc.constant('10'))), 4),
      capabilities: sometimes(fc.dictionary(fc.constantFrom('portMappings', 'ips', 'io.kubernetes.cri.pod-annotations'), fc.boolean(), { maxKeys: 2 }), 4),
      args: sometimes(fc.record({ cni: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }) }), 6),
      prevResult: sometimes(anyJson, 8),
      'cni.dev/valid-attachments': sometimes(mostly(fc.array(fc.record({ containerID: containerId, ifname: ifName }), { maxLength: 2 }), anyJson), 3),
      disableCheck: sometimes(boolish, 6),
    }),
    extraKeys,
  )
  .map(([c, extra]) => ({ ...extra, ...compact(c) }) as Obj);

/** A braid config with only valid values, naming the edge fuzz's networks: gets to the engine. */
export const cleanBraidConfig = fc
  .record({
    cniVersion: fc.constantFrom(...SUPPORTED_VERSIONS),
    name: fc.constant('braid'),
    type: fc.constant('braid'),
    clusterNetwork: fc.oneof(fc.constantFrom('cluster', 'kube-system/cluster', 'net1', 'old', '/ABS/cluster.conflist', '/ABS'), conflist),
    defaultNetworks: sometimes(fc.array(fc.constantFrom('net1', 'net2', 'default/net1', 'missing'), { maxLength: 2 }), 1),
    runtimeConfig: sometimes(
      fc.record({
        'io.kubernetes.cri.pod-annotations': podAnnotations,
        portMappings: sometimes(fc.array(portMapping, { maxLength: 2 }), 2),
      }).map(compact),
      0.3,
    ),
    namespaceIsolation: sometimes(fc.boolean(), 2),
    parallel: sometimes(fc.boolean(), 1),
    result: sometimes(fc.constantFrom('merged', 'cluster'), 2),
    'cni.dev/valid-attachments': sometimes(fc.array(fc.record({ containerID: validContainerId, ifname: validIfName }), { maxLength: 2 }), 2),
  })
  .map((c) => compact(c) as Obj);

// ---------------------------------------------------------------- results

const intField = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -1000, max: 100_000 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 2 ** 31 - 1, Number.MAX_SAFE_INTEGER) });
const resultString = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('eth0', 'cni0', 'veth1a2b', '/var/run/netns/x', '0000:03:00.1', '') }, { weight: 1, arbitrary: anyString });

/** A result valid at `version`, written the way a delegate of that version writes it. */
export function wireResult(version: string): fc.Arbitrary<Obj> {
  const v11 = version === '1.1.0';
  const v0 = version.startsWith('0.');
  const iface = fc
    .record({
      name: resultString,
      mac: sometimes(fc.oneof(mac, resultString), 1),
      sandbox: sometimes(resultString, 1),
      mtu: v11 ? sometimes(fc.nat({ max: 65536 }), 1) : fc.constant(undefined),
      socketPath: v11 ? sometimes(resultString, 2) : fc.constant(undefined),
      pciID: v11 ? sometimes(resultString, 2) : fc.constant(undefined),
    })
    .map(compact);
  const ipc = fc
    .record({ address: cidr, gateway: sometimes(ip, 1), interface: sometimes(fc.nat({ max: 4 }), 1), withVersion: fc.boolean() })
    .map(({ withVersion, ...r }) => compact({ ...(v0 && withVersion ? { version: r.address.includes(':') ? '6' : '4' } : {}), ...r }));
  const route = fc
    .record({
      dst: cidr,
      gw: sometimes(ip, 1),
      mtu: v11 ? sometimes(intField, 2) : fc.constant(undefined),
      advmss: v11 ? sometimes(intField, 2) : fc.constant(undefined),
      priority: v11 ? sometimes(intField, 2) : fc.constant(undefined),
      table: v11 ? sometimes(intField, 2) : fc.constant(undefined),
      scope: v11 ? sometimes(intField, 2) : fc.constant(undefined),
    })
    .map(compact);
  const dns = fc
    .record({
      nameservers: sometimes(fc.array(ip, { maxLength: 3 }), 1),
      domain: sometimes(fc.string(), 1),
      search: sometimes(fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), 1),
      options: sometimes(fc.array(fc.constantFrom('ndots:5', 'edns0', 'rotate'), { maxLength: 2 }), 1),
    })
    .map(compact);
  return fc
    .record({
      cniVersion: fc.oneof({ weight: 6, arbitrary: fc.constant(version) }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant('') }),
      interfaces: sometimes(fc.array(iface, { maxLength: 3 }), 0.3),
      ips: sometimes(fc.array(ipc, { maxLength: 3 }), 0.3),
      routes: sometimes(fc.array(route, { maxLength: 3 }), 0.5),
      dns: sometimes(dns, 1),
    })
    .map(compact);
}

export const specVersion = fc.constantFrom(...SUPPORTED_VERSIONS);
/** A version and a result valid in it. */
export const versionedResult = specVersion.chain((v) => wireResult(v).map((r) => ({ version: v, result: r })));

/** What a delegate may print: valid results of every version, damaged ones and garbage. */
export const resultValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: versionedResult.map((x) => x.result) },
  { weight: 4, arbitrary: mutated(versionedResult.map((x) => x.result)) },
  { weight: 1, arbitrary: versionedResult.map((x) => ({ ...x.result, cniVersion: 'junk' })) },
  { weight: 2, arbitrary: anyJson },
);

// ---------------------------------------------------------------- cached records

const b64 = (s: string) => Buffer.from(s).toString('base64');
// Records hold config bytes opaquely: a few real lists and some noise are enough (and cheap).
const recordedConfig = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(
    '{"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"bridge"}]}',
    '{"cniVersion":"1.1.0","name":"cluster","plugins":[{"type":"ptp","ipam":{"type":"host-local"}},{"type":"portmap","capabilities":{"portMappings":true}}]}',
    '{"cniVersion":"0.3.1","name":"old","plugins":[{"type":"macvlan"}]}',
    '{"cniVersion":"0.4.0","name":"single","type":"bridge"}',
  ) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const cniArgsPairs = fc.array(fc.tuple(argKey, argValue), { maxLength: 3 });

export const cacheRecord = fc
  .record({
    kind: fc.constant('cniCacheV1'),
    containerId: validContainerId,
    config: recordedConfig.map(b64),
    ifName: validIfName,
    networkName: dnsSubdomain,
    netns: sometimes(fc.constant('/var/run/netns/x'), 1),
    cniArgs: sometimes(cniArgsPairs, 1),
    capabilityArgs: sometimes(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }), 1),
    result: sometimes(versionedResult.map((x) => x.result), 1),
  })
  .map(compact);

export const planRecord = fc
  .record({
    kind: fc.constant('braidPlanV1'),
    containerId: validContainerId,
    ifname: validIfName,
    netns: fc.constantFrom('/var/run/netns/x', ''),
    cniArgs: cniArgsPairs,
    pod: sometimes(fc.record({ namespace: dnsLabel, name: dnsSubdomain, uid: sometimes(fc.uuid(), 1) }).map(compact), 1),
    attachments: fc.array(
      fc
        .record({
          network: fc.oneof(dnsSubdomain, dnsSubdomain.map((n) => `default/${n}`)),
          ifname: validIfName,
          config: recordedConfig,
          capabilityArgs: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
          isCluster: fc.boolean(),
          gateways: sometimes(fc.array(ip, { maxLength: 2 }), 2),
        })
        .map(({ gateways, ...a }) => ({ ...a, ...(gateways ? { wantsDefaultRoute: true, defaultRouteGateways: gateways } : {}) })),
      { maxLength: 3 },
    ),
  })
  .map(compact);

/** Record file contents: valid, truncated (a crash mid-write), wrong types, other JSON, garbage. */
export function recordText(valid: fc.Arbitrary<Obj>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: valid.map((r) => JSON.stringify(r)) },
    { weight: 3, arbitrary: damagedText(valid.map((r) => JSON.stringify(r))) },
    { weight: 3, arbitrary: mutated(valid).map(toText) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 2 }) },
    { weight: 1, arbitrary: anyString },
    { weight: 1, arbitrary: fc.constantFrom('', 'null', '[]', '0', '"x"', '{}', '{"kind":"cniCacheV1"}', '{"kind":"braidPlanV1","attachments":[null]}') },
    { weight: 1, arbitrary: deepJsonText },
  );
}
