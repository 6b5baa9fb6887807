// Fuzzing the whole CNI request path in-process (cniResponse: env + stdin -> exit code + stdout).
// stdout is the protocol: whatever arrives, it is exactly one JSON document and a newline (or
// nothing, for a silent success), an error has {cniVersion, code, msg}, and no stack trace leaks.
//
// Safety: every path braid could touch is forced into a temp dir, the plugin directories are empty,
// exec is replaced by a function that refuses, and there is no kubeconfig and no API: nothing can
// run, nothing outside the temp dir is written.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cniResponse } from '../../src/cli/cni-edge.js';
import { CniError, Code } from '../../src/cni/errors.js';
import { isSupported, SUPPORTED_VERSIONS } from '../../src/cni/version.js';
import { configureLogger } from '../../src/log.js';
import type { ContextOverrides } from '../../src/meta/context.js';
import {
  anyJson,
  anyString,
  braidConfig,
  cacheRecord,
  cleanBraidConfig,
  cniEnv,
  compact,
  configValue,
  damagedText,
  mutated,
  planRecord,
  recordText,
  sometimes,
  toText,
  validContainerId,
  validIfName,
  type CniEnvVars,
} from './arbitraries.js';
import { assertCoverage, FUZZ, FUZZ_TIMEOUT_MS } from './fuzz-config.js';

// tmpfs when there is one: ADD fsyncs its plan record.
const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'braid-fuzz-edge-'));
const dirs = {
  cni: join(root, 'cni'),
  conf: join(root, 'conf'),
  bin: join(root, 'bin'), // stays empty: no plugin can be found, so none can run
  log: join(root, 'log', 'braid.log'),
  ready: join(root, 'ready'),
};

// Keys braid reads paths from (any case: braid matches keys case-insensitively, as Go does).
const PATH_KEYS = ['cnidir', 'confdir', 'bindir', 'logfile', 'logtostderr', 'kubeconfig', 'readinessindicatorfile'];

/** Pin every path in a generated braid config into the temp dir. */
function confine(obj: Record<string, unknown>): Record<string, unknown> {
  const hadReadiness = Object.keys(obj).some((k) => k.toLowerCase() === 'readinessindicatorfile');
  for (const k of Object.keys(obj)) {
    const lower = k.toLowerCase();
    if (PATH_KEYS.includes(lower)) delete obj[k];
    else if (lower === 'clusternetwork' && typeof obj[k] === 'string' && (obj[k] as string).startsWith('/')) {
      // '/ABS/x' means dirs.conf/x; any other absolute path becomes dirs.conf itself.
      const v = obj[k] as string;
      const rest = v.replace(/^\/ABS(?=\/|$)/, '');
      obj[k] = rest === v || rest.includes('..') ? dirs.conf : `${dirs.conf}${rest}`;
    }
  }
  Object.assign(obj, { cniDir: dirs.cni, confDir: dirs.conf, binDir: dirs.bin, logFile: dirs.log, logToStderr: false });
  if (hadReadiness) obj.readinessindicatorfile = dirs.ready; // exists: ADD never waits for it
  return obj;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The bytes braid reads; anything that parses as an object is confined first (damaged text too). */
function stdinFor(input: { obj: unknown } | { text: string }): string {
  if ('obj' in input) {
    const obj = JSON.parse(JSON.stringify(input.obj ?? null)) as unknown; // deep markers still strings
    return toText(isObject(obj) ? confine(obj) : obj);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.text);
  } catch {
    return input.text; // braid can't parse it either
  }
  return isObject(parsed) ? JSON.stringify(confine(parsed)) : input.text;
}

const refuseExec: NonNullable<ContextOverrides['exec']> = () => Promise.reject(new CniError(Code.IOFailure, 'fuzz: exec is disabled'));
const overrides: ContextOverrides = { exec: refuseExec, keepLogger: true };

const stdinArb = fc.oneof(
  { weight: 6, arbitrary: cleanBraidConfig.map((c) => ({ obj: c as unknown })) },
  { weight: 4, arbitrary: braidConfig.map((c) => ({ obj: c as unknown })) },
  { weight: 4, arbitrary: mutated(braidConfig).map((c) => ({ obj: c })) },
  { weight: 1, arbitrary: configValue.map((c) => ({ obj: c })) },
  { weight: 1, arbitrary: anyJson.map((c) => ({ obj: c })) },
  { weight: 1, arbitrary: damagedText(braidConfig.map((c) => JSON.stringify(c))).map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.oneof(anyString, fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1'))).map((text) => ({ text })) },
);

/** Records left on disk by an earlier ADD (or a crash, or an older braid) for this container. */
const seeded = fc.record({
  plan: sometimes(recordText(planRecord), 1),
  cache: sometimes(fc.tuple(fc.constantFrom('cluster', 'net1'), recordText(cacheRecord)), 1),
});

/** Mostly a well-formed request, so most cases get past the environment into the verbs. */
const wellFormedEnv = fc
  .record({
    CNI_COMMAND: fc.constantFrom('ADD', 'ADD', 'DEL', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'),
    CNI_CONTAINERID: validContainerId,
    CNI_NETNS: fc.constant('/var/run/netns/fuzz'),
    CNI_IFNAME: validIfName,
    CNI_ARGS: sometimes(fc.constantFrom('default', 'kube-system', 'team-a'), 0.3).map((ns) =>
      ns === undefined ? 'IgnoreUnknown=1' : `IgnoreUnknown=1;K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=pod-1;K8S_POD_UID=u1`,
    ),
    CNI_PATH: fc.constant(''),
  })
  .map((e): CniEnvVars => e);
const envArb = fc.oneof({ weight: 3, arbitrary: wellFormedEnv }, { weight: 1, arbitrary: cniEnv }).map((env): CniEnvVars => {
  const out: CniEnvVars = { ...env };
  if (out.CNI_PATH !== undefined) out.CNI_PATH = dirs.bin; // the empty plugin dir, whatever was generated
  return compact(out);
});

function seed(env: CniEnvVars, records: { plan?: string; cache?: [string, string] }): void {
  rmSync(dirs.cni, { recursive: true, force: true });
  const { CNI_CONTAINERID: cid, CNI_IFNAME: ifname } = env;
  if (!cid || !ifname || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(cid) || !/^[a-z][a-z0-9]*$/.test(ifname) || cid.length > 200 || ifname.length > 15) return;
  if (records.plan !== undefined) {
    mkdirSync(join(dirs.cni, 'plans'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dirs.cni, 'plans', `${cid}-${ifname}`), records.plan);
  }
  if (records.cache !== undefined) {
    mkdirSync(join(dirs.cni, 'results'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dirs.cni, 'results', `${records.cache[0]}-${cid}-${ifname}`), records.cache[1]);
  }
}

const SILENT_OK = ['DEL', 'CHECK', 'STATUS', 'GC'];
const STACK_FRAME = /\\n\s+at |\bat (?:async )?\S+ \((?:file|node):|node:internal/;

beforeAll(() => {
  for (const d of [dirs.conf, dirs.bin]) mkdirSync(d, { recursive: true });
  writeFileSync(dirs.ready, '');
  const put = (name: string, v: unknown) => writeFileSync(join(dirs.conf, name), typeof v === 'string' ? v : JSON.stringify(v));
  put('cluster.conflist', { cniVersion: '1.1.0', name: 'cluster', plugins: [{ type: 'ptp', ipam: { type: 'host-local', subnet: '10.1.0.0/16' } }, { type: 'portmap', capabilities: { portMappings: true } }] });
  put('net1.conflist', { cniVersion: '1.0.0', name: 'net1', plugins: [{ type: 'bridge' }] });
  put('net2.conf', { cniVersion: '0.4.0', name: 'net2', type: 'macvlan' });
  put('old.conf', { cniVersion: '0.3.1', name: 'old', type: 'bridge' });
  put('broken.conflist', '{"cniVersion": "1.0.0", "name": "broken", "plugins": [');
  put('deep.conflist', `{"cniVersion":"1.0.0","name":"deep","plugins":[{"type":"x","a":${'['.repeat(5000)}${']'.repeat(5000)}}]}`);
  configureLogger({ logLevel: 'silent' }); // overrides.keepLogger: one logger for all calls
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('fuzz: the CNI edge', () => {
  it('stdout is always exactly one JSON document (errors as {cniVersion, code, msg}), never a stack', async () => {
    const internal = new Map<string, number>();
    let reachedEngine = 0;
    await fc.assert(
      fc.asyncProperty(envArb, stdinArb, seeded, async (env, input, records) => {
        const stdin = stdinFor(input);
        seed(env, records);
        const { exitCode, stdout } = await cniResponse({ ...env }, Buffer.from(stdin), overrides);
        const verb = env.CNI_COMMAND ?? '';

        if (stdout === '') {
          expect(exitCode).toBe(0);
          expect(SILENT_OK).toContain(verb);
          return;
        }
        expect(stdout.endsWith('\n')).toBe(true);
        expect(stdout.indexOf('\n')).toBe(stdout.length - 1);
        const doc = JSON.parse(stdout) as Record<string, unknown>;
        expect(doc !== null && typeof doc === 'object' && !Array.isArray(doc)).toBe(true);
        expect(stdout).not.toMatch(STACK_FRAME);
        if (!`${stdin}${Object.values(env).join('')}`.includes('at ')) expect(stdout).not.toContain('    at ');
        if (exitCode === 0) {
          if (verb === 'VERSION') expect(doc.supportedVersions).toEqual([...SUPPORTED_VERSIONS]);
          else expect(verb).toBe('ADD');
          expect(isSupported(String(doc.cniVersion))).toBe(true);
          return;
        }
        expect(exitCode).toBe(1);
        expect(Object.keys(doc).sort()).toEqual(doc.details === undefined ? ['cniVersion', 'code', 'msg'] : ['cniVersion', 'code', 'details', 'msg']);
        expect(isSupported(String(doc.cniVersion))).toBe(true);
        expect(Number.isInteger(doc.code) && (doc.code as number) > 0).toBe(true);
        expect(typeof doc.msg).toBe('string');
        if (String(doc.msg).includes('failed to find plugin')) reachedEngine++;
        if (doc.code === Code.Internal) internal.set(String(doc.msg), (internal.get(String(doc.msg)) ?? 0) + 1);
      }),
      FUZZ,
    );
    // 999 means an exception that no rule anticipated: outside input must never cause one.
    expect([...internal.entries()].map(([msg, n]) => `${n}x ${msg.slice(0, 300)}`)).toEqual([]);
    assertCoverage('requests that got as far as running a plugin', reachedEngine, 0.03);
  }, FUZZ_TIMEOUT_MS);
});
