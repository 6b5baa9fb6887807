import { describe, expect, it } from 'vitest';
import {
  MAX_ANNOTATION_BYTES,
  MAX_ATTACHMENTS,
  analyzeGenieAnnotation,
  analyzeNetworksAnnotation,
  parseDefaultNetworkAnnotation,
  parseGenieAnnotation,
  parseNetworksAnnotation,
  type NetworkSelection,
} from '../../src/meta/network-selection.js';
import { errorOf } from '../helpers/cni-error.js';

const NS = 'pod-ns';
const names = (sels: NetworkSelection[]) => sels.map((s) => `${s.namespace}/${s.name}${s.interface ? `@${s.interface}` : ''}`);

const thrown = errorOf;

/** The problem is reported at `path`, its message shows the value, and parse* throws code 7 with both. */
function expectProblem(analysis: { problems: { path: string; message: string }[] }, parse: () => unknown, path: string, value: string) {
  const hit = analysis.problems.find((p) => p.path === path);
  expect(hit, `no problem at ${path}; got ${JSON.stringify(analysis.problems)}`).toBeDefined();
  expect(hit!.message).toContain(value);
  const err = thrown(parse);
  expect(err.code).toBe(7);
  expect(err.message).toContain(`${path}: `);
  expect(err.message).toContain(value);
}

describe('networks annotation, comma form', () => {
  it.each([
    ['net-a', ['pod-ns/net-a']],
    ['net-a,net-b,other-ns/net-c', ['pod-ns/net-a', 'pod-ns/net-b', 'other-ns/net-c']],
    [' net-a , other/net-b@eth1 ', ['pod-ns/net-a', 'other/net-b@eth1']],
    ['other / net-b @ net1', ['other/net-b@net1']],
    ['net-a,net-a', ['pod-ns/net-a', 'pod-ns/net-a']], // two attachments of one network (spec 4.2)
    ['net-a@net1,net-a@net2', ['pod-ns/net-a@net1', 'pod-ns/net-a@net2']],
    ['sub.domain.name', ['pod-ns/sub.domain.name']],
    ['a@averyverylong15', ['pod-ns/a@averyverylong15']],
    ['', []],
    ['   ', []],
  ])('%j selects %j', (value, expected) => {
    expect(names(parseNetworksAnnotation(value, NS))).toEqual(expected);
  });

  it('records where each selection came from', () => {
    const [a, b] = parseNetworksAnnotation('net-a, other/net-b@eth1', NS);
    expect(a!.source).toBe('networks element "net-a"');
    expect(b!.source).toBe('networks element "other/net-b@eth1"');
    expect(b).toEqual({ name: 'net-b', namespace: 'other', interface: 'eth1', source: b!.source });
  });

  it.each([
    ['net-a,,net-b', 'networks[1]', 'empty element'],
    ['net-a,', 'networks[1]', 'empty element'],
    [',net-a', 'networks[0]', 'empty element'],
    ['a/b/c', 'networks[0]', '"a/b/c"'],
    ['net@eth1@eth2', 'networks[0]', '"net@eth1@eth2"'],
    ['Net-A', 'networks[0]', '"Net-A"'],
    ['net_a', 'networks[0]', '"net_a"'],
    ['-net', 'networks[0]', '"-net"'],
    ['a..b', 'networks[0]', '"a..b"'],
    ['ns/', 'networks[0]', '"ns/"'],
    ['/net', 'networks[0]', '"/net"'],
    ['../etc', 'networks[0]', '".."'],
    ['UPPER/net', 'networks[0]', '"UPPER"'],
    ['my.ns/net', 'networks[0]', '"my.ns"'], // namespaces are labels: no dots
    [`${'n'.repeat(64)}/net`, 'networks[0]', 'n'.repeat(64)],
    [`ns/${'a'.repeat(254)}`, 'networks[0]', 'not a DNS-1123 subdomain'],
    ['net\u0000x', 'networks[0]', '"net\\u0000x"'],
    ['net@', 'networks[0]', 'interface name "" is empty'],
    ['net@averyveryverylongname', 'networks[0]', 'interface name "averyveryverylongname" exceeds 15 characters'],
    ['net@eth:0', 'networks[0]', '"eth:0"'],
    ['net@..', 'networks[0]', '".."'],
    ['a,b@net1,c@net1', 'networks[2]', 'interface name "net1" is already requested by networks[1]'],
    ['{"name":"a"}', 'networks', 'wrap the object in [ ]'],
  ])('%j: %s', (value, path, inMessage) => {
    expectProblem(analyzeNetworksAnnotation(value, NS), () => parseNetworksAnnotation(value, NS), path, inMessage);
  });

  it('one bad element makes the whole annotation invalid', () => {
    const a = analyzeNetworksAnnotation('net-a,BAD,net-c', NS);
    expect(names(a.selections)).toEqual(['pod-ns/net-a', 'pod-ns/net-c']);
    expect(a.problems).toHaveLength(1);
    expect(() => parseNetworksAnnotation('net-a,BAD,net-c', NS)).toThrow(/networks\[1\]/);
  });
});

describe('networks annotation, JSON form', () => {
  it('parses the spec example (4.1.2)', () => {
    const value = `[
      {"name":"net-a"},
      {"name":"net-b", "ips": ["1.2.3.4"], "mac": "aa:bb:cc:dd:ee:ff"},
      {"name":"net-c", "namespace":"other-ns"}
    ]`;
    expect(parseNetworksAnnotation(value, NS)).toEqual([
      { name: 'net-a', namespace: NS, source: 'networks[0]' },
      { name: 'net-b', namespace: NS, ips: ['1.2.3.4'], mac: 'aa:bb:cc:dd:ee:ff', source: 'networks[1]' },
      { name: 'net-c', namespace: 'other-ns', source: 'networks[2]' },
    ]);
  });

  it('maps every key', () => {
    const value = JSON.stringify([
      {
        name: 'sriov-a',
        namespace: '',
        interface: 'net1',
        ips: ['10.1.1.5/24', '2001:db8::5'],
        mac: '02:23:45:67:89:01',
        'default-route': ['10.1.1.1', '2001:db8::1'],
        portMappings: [{ hostPort: 8080, containerPort: 80 }, { hostPort: 53, containerPort: 53, protocol: 'UDP', hostIP: '192.0.2.1' }],
        bandwidth: { ingressRate: 1000, ingressBurst: 2000, egressRate: 0 },
        'cni-args': { foo: 'bar', n: 1 },
        'infiniband-guid': 'c2:11:22:33:44:55:66:77',
        deviceID: '0000:03:00.1',
        'org.example.extension': { anything: true },
        'example.com/other': 1,
      },
      { name: 'ib', mac: '80:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22', 'ipam-claim-reference': 'claim-1', interfaceRequest: 'ib0' },
    ]);
    expect(parseNetworksAnnotation(value, NS)).toEqual([
      {
        name: 'sriov-a',
        namespace: NS,
        interface: 'net1',
        ips: ['10.1.1.5/24', '2001:db8::5'],
        mac: '02:23:45:67:89:01',
        defaultRoute: ['10.1.1.1', '2001:db8::1'],
        portMappings: [
          { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
          { hostPort: 53, containerPort: 53, protocol: 'udp', hostIP: '192.0.2.1' },
        ],
        bandwidth: { ingressRate: 1000, ingressBurst: 2000, egressRate: 0 },
        cniArgs: { foo: 'bar', n: 1 },
        infinibandGuid: 'c2:11:22:33:44:55:66:77',
        deviceID: '0000:03:00.1',
        source: 'networks[0]',
      },
      {
        name: 'ib',
        namespace: NS,
        interface: 'ib0', // Multus's pre-3.2 spelling
        mac: '80:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22',
        ipamClaimReference: 'claim-1',
        source: 'networks[1]',
      },
    ]);
  });

  it.each([
    ['[]', []],
    ['  [ {"name": "a"} ]  ', ['pod-ns/a']],
    ['[{"name":"a","interface":"x","interfaceRequest":"y"}]', ['pod-ns/a@x']], // `interface` wins
    ['[{"name":"a","portMappings":[{"hostPort":1,"containerPort":65535,"protocol":"Sctp"}]}]', ['pod-ns/a']],
  ])('%j selects %j', (value, expected) => {
    expect(names(parseNetworksAnnotation(value, NS))).toEqual(expected);
  });

  it.each([
    ['[{"name":}]', 'networks', 'line 1, column 10'],
    ['[\n  {"name": "a"},\n  {"name": "b",, }\n]', 'networks', 'line 3, column 16'],
    ['[{"name":"a"}', 'networks', 'line 1, column 14'],
    ['["net-a"]', 'networks[0]', 'must be an object, got "net-a"'],
    ['[{}]', 'networks[0].name', 'name is required'],
    ['[{"name":5}]', 'networks[0].name', 'got 5'],
    ['[{"name":""}]', 'networks[0].name', 'network name is empty'],
    ['[{"name":"Bad"}]', 'networks[0].name', '"Bad"'],
    ['[{"name":"../../etc/passwd"}]', 'networks[0].name', '"../../etc/passwd"'],
    ['[{"name":"a","namespace":"a/b"}]', 'networks[0].namespace', '"a/b"'],
    ['[{"name":"a","namespace":7}]', 'networks[0].namespace', 'got 7'],
    ['[{"name":"a","interface":"averyveryverylongname"}]', 'networks[0].interface', 'interface name "averyveryverylongname" exceeds 15 characters'],
    ['[{"name":"a","interface":"eth/0"}]', 'networks[0].interface', '"eth/0"'],
    ['[{"name":"a","interface":"eth 0"}]', 'networks[0].interface', '"eth 0"'],
    ['[{"name":"a","interface":"."}]', 'networks[0].interface', '"."'],
    ['[{"name":"a","interface":""}]', 'networks[0].interface', 'interface name "" is empty'],
    ['[{"name":"a","interfaceRequest":"a:b"}]', 'networks[0].interfaceRequest', '"a:b"'],
    ['[{"name":"a","ips":[]}]', 'networks[0].ips', 'non-empty'],
    ['[{"name":"a","ips":"1.2.3.4"}]', 'networks[0].ips', '"1.2.3.4"'],
    ['[{"name":"a","ips":["1.2.3.4","10.0.0.300"]}]', 'networks[0].ips[1]', '"10.0.0.300"'],
    ['[{"name":"a","ips":["1.2.3.4/33"]}]', 'networks[0].ips[0]', '"1.2.3.4/33"'],
    ['[{"name":"a","ips":["2001:db8::1/129"]}]', 'networks[0].ips[0]', '"2001:db8::1/129"'],
    ['[{"name":"a","ips":["fe80::1%eth0"]}]', 'networks[0].ips[0]', '"fe80::1%eth0"'],
    ['[{"name":"a","ips":["1.2.3"]}]', 'networks[0].ips[0]', '"1.2.3"'],
    ['[{"name":"a","mac":"aa:bb:cc:dd:ee"}]', 'networks[0].mac', '"aa:bb:cc:dd:ee"'],
    ['[{"name":"a","mac":"aa-bb-cc-dd-ee-ff"}]', 'networks[0].mac', '"aa-bb-cc-dd-ee-ff"'],
    ['[{"name":"a","mac":"zz:bb:cc:dd:ee:ff"}]', 'networks[0].mac', '"zz:bb:cc:dd:ee:ff"'],
    ['[{"name":"a","default-route":["10.0.0.1/24"]}]', 'networks[0].default-route[0]', '"10.0.0.1/24"'],
    ['[{"name":"a","default-route":["10.0.0.1","10.0.0.2"]}]', 'networks[0].default-route', '"10.0.0.2"'],
    ['[{"name":"a","default-route":[]}]', 'networks[0].default-route', '[]'],
    ['[{"name":"a","default-route":["10.0.0.1"]},{"name":"b","default-route":["10.1.0.1"]}]', 'networks[1].default-route', 'already set by networks[0]'],
    ['[{"name":"a","portMappings":{}}]', 'networks[0].portMappings', 'got {}'],
    ['[{"name":"a","portMappings":[5]}]', 'networks[0].portMappings[0]', 'got 5'],
    ['[{"name":"a","portMappings":[{"hostPort":0,"containerPort":80}]}]', 'networks[0].portMappings[0].hostPort', 'hostPort 0'],
    ['[{"name":"a","portMappings":[{"hostPort":80,"containerPort":70000}]}]', 'networks[0].portMappings[0].containerPort', '70000'],
    ['[{"name":"a","portMappings":[{"hostPort":80,"containerPort":"80"}]}]', 'networks[0].portMappings[0].containerPort', '"80"'],
    ['[{"name":"a","portMappings":[{"hostPort":80,"containerPort":80,"protocol":"icmp"}]}]', 'networks[0].portMappings[0].protocol', '"icmp"'],
    ['[{"name":"a","portMappings":[{"hostPort":80,"containerPort":80,"hostIP":"host"}]}]', 'networks[0].portMappings[0].hostIP', '"host"'],
    ['[{"name":"a","bandwidth":"fast"}]', 'networks[0].bandwidth', '"fast"'],
    ['[{"name":"a","bandwidth":{"ingressBurst":10}}]', 'networks[0].bandwidth.ingressBurst', 'ingressBurst 10 needs ingressRate'],
    ['[{"name":"a","bandwidth":{"egressRate":-1}}]', 'networks[0].bandwidth.egressRate', '-1'],
    ['[{"name":"a","bandwidth":{"ingressRate":1.5}}]', 'networks[0].bandwidth.ingressRate', '1.5'],
    ['[{"name":"a","cni-args":[]}]', 'networks[0].cni-args', 'got []'],
    ['[{"name":"a","cni-args":"x=y"}]', 'networks[0].cni-args', '"x=y"'],
    ['[{"name":"a","infiniband-guid":"zz"}]', 'networks[0].infiniband-guid', '"zz"'],
    ['[{"name":"a","ipam-claim-reference":"Claim"}]', 'networks[0].ipam-claim-reference', '"Claim"'],
    ['[{"name":"a","ips":["10.0.0.5"],"ipam-claim-reference":"c"}]', 'networks[0].ipam-claim-reference', 'cannot be combined with ips'],
    ['[{"name":"a","interfaces":"net1"}]', 'networks[0].interfaces', 'unknown key "interfaces"'],
    ['[{"name":"a","defaultRoute":["10.0.0.1"]}]', 'networks[0].defaultRoute', '"defaultRoute"'],
    ['[{"name":"a","toString":1}]', 'networks[0].toString', '"toString"'],
    ['[{"name":"a","__proto__":{"ips":["10.0.0.1"]}}]', 'networks[0].__proto__', '"__proto__"'],
    ['[{"name":"a","interface":"net1"},{"name":"b","interface":"net1"}]', 'networks[1].interface', 'already requested by networks[0]'],
  ])('%j: %s', (value, path, inMessage) => {
    expectProblem(analyzeNetworksAnnotation(value, NS), () => parseNetworksAnnotation(value, NS), path, inMessage);
  });

  it('lists several problems, at most five in the message', () => {
    const value = JSON.stringify(Array.from({ length: 7 }, (_, i) => ({ name: `BAD${i}` })));
    expect(analyzeNetworksAnnotation(value, NS).problems).toHaveLength(7);
    expect(thrown(() => parseNetworksAnnotation(value, NS)).message).toMatch(/networks\[4\]\.name.*; and 2 more$/);
  });
});

describe('limits', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => `net-${i}`);
  it.each([
    ['comma', many(MAX_ATTACHMENTS + 1).join(',')],
    ['JSON', JSON.stringify(many(MAX_ATTACHMENTS + 1).map((name) => ({ name })))],
  ])('refuses more than MAX_ATTACHMENTS (%s form)', (_form, value) => {
    expectProblem(analyzeNetworksAnnotation(value, NS), () => parseNetworksAnnotation(value, NS), 'networks', `lists ${MAX_ATTACHMENTS + 1} networks`);
  });

  it('accepts exactly MAX_ATTACHMENTS', () => {
    expect(parseNetworksAnnotation(many(MAX_ATTACHMENTS).join(','), NS)).toHaveLength(MAX_ATTACHMENTS);
  });

  it('refuses a value over MAX_ANNOTATION_BYTES without parsing it', () => {
    const value = `[${' '.repeat(MAX_ANNOTATION_BYTES)}]`;
    expectProblem(analyzeNetworksAnnotation(value, NS), () => parseNetworksAnnotation(value, NS), 'networks', `${MAX_ANNOTATION_BYTES + 2} bytes`);
  });
});

describe('CNI-Genie annotation', () => {
  it.each([
    ['bridge-a,macvlan-b', ['pod-ns/bridge-a', 'pod-ns/macvlan-b']],
    [' bridge-a , macvlan-b ', ['pod-ns/bridge-a', 'pod-ns/macvlan-b']],
    ['weave', ['pod-ns/weave']],
    ['', []],
  ])('%j selects %j', (value, expected) => {
    expect(names(parseGenieAnnotation(value, NS))).toEqual(expected);
  });

  it('names its source', () => {
    expect(parseGenieAnnotation('weave', NS)[0]!.source).toBe('cni element "weave"');
  });

  it.each([
    ['a,,b', 'cni[1]', 'empty element'],
    ['ns/x', 'cni[0]', '"ns/x"'],
    ['x@eth1', 'cni[0]', '"x@eth1"'],
    ['[{"name":"a"}]', 'cni[0]', '"[{\\"name\\":\\"a\\"}]"'],
  ])('%j: %s', (value, path, inMessage) => {
    expectProblem(analyzeGenieAnnotation(value, NS), () => parseGenieAnnotation(value, NS), path, inMessage);
  });
});

describe('default-network annotation', () => {
  it.each([
    ['calico', { name: 'calico', namespace: NS }],
    [' kube-system/calico ', { name: 'calico', namespace: 'kube-system' }],
    ['[{"name":"calico","namespace":"kube-system"}]', { name: 'calico', namespace: 'kube-system' }],
  ])('%j', (value, expected) => {
    expect(parseDefaultNetworkAnnotation(value, NS)).toMatchObject(expected);
  });

  it.each([
    ['a,b', 'default-network', 'got 2 in "a,b"'],
    ['', 'default-network', 'got 0'],
    ['[]', 'default-network', 'got 0'],
    ['calico@eth1', 'default-network[0]', '"eth1"'],
    ['[{"name":"calico","interface":"eth1"}]', 'default-network[0].interface', '"eth1"'],
    ['Calico', 'default-network[0]', '"Calico"'],
  ])('%j: %s', (value, path, inMessage) => {
    const err = thrown(() => parseDefaultNetworkAnnotation(value, NS));
    expect(err.code).toBe(7);
    expect(err.message).toContain('v1.multus-cni.io/default-network');
    expect(err.message).toContain(`${path}: `);
    expect(err.message).toContain(inMessage);
  });
});

it('refuses a number beyond float64 in the JSON form (it would reach a delegate as null)', () => {
  const r = analyzeNetworksAnnotation('[{"name": "a", "cni-args": {"x": 1e999}}]', 'pod-ns');
  expect(r.problems).toEqual([{ path: 'networks', message: 'holds a number outside the range of a 64-bit float' }]);
});
