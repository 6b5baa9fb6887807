// Hostile input against dist/braid: names can't reach outside braid's directories,
// secrets never reach logs or errors, sizes are capped, files are private.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';
import { TestWorld, ifaceIn } from '../helpers/netns.js';
import { assertBuilt, callBraid, k8sArgs } from '../helpers/braid-runner.js';

const TOKEN = 'braid-secret-token-0123456789abcdef';
let api: FakeApiServer;
let world: TestWorld;

beforeAll(async () => {
  assertBuilt();
  api = await startFakeApiServer({ token: TOKEN });
});
afterAll(() => api.close());
beforeEach(() => {
  world = new TestWorld();
  api.reset();
  api.clearFaults();
});
afterEach(() => world.cleanup());

function setup(annotation: string) {
  const ns = world.netns();
  const confDir = world.dir('net.d');
  mkdirSync(confDir, { recursive: true });
  // A network outside confDir that a traversing name would reach.
  mkdirSync(world.dir('outside'), { recursive: true });
  writeFileSync(world.dir('outside/evil.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'evil', plugins: [{ type: 'loopback' }] }));
  const cluster = world.dir('net.d/10-cluster.conflist');
  writeFileSync(cluster, JSON.stringify({ cniVersion: '1.0.0', name: world.name('c'), plugins: [{ type: 'loopback' }] }));
  const podNs = world.name('ns');
  api.addPod({ metadata: { name: 'p', namespace: podNs, annotations: { 'k8s.v1.cni.cncf.io/networks': annotation } } });
  const config = {
    cniVersion: '1.0.0',
    name: 'braid',
    type: 'braid',
    kubeconfig: api.writeKubeconfig(world.dir('kubeconfig'), { token: TOKEN }),
    clusterNetwork: cluster,
    confDir,
    cniDir: world.dir('braid'),
    logFile: world.dir('log/braid.log'),
    logLevel: 'debug',
  };
  return { ns, config, args: k8sArgs(podNs, 'p') };
}

const add = (s: ReturnType<typeof setup>, extra: Partial<Parameters<typeof callBraid>[0]> = {}) =>
  callBraid({ command: 'ADD', containerId: `c${world.tag}`, netns: s.ns.path, ifname: 'lo', args: s.args, config: s.config, ...extra });

describe('hostile network references are refused with code 7 and read nothing outside confDir', () => {
  it.each([
    '../outside/evil',
    '../../../../etc/passwd',
    '/etc/passwd',
    `[{"name": "../outside/evil"}]`,
    `[{"name": "evil", "namespace": "../outside"}]`,
    `[{"name": "a\\u0000b"}]`,
    'x'.repeat(300),
    'ns/../../x',
    '..',
  ])('%s', async (annotation) => {
    const s = setup(annotation);
    const r = await add(s);
    expect(r.status).toBe(1);
    expect(r.json.code).toBe(7);
    expect(r.stdout).not.toContain('    at ');
    // Refused before any API lookup or file read for that name.
    expect(api.count({ pathPrefix: '/apis/k8s.cni.cncf.io/' })).toBe(0);
    expect(existsSync(join(s.config.cniDir, 'plans')) ? readdirSync(join(s.config.cniDir, 'plans')) : []).toEqual([]);
  });
});

it('hostile container IDs and interface names are refused with code 4 and create no file', async () => {
  const s = setup('');
  for (const containerId of ['../../escape', '/abs', 'a b', 'x'.repeat(300)]) {
    const r = await add(s, { containerId });
    expect(r.json.code).toBe(4);
  }
  for (const ifname of ['../../x', 'a/b', 'averyveryverylongname', '..']) {
    const r = await add(s, { ifname });
    expect(r.json.code).toBe(4);
  }
  expect(existsSync(s.config.cniDir)).toBe(false);
  expect(existsSync(world.dir('escape'))).toBe(false);
});

it('the kubeconfig token never appears in errors or logs', async () => {
  const s = setup('');
  for (const fault of [{ status: 500 }, { status: 401 }, { status: 403 }]) {
    api.clearFaults();
    api.fault({ pathRegex: '/pods/', ...fault });
    const r = await add(s);
    expect(r.json.code).not.toBe(0);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  }
  api.clearFaults();
  expect((await add(s)).status).toBe(0);
  expect(readFileSync(s.config.logFile, 'utf8')).not.toContain(TOKEN);
  expect(statSync(s.config.logFile).mode & 0o777).toBe(0o600);
  expect(statSync(s.config.cniDir).mode & 0o777).toBe(0o700);
  for (const d of ['plans', 'results']) {
    expect(statSync(join(s.config.cniDir, d)).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(join(s.config.cniDir, d))) expect(statSync(join(s.config.cniDir, d, f)).mode & 0o777).toBe(0o600);
  }
  await callBraid({ command: 'DEL', containerId: `c${world.tag}`, netns: s.ns.path, ifname: 'lo', args: s.args, config: s.config });
  expect(ifaceIn(s.ns.name, 'lo')).toBeDefined();
});

it('caps stdin and annotation sizes with code 7', async () => {
  const s = setup('x,'.repeat(40_000) + 'x');
  const big = await add(s);
  expect(big.json.code).toBe(7);
  expect(big.json.msg).toMatch(/annotation|bytes|too/i);
  const huge = await add(setup(''), { config: JSON.stringify({ ...s.config, pad: 'y'.repeat(5 * 1024 * 1024) }) });
  expect(huge.json.code).toBe(7);
  expect(huge.json.msg).toMatch(/exceeds/);
});
