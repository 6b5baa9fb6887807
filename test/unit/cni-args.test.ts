// CNI_ARGS "K=V;K2=V2" (the CNI spec; pkg/types/args.go).
import { describe, expect, it } from 'vitest';
import { Code, CniError } from '../../src/cni/errors.js';
import { cniArg, formatCniArgs, parseCniArgs, podIdentity } from '../../src/cni/cni-args.js';

describe('parseCniArgs', () => {
  it.each<[string | undefined, Array<[string, string]>]>([
    [undefined, []],
    ['', []],
    [';', []],
    ['A=1', [['A', '1']]],
    ['A=1;', [['A', '1']]],
    ['A=1;B=2', [['A', '1'], ['B', '2']]],
    ['A=1;;B=2', [['A', '1'], ['B', '2']]],
    ['K=a=b=c', [['K', 'a=b=c']]],
    ['K=', [['K', '']]],
    ['K= spaced value ', [['K', ' spaced value ']]],
    ['A=1;A=2', [['A', '1'], ['A', '2']]],
  ])('%j', (raw, want) => {
    expect(parseCniArgs(raw)).toStrictEqual(want);
  });

  it.each(['NOEQ', 'A=1;NOEQ', '=v', 'A=1;=v;B=2'])('%j -> code 4 naming the element', (raw) => {
    try {
      parseCniArgs(raw);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CniError);
      expect((e as CniError).code).toBe(Code.InvalidEnv);
      expect((e as CniError).message).toMatch(/^CNI_ARGS: invalid element "(NOEQ|=v)"/);
    }
  });
});

describe('helpers', () => {
  const args = parseCniArgs(
    'IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=coredns-0;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u-1;K8S_POD_NAME=second',
  );

  it('formatCniArgs round-trips', () => {
    expect(parseCniArgs(formatCniArgs(args))).toStrictEqual(args);
    expect(formatCniArgs([['A', 'x=y'], ['B', '']])).toBe('A=x=y;B=');
  });

  it('cniArg takes the first match', () => {
    expect(cniArg(args, 'K8S_POD_NAME')).toBe('coredns-0');
    expect(cniArg(args, 'missing')).toBeUndefined();
  });

  it('podIdentity reads the CRI keys', () => {
    expect(podIdentity(args)).toStrictEqual({ namespace: 'kube-system', name: 'coredns-0', uid: 'u-1', infraContainerId: 'abc' });
    expect(podIdentity([])).toStrictEqual({ namespace: undefined, name: undefined, uid: undefined, infraContainerId: undefined });
  });
});
