import { describe, expect, it } from 'vitest';
import { formatCniArgs, parseCniArgs } from '../../src/cni/cni-args.js';
import { missingRequests, requestCniArgs } from '../../src/meta/requested-addresses.js';

const containerd = parseCniArgs('K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=c;K8S_POD_UID=u');

describe('requestCniArgs: CNI_ARGS as Multus delegateAdd builds them', () => {
  it('leads with IgnoreUnknown=true, then MAC, then the IPs joined with ","', () => {
    const args = requestCniArgs(containerd, { ips: ['198.18.0.5/24', '2001:db8::5/64'], mac: '02:00:00:00:00:01' });
    expect(formatCniArgs(args)).toBe(
      'IgnoreUnknown=true;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=c;K8S_POD_UID=u;MAC=02:00:00:00:00:01;IP=198.18.0.5/24,2001:db8::5/64',
    );
  });
  it("keeps the runtime's own IgnoreUnknown", () => {
    expect(formatCniArgs(requestCniArgs(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=p'), { ips: ['198.18.0.5'] }))).toBe('IgnoreUnknown=1;K8S_POD_NAME=p;IP=198.18.0.5');
  });
  it('changes nothing without a request', () => {
    expect(requestCniArgs(containerd, undefined)).toBe(containerd);
    expect(requestCniArgs(containerd, {})).toBe(containerd);
  });
});

describe('missingRequests: does the interface in the result carry what was asked for', () => {
  const result = {
    cniVersion: '1.0.0',
    interfaces: [
      { name: 'br0', mac: 'aa:aa:aa:aa:aa:aa' },
      { name: 'net1', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/x' },
    ],
    ips: [{ address: '198.18.0.5/24', interface: 1 }, { address: '198.18.9.9/24', interface: 0 }],
  };
  it('nothing missing: mac in any case, IP with or without a prefix', () => {
    expect(missingRequests(result, 'net1', { mac: '02:00:00:00:00:01'.toUpperCase(), ips: ['198.18.0.5', '198.18.0.5/24'] })).toEqual([]);
  });
  it('names a different prefix, an address on another interface, a wrong mac', () => {
    expect(missingRequests(result, 'net1', { ips: ['198.18.0.5/16', '198.18.9.9'], mac: '02:00:00:00:00:02' })).toEqual([
      'mac 02:00:00:00:00:02 (interface net1 has mac 02:00:00:00:00:01)',
      'ip 198.18.0.5/16 (net1 got 198.18.0.5/24, 198.18.9.9/24)',
      'ip 198.18.9.9 (net1 got 198.18.0.5/24, 198.18.9.9/24)',
    ]);
  });
  it('a result without the interface cannot show a mac', () => {
    expect(missingRequests({ cniVersion: '1.0.0', ips: [{ address: '198.18.0.5/24' }] }, 'net1', { mac: '02:00:00:00:00:01', ips: ['198.18.0.5'] })).toEqual([
      'mac 02:00:00:00:00:01 (the result has no interface net1)',
    ]);
  });
});
