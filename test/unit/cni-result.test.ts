// Result parsing and conversion between every pair of supported versions (the CNI spec;
// libcni pkg/types/040, pkg/types/100, pkg/types/internal/convert.go).
import { describe, expect, it } from 'vitest';
import { Code, CniError } from '../../src/cni/errors.js';
import { convertResult, parseResult, toVersion } from '../../src/cni/result.js';
import { SUPPORTED_VERSIONS, compareVersions, type SpecVersion } from '../../src/cni/version.js';
import { errorOf } from '../helpers/cni-error.js';

const is11 = (v: string) => compareVersions(v, '1.1.0') >= 0;
const is1x = (v: string) => compareVersions(v, '1.0.0') >= 0;

const dns = {
  nameservers: ['10.96.0.10', 'fd00:10:96::a'],
  domain: 'cluster.local',
  search: ['default.svc.cluster.local', 'svc.cluster.local'],
  options: ['ndots:5', 'edns0'],
};

// The full 1.1.0 shape: a host bridge and host veth (no sandbox), a sandbox interface
// with every 1.1 field, v4 + v6 addresses with gateways, routes with the 1.1 fields.
const full110 = {
  cniVersion: '1.1.0',
  interfaces: [
    { name: 'cni0', mac: '0a:58:0a:f4:00:01', mtu: 1500 },
    { name: 'veth3f2a1b', mac: '6e:2a:11:22:33:44', mtu: 1450 },
    {
      name: 'eth0',
      mac: '0a:58:0a:f4:00:05',
      mtu: 1450,
      sandbox: '/var/run/netns/cni-1234',
      socketPath: '/run/vhost-user/sock0',
      pciID: '0000:03:00.1',
    },
  ],
  ips: [
    { address: '10.244.0.5/24', gateway: '10.244.0.1', interface: 2 },
    { address: 'fd00:10:244::5/64', gateway: 'fd00:10:244::1', interface: 2 },
    { address: '10.244.0.1/24', interface: 0 },
  ],
  routes: [
    { dst: '0.0.0.0/0', gw: '10.244.0.1', mtu: 1400, advmss: 1360, priority: 100, table: 254, scope: 0 },
    { dst: '::/0', gw: 'fd00:10:244::1', priority: 1024 },
    { dst: '192.168.0.0/16' },
  ],
  dns,
};

// What 1.0.0 can hold: no interface mtu/socketPath/pciID, routes only dst/gw.
const base100 = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'cni0', mac: '0a:58:0a:f4:00:01' },
    { name: 'veth3f2a1b', mac: '6e:2a:11:22:33:44' },
    { name: 'eth0', mac: '0a:58:0a:f4:00:05', sandbox: '/var/run/netns/cni-1234' },
  ],
  ips: [
    { address: '10.244.0.5/24', gateway: '10.244.0.1', interface: 2 },
    { address: 'fd00:10:244::5/64', gateway: 'fd00:10:244::1', interface: 2 },
    { address: '10.244.0.1/24', interface: 0 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '10.244.0.1' }, { dst: '::/0', gw: 'fd00:10:244::1' }, { dst: '192.168.0.0/16' }],
  dns,
};

// 0.3.x / 0.4.0: as 1.0.0 plus ips[].version.
const base040 = {
  ...base100,
  cniVersion: '0.4.0',
  ips: [
    { version: '4', address: '10.244.0.5/24', gateway: '10.244.0.1', interface: 2 },
    { version: '6', address: 'fd00:10:244::5/64', gateway: 'fd00:10:244::1', interface: 2 },
    { version: '4', address: '10.244.0.1/24', interface: 0 },
  ],
};

/** The rich result as a plugin speaking `v` writes it. */
function richIn(v: string): Record<string, unknown> {
  if (is11(v)) return { ...full110, cniVersion: v };
  return { ...(is1x(v) ? base100 : base040), cniVersion: v };
}

/** What converting richIn(from) to `to` must give: `to`'s shape, 1.1 fields only if both hold them. */
function expected(from: string, to: string): Record<string, unknown> {
  if (is11(to)) return { ...(is11(from) ? full110 : base100), cniVersion: to };
  return { ...(is1x(to) ? base100 : base040), cniVersion: to };
}

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CniError);
    return (e as CniError).code;
  }
  return undefined;
}


const pairs = SUPPORTED_VERSIONS.flatMap((from) => SUPPORTED_VERSIONS.map((to) => [from, to] as const));

describe.each(pairs)('convert %s -> %s', (from, to) => {
  it('gives the exact target-version object', () => {
    expect(convertResult(richIn(from), from, to)).toStrictEqual(expected(from, to));
  });

  it('adds ips[].version going to 0.x and never carries it to 1.x', () => {
    const out = convertResult(richIn(from), from, to) as { ips: Array<Record<string, unknown>> };
    if (is1x(to)) for (const ip of out.ips) expect(ip).not.toHaveProperty('version');
    else expect(out.ips.map((ip) => ip.version)).toEqual(['4', '6', '4']);
  });

  it('drops the 1.1 fields below 1.1.0', () => {
    const out = convertResult(richIn(from), from, to) as {
      interfaces: Array<Record<string, unknown>>;
      routes: Array<Record<string, unknown>>;
    };
    const extra = is11(to) && is11(from);
    for (const k of ['mtu', 'socketPath', 'pciID']) expect(out.interfaces[2]!.hasOwnProperty(k)).toBe(extra);
    for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope']) expect(out.routes[0]!.hasOwnProperty(k)).toBe(extra);
  });

  it('round-trips through the lower version keeping what it can hold', () => {
    const down = convertResult(richIn(from), from, to);
    const back = convertResult(down, to, from);
    expect(back).toStrictEqual(expected(compareVersions(to, from) < 0 ? to : from, from));
  });

  it('converts an IPAM-style result (no interfaces, no ips[].interface)', () => {
    const ipam: Record<string, unknown> = {
      cniVersion: from,
      ips: [
        { address: '10.1.2.3/24', gateway: '10.1.2.1' },
        { address: '2001:db8::3/64' },
      ].map((ip) => (is1x(from) ? ip : { version: ip.address.includes(':') ? '6' : '4', ...ip })),
      routes: [{ dst: '0.0.0.0/0', gw: '10.1.2.1' }],
      dns: {},
    };
    const ips = [{ address: '10.1.2.3/24', gateway: '10.1.2.1' }, { address: '2001:db8::3/64' }];
    expect(convertResult(ipam, from, to)).toStrictEqual({
      cniVersion: to,
      ips: is1x(to) ? ips : [{ version: '4', ...ips[0] }, { version: '6', ...ips[1] }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.1.2.1' }],
      dns: {},
    });
  });
});

describe('1.1.0 fields on a lower-version result', () => {
  it.each(['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const)('are dropped when the result declares %s', (v) => {
    const out = convertResult({ ...full110, cniVersion: v }, v, '1.1.0');
    expect(out).toStrictEqual({ ...base100, cniVersion: '1.1.0' });
  });
});

describe('fallback version', () => {
  it.each(['', undefined])('a result with cniVersion %j takes the fallback', (cv) => {
    const input: Record<string, unknown> = { ...base040 };
    if (cv === undefined) delete input.cniVersion;
    else input.cniVersion = cv;
    const parsed = parseResult(input, '0.3.1');
    expect(parsed.cniVersion).toBe('0.3.1');
    expect(parsed.ips![1]).toStrictEqual({ address: 'fd00:10:244::5/64', gateway: 'fd00:10:244::1', interface: 2 });
    expect(convertResult(input, '0.3.1', '1.1.0')).toStrictEqual({ ...base100, cniVersion: '1.1.0' });
  });

  it('uses the 1.1.0 schema when the fallback is 1.1.0', () => {
    const { cniVersion: _v, ...noVersion } = full110;
    expect(convertResult(noVersion, '1.1.0', '1.1.0')).toStrictEqual(full110);
  });

  it('the declared version wins over the fallback', () => {
    expect(parseResult(richIn('0.3.0'), '1.1.0').cniVersion).toBe('0.3.0');
  });
});

describe('unsupported versions -> code 1', () => {
  it.each(['0.1.0', '0.2.0', '1.2.0', '2.0.0', 'bogus'])('result declaring %s', (v) => {
    const e = errorOf(() => parseResult({ ...base100, cniVersion: v }, '1.0.0'));
    expect(e.code).toBe(Code.IncompatibleVersion);
    expect(e.message).toContain(v);
  });

  it('an unsupported fallback for a version-less result', () => {
    expect(codeOf(() => parseResult({ ips: [] }, '0.2.0'))).toBe(Code.IncompatibleVersion);
  });

  it.each(['0.1.0', '0.2.0', '1.2.0', '9.9.9', 'bogus', ''])('converting to %j', (v) => {
    expect(codeOf(() => convertResult(richIn('1.1.0'), '1.1.0', v))).toBe(Code.IncompatibleVersion);
    expect(codeOf(() => toVersion(parseResult(richIn('1.0.0'), '1.0.0'), v))).toBe(Code.IncompatibleVersion);
  });
});

describe('malformed results -> code 6 naming the field', () => {
  const cases: Array<[string, string, unknown]> = [
    ['ips[1].address', '1.0.0', { ips: [{ address: '10.0.0.1/24' }, { address: 42 }] }],
    ['ips[0].address', '1.0.0', { ips: [{ address: 'not-an-ip/24' }] }],
    ['ips[0].address', '1.1.0', { ips: [{ address: '10.0.0.1' }] }],
    ['ips[0].address', '0.4.0', { ips: [{ version: '4', address: '10.0.0.1/33' }] }],
    ['ips[0].gateway', '1.0.0', { ips: [{ address: '10.0.0.1/24', gateway: '10.0.0.256' }] }],
    ['ips[0].interface', '1.0.0', { ips: [{ address: '10.0.0.1/24', interface: -1 }] }],
    ['ips[0].interface', '0.3.1', { ips: [{ version: '4', address: '10.0.0.1/24', interface: 1.5 }] }],
    ['ips[0].version', '0.4.0', { ips: [{ version: '5', address: '10.0.0.1/24' }] }],
    ['interfaces[0].name', '1.1.0', { interfaces: [{ mac: 'aa:bb:cc:dd:ee:ff' }] }],
    ['interfaces[0].mtu', '1.1.0', { interfaces: [{ name: 'eth0', mtu: '1500' }] }],
    ['routes[0].dst', '1.0.0', { routes: [{ dst: 'default' }] }],
    ['routes[0].gw', '0.3.0', { routes: [{ dst: '0.0.0.0/0', gw: 'router' }] }],
    ['routes[0].table', '1.1.0', { routes: [{ dst: '0.0.0.0/0', table: 'main' }] }],
    ['dns.nameservers', '1.0.0', { dns: { nameservers: '10.96.0.10' } }],
    ['interfaces', '1.0.0', { interfaces: { name: 'eth0' } }],
    ['cniVersion', '1.0.0', { cniVersion: 100 }],
  ];
  it.each(cases)('%s (%s)', (path, v, body) => {
    const e = errorOf(() => parseResult({ cniVersion: v, ...(body as object) }, v));
    expect(e.code).toBe(Code.DecodeFailure);
    expect(e.message).toContain(path);
  });

  it.each([null, [], 'ok', 7])('a non-object result %j', (value) => {
    expect(codeOf(() => parseResult(value, '1.0.0'))).toBe(Code.DecodeFailure);
  });

  it('names the result in the message', () => {
    const e = errorOf(() => parseResult({ cniVersion: '1.0.0', ips: [{ address: 1 }] }, '1.0.0', 'result of plugin bridge'));
    expect(e.message).toMatch(/^invalid result of plugin bridge: ips\[0\]\.address/);
  });
});

describe('rendering details', () => {
  it('always carries dns ({} when empty), like Go encoding a struct', () => {
    expect(toVersion({ cniVersion: '1.0.0' }, '1.0.0')).toStrictEqual({ cniVersion: '1.0.0', dns: {} });
    expect(toVersion({ cniVersion: '1.0.0' }, '0.3.0')).toStrictEqual({ cniVersion: '0.3.0', dns: {} });
  });

  it('infers ips[].version from the address family', () => {
    const r = parseResult({ cniVersion: '1.0.0', ips: [{ address: '::ffff:0:0/96' }, { address: '192.0.2.1/32' }] }, '1.0.0');
    expect(toVersion(r, '0.4.0').ips).toStrictEqual([
      { version: '6', address: '::ffff:0:0/96' },
      { version: '4', address: '192.0.2.1/32' },
    ]);
  });

  it('does not alias the input', () => {
    const input = structuredClone(full110);
    const out = convertResult(input, '1.1.0', '1.1.0') as typeof full110;
    out.interfaces[0]!.name = 'changed';
    out.dns.domain = 'changed';
    expect(input).toStrictEqual(full110);
  });

  it('strips unknown top-level keys the wire types do not have', () => {
    expect(convertResult({ ...base100, extra: 1 }, '1.0.0', '1.0.0')).toStrictEqual(base100);
  });

  it('renders each supported version string verbatim', () => {
    for (const v of SUPPORTED_VERSIONS) expect(toVersion({ cniVersion: '1.1.0' }, v as SpecVersion).cniVersion).toBe(v);
  });
});
