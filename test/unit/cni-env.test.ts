// The CNI_* environment (the CNI spec; pkg/skel's per-verb requirement table).
import { describe, expect, it } from 'vitest';
import { Code } from '../../src/cni/errors.js';
import { REQUIRED_VARS, VERBS, parseCniEnv, type Verb } from '../../src/cni/env.js';
import { errorOf } from '../helpers/cni-error.js';


const CID = 'f3a2b1c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80';
const full = (command: string): NodeJS.ProcessEnv => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: CID,
  CNI_NETNS: '/var/run/netns/cni-1',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
});

describe('per-verb required variables', () => {
  it('is the skel table', () => {
    expect(REQUIRED_VARS).toStrictEqual({
      ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
      CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
      DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
      VERSION: [],
      STATUS: ['CNI_PATH'],
      GC: ['CNI_PATH'],
    });
  });

  const missingCases = VERBS.flatMap((verb) =>
    REQUIRED_VARS[verb].flatMap((v) => [[verb, v, 'unset'] as const, [verb, v, 'empty'] as const]),
  );
  it.each(missingCases)('%s without %s (%s) -> code 4 naming it', (verb, v, how) => {
    const env = full(verb);
    if (how === 'unset') delete env[v];
    else env[v] = '';
    const e = errorOf(() => parseCniEnv(env));
    expect(e.code).toBe(Code.InvalidEnv);
    expect(e.message).toContain(v);
    expect(e.message).toContain(verb);
  });

  const optionalCases = VERBS.flatMap((verb) =>
    (['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'] as const)
      .filter((v) => !REQUIRED_VARS[verb].includes(v))
      .map((v) => [verb, v] as const),
  );
  it.each(optionalCases)('%s works without %s', (verb, v) => {
    const env = full(verb);
    delete env[v];
    expect(parseCniEnv(env).command).toBe(verb);
  });

  it('names every missing variable at once', () => {
    const e = errorOf(() => parseCniEnv({ CNI_COMMAND: 'ADD' }));
    expect(e.message).toBe('ADD requires CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH to be set');
  });

  it('VERSION needs nothing else', () => {
    expect(parseCniEnv({ CNI_COMMAND: 'VERSION' })).toStrictEqual({
      command: 'VERSION',
      containerId: '',
      netns: '',
      ifname: '',
      args: [],
      argsRaw: '',
      path: [],
    });
  });

  it('DEL without a netns (it may be gone)', () => {
    const env = full('DEL');
    delete env.CNI_NETNS;
    expect(parseCniEnv(env).netns).toBe('');
  });
});

describe('CNI_COMMAND', () => {
  it.each([undefined, ''])('missing (%j) -> code 4', (cmd) => {
    const e = errorOf(() => parseCniEnv({ ...full('ADD'), CNI_COMMAND: cmd }));
    expect(e.code).toBe(Code.InvalidEnv);
    expect(e.message).toContain('CNI_COMMAND');
  });

  it.each(['add', 'GET', 'DELETE', ' ADD'])('invalid %j -> code 4 naming it', (cmd) => {
    const e = errorOf(() => parseCniEnv({ ...full('ADD'), CNI_COMMAND: cmd }));
    expect(e.code).toBe(Code.InvalidEnv);
    expect(e.message).toContain(JSON.stringify(cmd));
  });
});

describe('a full request', () => {
  it('is built from the environment', () => {
    expect(
      parseCniEnv({
        ...full('ADD'),
        CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0',
        CNI_PATH: '/opt/cni/bin:/usr/libexec/cni',
      }),
    ).toStrictEqual({
      command: 'ADD',
      containerId: CID,
      netns: '/var/run/netns/cni-1',
      ifname: 'eth0',
      args: [
        ['IgnoreUnknown', '1'],
        ['K8S_POD_NAMESPACE', 'default'],
        ['K8S_POD_NAME', 'web-0'],
      ],
      argsRaw: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0',
      path: ['/opt/cni/bin', '/usr/libexec/cni'],
    });
  });
});

describe('container ID', () => {
  it.each(['-abc', '.abc', 'a/b', '../x', 'a b', 'a:b', 'x'.repeat(254)])('%j -> code 4 naming it', (id) => {
    for (const verb of ['ADD', 'DEL', 'CHECK'] as Verb[]) {
      const e = errorOf(() => parseCniEnv({ ...full(verb), CNI_CONTAINERID: id }));
      expect(e.code).toBe(Code.InvalidEnv);
      expect(e.message).toContain('CNI_CONTAINERID');
      expect(e.message).toContain(JSON.stringify(id).slice(0, 40));
    }
  });

  it.each(['a', 'pod_1.infra-2', CID])('%j is fine', (id) => {
    expect(parseCniEnv({ ...full('ADD'), CNI_CONTAINERID: id }).containerId).toBe(id);
  });
});

describe('interface name', () => {
  it.each(['averyveryverylongname', 'x'.repeat(16), '.', '..', 'a/b', 'a:b', 'a b', 'eth0\t'])('%j -> code 4 naming it', (n) => {
    for (const verb of ['ADD', 'DEL', 'CHECK'] as Verb[]) {
      const e = errorOf(() => parseCniEnv({ ...full(verb), CNI_IFNAME: n }));
      expect(e.code).toBe(Code.InvalidEnv);
      expect(e.message).toContain(JSON.stringify(n));
    }
  });

  it('15 characters is the limit', () => {
    expect(parseCniEnv({ ...full('ADD'), CNI_IFNAME: 'x'.repeat(15) }).ifname).toBe('x'.repeat(15));
  });
});

describe('CNI_ARGS and CNI_PATH', () => {
  it.each<[string | undefined, Array<[string, string]>]>([
    [undefined, []],
    ['', []],
    ['A=1;', [['A', '1']]],
    ['A=1;;B=2;', [['A', '1'], ['B', '2']]],
    ['TOKEN=YWJj==;X=a=b', [['TOKEN', 'YWJj=='], ['X', 'a=b']]],
    ['EMPTY=', [['EMPTY', '']]],
  ])('CNI_ARGS %j', (raw, want) => {
    const env = full('ADD');
    if (raw !== undefined) env.CNI_ARGS = raw;
    const req = parseCniEnv(env);
    expect(req.args).toStrictEqual(want);
    expect(req.argsRaw).toBe(raw ?? '');
  });

  it.each(['NOEQUALS', 'A=1;BROKEN', '=value'])('CNI_ARGS %j -> code 4 naming the element', (raw) => {
    const e = errorOf(() => parseCniEnv({ ...full('ADD'), CNI_ARGS: raw }));
    expect(e.code).toBe(Code.InvalidEnv);
    expect(e.message).toContain('CNI_ARGS');
    expect(e.message).toContain(JSON.stringify(raw.split(';').at(-1)));
  });

  it.each<[string, string[]]>([
    ['/opt/cni/bin', ['/opt/cni/bin']],
    ['/opt/cni/bin:/usr/libexec/cni:/home/x y/bin', ['/opt/cni/bin', '/usr/libexec/cni', '/home/x y/bin']],
    [':/a::/b:', ['/a', '/b']],
  ])('CNI_PATH %j', (raw, want) => {
    expect(parseCniEnv({ ...full('STATUS'), CNI_PATH: raw }).path).toStrictEqual(want);
  });
});
