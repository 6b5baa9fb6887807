// The daemon's network-status writes and informer health against API failures, through the
// built dist/braid daemon and braid-shim: an outage of the API server loses no status write
// (retried with backoff until it lands, none on a pod recreated meanwhile, none for a deleted
// container, the newest status wins), failed PATCHes are retried by reason, /readyz follows the
// informers through 401 (revoked token), 403 (RBAC) and an unreachable server, and every
// request carries braid's User-Agent. The stand-in speaks HTTPS with token authentication.
// Backoff is compressed (--api-backoff-max 400ms), so a 4 s outage takes the retry rounds a
// 4-minute one takes at the default 30 s. BRAID_OUTAGE_SECONDS=180 runs the outage for real:
// 3 minutes, with the daemon's default backoff.
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callBraid, k8sArgs } from '../helpers/braid-runner.js';
import { TestWorld, ipv4Of } from '../helpers/netns.js';
import { DaemonProcess, SHIM_C, callShim, killAllDaemons, shimEntry, sleep, useDaemonApi, waitFor } from './daemon-harness.js';

const STATUS = 'k8s.v1.cni.cncf.io/network-status';
const REAL_OUTAGE_S = Number(process.env.BRAID_OUTAGE_SECONDS) || 0;
const BACKOFF = ['--api-backoff-initial', '50ms', '--api-backoff-max', '400ms'];
const t = useDaemonApi();
let world: TestWorld;
beforeEach(() => {
  world = new TestWorld();
  t.api.clearFaults();
});
afterEach(async () => {
  t.api.clearFaults();
  await t.api.start();
  await killAllDaemons();
  await world.cleanup();
});

interface Setup {
  daemon: DaemonProcess;
  config: Record<string, unknown>;
  socket: string;
  podNs: string;
  logFile: string;
}

/** A daemon whose cluster network is a real bridge + host-local, informers synced. */
async function startDaemon(extra: Record<string, unknown> = {}, args: string[] = BACKOFF): Promise<Setup> {
  const subnet = `198.18.${96 + Math.floor(Math.random() * 20)}.0/24`;
  const clusterFile = world.dir('cluster.conflist');
  writeFileSync(
    clusterFile,
    JSON.stringify({ cniVersion: '1.0.0', name: world.name('cl'), plugins: [{ type: 'bridge', bridge: world.name('br'), ipam: { type: 'host-local', dataDir: world.dir('ipam'), ranges: [[{ subnet }]] } }] }),
  );
  const logFile = world.dir('braid.log');
  const config = {
    cniVersion: '1.0.0',
    name: 'braid-net',
    type: 'braid',
    kubeconfig: t.api.writeKubeconfig(world.dir('kubeconfig')),
    clusterNetwork: clusterFile,
    cniDir: world.dir('braid'),
    binDir: '/usr/lib/cni',
    logFile,
    ...extra,
  };
  const configFile = world.dir('braid.conf');
  writeFileSync(configFile, JSON.stringify(config));
  const socket = world.dir('braid.sock');
  const daemon = await DaemonProcess.start({ config: configFile, socket, args });
  return { daemon, config, socket, podNs: world.name('ns'), logFile };
}

interface Pod {
  name: string;
  uid: string;
  containerId: string;
  netns: { name: string; path: string };
}

function makePod(s: Setup, name: string): Pod {
  const pod = t.api.addPod({ metadata: { name, namespace: s.podNs }, spec: { nodeName: 'node1' } });
  return { name, uid: pod.metadata.uid!, containerId: `${world.tag}${name}`, netns: world.netns(name) };
}

/** A CNI call through braid-shim; the runtime's DEL (one-shot, from the plan) runs in teardown. */
function cni(s: Setup, command: 'ADD' | 'DEL' | 'CHECK', p: Pod, containerId = p.containerId, netns = p.netns) {
  const call = { containerId, netns: netns.path, args: k8sArgs(s.podNs, p.name, p.uid) };
  if (command === 'ADD') world.onCleanup(() => callBraid({ ...call, command: 'DEL', config: s.config }));
  return callShim(SHIM_C, { ...call, command, config: shimEntry(s.socket) });
}

const status = (s: Setup, name: string) => t.api.getPod(s.podNs, name)?.metadata.annotations?.[STATUS];
const statusIps = (s: Setup, name: string) => (JSON.parse(status(s, name)!) as Array<{ ips: string[] }>).flatMap((e) => e.ips);
const ipsOf = (p: { netns: { name: string } }) => ipv4Of(p.netns.name, 'eth0').map((a) => a.split('/')[0]);
const metric = (s: Setup, name: string, labels: Record<string, string> = {}) => s.daemon.metric(name, labels).then((v) => v ?? 0);

async function readyz(s: Setup, want: 200 | 503, detail?: RegExp, timeoutMs = 20_000): Promise<string> {
  return waitFor(
    `/readyz ${want}`,
    async () => {
      const r = await s.daemon.get('/readyz');
      return r.status === want && (!detail || detail.test(r.body)) ? r.body : undefined;
    },
    timeoutMs,
  );
}

describe('daemon network-status writes', () => {
  it('an API outage loses no status write: retried until it lands, none on a recreated pod or for a deleted container', { timeout: 60_000 + REAL_OUTAGE_S * 1000 }, async () => {
    const s = await startDaemon({}, REAL_OUTAGE_S ? [] : BACKOFF);
    const pods = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'].map((n) => makePod(s, n));
    await waitFor('pods in the cache', async () => (await metric(s, 'braid_informer_objects', { resource: 'pods' })) >= pods.length || undefined);
    const [p0, p1, p2, p3, p4, p5] = pods as [Pod, Pod, Pod, Pod, Pod, Pod];

    // The API server shuts down as kube-apiserver does (watches ended, then a wait for the
    // clients' connections, cut after 20 s here, 60 s there): the daemon lets go at once.
    const stopping = Date.now();
    await t.api.stop({ graceful: true, timeoutMs: 20_000 });
    expect(Date.now() - stopping).toBeLessThan(3000);
    expect(await readyz(s, 503, /unreachable/)).toMatch(/informer pods cannot list or watch: unreachable \(ECONNREFUSED\)/);
    expect(await metric(s, 'braid_informer_up', { resource: 'pods' })).toBe(0);

    for (const p of pods) {
      const add = await cni(s, 'ADD', p);
      expect(add.status, add.stdout).toBe(0);
    }
    expect(await metric(s, 'braid_status_writes_pending')).toBe(6);
    // p1's container is deleted: its write is cancelled. p2 gets a second sandbox: its newer
    // status replaces the pending one. p3 is deleted, p4 deleted and recreated (another UID).
    expect((await cni(s, 'DEL', p1)).status).toBe(0);
    const p2b = { id: `${p2.containerId}b`, netns: world.netns('p2b') };
    expect((await cni(s, 'ADD', p2, p2b.id, p2b.netns)).status).toBe(0);
    t.api.deletePod(s.podNs, 'p3');
    t.api.deletePod(s.podNs, 'p4');
    const p4New = t.api.addPod({ metadata: { name: 'p4', namespace: s.podNs }, spec: { nodeName: 'node1' } });
    t.api.compactHistory(); // a long outage outlives the watch history: a relist follows
    expect(p4New.metadata.uid).not.toBe(p4.uid);
    expect(await metric(s, 'braid_status_writes_pending')).toBe(5);
    await sleep(REAL_OUTAGE_S ? REAL_OUTAGE_S * 1000 : 4000);
    expect(await metric(s, 'braid_status_write_failed_attempts_total', { reason: 'unreachable' })).toBeGreaterThanOrEqual(5 * 4);
    expect(await metric(s, 'braid_status_writes_pending')).toBe(5);

    await t.api.start();
    const restarted = Date.now();
    await waitFor('every pending write settled', async () => (await metric(s, 'braid_status_writes_pending')) === 0 || undefined, 45_000);
    if (REAL_OUTAGE_S) console.log(`outage ${REAL_OUTAGE_S} s: every pending write settled ${Date.now() - restarted} ms after the API server came back`);
    expect(statusIps(s, 'p0')).toEqual(ipsOf(p0));
    expect(statusIps(s, 'p5')).toEqual(ipsOf(p5));
    expect(statusIps(s, 'p2')).toEqual(ipsOf(p2b));
    expect(status(s, 'p1')).toBeUndefined();
    expect(status(s, 'p4')).toBeUndefined(); // the recreated pod never got the old pod's status
    const results = Object.fromEntries(
      await Promise.all(['written', 'written_late', 'cancelled', 'superseded', 'pod_gone', 'pod_recreated', 'rejected'].map(async (r) => [r, await metric(s, 'braid_status_writes_total', { result: r })])),
    );
    expect(results).toEqual({ written: 0, written_late: 3, cancelled: 1, superseded: 1, pod_gone: 1, pod_recreated: 1, rejected: 0 });
    expect(await readyz(s, 200, undefined, 45_000)).toBe('ok: informer caches synced\n');
    expect(await metric(s, 'braid_informer_up', { resource: 'pods' })).toBe(1);
    expect(await metric(s, 'braid_informer_relists_total', { resource: 'pods' })).toBeGreaterThanOrEqual(1);
    const log = readFileSync(s.logFile, 'utf8');
    expect(log).toMatch(/network-status written after the Kubernetes API recovered/);

    // Every request the daemon made carries braid's User-Agent, its watches included.
    const agents = new Set(t.api.requests.map((r) => `${r.query.watch === 'true' ? 'watch' : r.method} ${r.userAgent}`));
    expect([...agents].every((a) => /^\S+ braid\/\d+\.\d+\.\d+\S* \(linux\/\w+\)$/.test(a)), [...agents].join('\n')).toBe(true);
    expect([...agents].some((a) => a.startsWith('watch '))).toBe(true);
  });

  it('failed PATCHes (token revoked, RBAC denial, 500, timeout) are retried by reason until the write lands', async () => {
    const s = await startDaemon({ apiTimeout: 0.5 });
    const p = makePod(s, 'f0');
    await waitFor('pod in the cache', async () => (await metric(s, 'braid_informer_objects', { resource: 'pods' })) >= 1 || undefined);
    const token = t.api.token;
    t.api.revokeToken(token);
    t.api.reset();
    const add = await cni(s, 'ADD', p);
    expect(add.status, add.stdout).toBe(0);
    const patches = () => t.api.requests.filter((r) => r.method === 'PATCH').map((r) => r.status);
    await waitFor('two 401s', () => patches().length >= 2 || undefined);
    // The token works again but RBAC denies the patch; then a 500 and an answer slower than apiTimeout.
    t.api.setAuthorizer((a) => a.subresource !== 'status');
    t.api.addToken(token);
    await waitFor('a 403', () => patches().includes(403) || undefined);
    t.api.fault({ method: 'PATCH', status: 500, times: 1 });
    t.api.fault({ method: 'PATCH', delayMs: 1500, times: 1 });
    t.api.setAuthorizer(undefined);
    await waitFor('the write settled', async () => (await metric(s, 'braid_status_writes_pending')) === 0 || undefined);
    expect(statusIps(s, 'f0')).toEqual(ipsOf(p));
    const statuses = patches();
    expect(statuses.at(-3)).toBe(500);
    expect(statuses.at(-2)).toBe(0); // the slow answer braid gave up on
    expect(statuses.at(-1)).toBe(200);
    const count = (code: number) => statuses.filter((c) => c === code).length;
    for (const [reason, n] of [['401', count(401)], ['403', count(403)], ['500', 1], ['timeout', 1]] as const) {
      expect(await metric(s, 'braid_status_write_failed_attempts_total', { reason }), reason).toBe(n);
    }
    expect(count(401)).toBeGreaterThanOrEqual(2);
    expect(count(403)).toBeGreaterThanOrEqual(1);
    expect(await metric(s, 'braid_status_writes_total', { result: 'written_late' })).toBe(1);
    expect((await cni(s, 'DEL', p)).status).toBe(0);
  });

  it('/readyz turns 503 while the informers get 401 (token revoked) or 403 (RBAC), and 200 again when they recover', async () => {
    const s = await startDaemon();
    const token = t.api.token;
    const denied: Array<[string, () => void, () => void]> = [
      ['401 Unauthorized', () => t.api.revokeToken(token), () => t.api.addToken(token)],
      ['403 Forbidden', () => t.api.setAuthorizer((a) => a.verb !== 'list' && a.verb !== 'watch'), () => t.api.setAuthorizer(undefined)],
    ];
    for (const [reason, deny, allow] of denied) {
      deny();
      t.api.closeWatches(); // the informers re-watch, and are refused
      // A watch the server ended is not a failure until the retry fails: wait for both retries.
      expect(await readyz(s, 503, new RegExp(`pods cannot list or watch: ${reason}; .*definitions cannot list or watch: ${reason}`))).toBe(
        `informer pods cannot list or watch: ${reason}; informer network-attachment-definitions cannot list or watch: ${reason}\n`,
      );
      expect(await metric(s, 'braid_informer_up', { resource: 'network-attachment-definitions' })).toBe(0);
      expect(await s.daemon.get('/metrics').then((m) => m.body)).toMatch(new RegExp(`braid_informer_last_error_timestamp_seconds\\{resource="pods",reason="${reason}"\\} \\d`));
      allow();
      expect(await readyz(s, 200)).toBe('ok: informer caches synced\n');
      expect(await metric(s, 'braid_informer_up', { resource: 'pods' })).toBe(1);
    }
  });

  it('costs one request per pod lifecycle (the PATCH), none for a systemNamespaces pod', async () => {
    const s = await startDaemon({ systemNamespaces: ['kube-system', world.name('sys')] });
    const p = makePod(s, 'r0');
    const sysPod = t.api.addPod({ metadata: { name: 'r1', namespace: world.name('sys') }, spec: { nodeName: 'node1' } });
    await waitFor('pods in the cache', async () => (await metric(s, 'braid_informer_objects', { resource: 'pods' })) >= 2 || undefined);
    t.api.reset();
    for (const verb of ['ADD', 'CHECK', 'DEL'] as const) expect((await cni(s, verb, p)).status).toBe(0);
    expect(t.api.requests.filter((r) => r.query.watch !== 'true').map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH /api/v1/namespaces/${s.podNs}/pods/r0/status`,
    ]);
    t.api.reset();
    const sys = { name: 'r1', uid: sysPod.metadata.uid!, containerId: `${world.tag}r1`, netns: world.netns('r1') };
    const sysSetup = { ...s, podNs: world.name('sys') };
    for (const verb of ['ADD', 'CHECK', 'DEL'] as const) expect((await cni(sysSetup, verb, sys)).status).toBe(0);
    expect(t.api.requests.filter((r) => r.query.watch !== 'true')).toEqual([]);
    expect(t.api.getPod(world.name('sys'), 'r1')!.metadata.annotations?.[STATUS]).toBeUndefined();
  });

  it('a write refused with a rotated-out token lands once the daemon is given the new credentials', async () => {
    const s = await startDaemon();
    const p = makePod(s, 't0');
    await waitFor('pod in the cache', async () => (await metric(s, 'braid_informer_objects', { resource: 'pods' })) >= 1 || undefined);
    const next = t.api.rotateToken(); // the daemon's token is refused from now on
    expect((await cni(s, 'ADD', p)).status).toBe(0);
    await waitFor('a 401', async () => (await metric(s, 'braid_status_write_failed_attempts_total', { reason: '401' })) >= 1 || undefined);
    expect(status(s, 't0')).toBeUndefined();
    // The new credentials arrive as a reloaded config naming a kubeconfig with the new token.
    const configFile = world.dir('braid.conf');
    writeFileSync(`${configFile}.tmp`, JSON.stringify({ ...s.config, kubeconfig: t.api.writeKubeconfig(world.dir('kubeconfig.next'), { token: next }) }));
    renameSync(`${configFile}.tmp`, configFile);
    await waitFor('the write settled', async () => (await metric(s, 'braid_status_writes_pending')) === 0 || undefined);
    expect(statusIps(s, 't0')).toEqual(ipsOf(p));
    expect(await metric(s, 'braid_status_writes_total', { result: 'written_late' })).toBe(1);
    expect(await readyz(s, 200)).toBe('ok: informer caches synced\n');
  });

  it('a daemon restarted while writes are pending takes them over; a container deleted meanwhile loses its write', async () => {
    const s = await startDaemon();
    const [p, gone] = [makePod(s, 's0'), makePod(s, 's1')];
    await waitFor('pods in the cache', async () => (await metric(s, 'braid_informer_objects', { resource: 'pods' })) >= 2 || undefined);
    t.api.fault({ method: 'PATCH', status: 503 });
    for (const pod of [p, gone]) expect((await cni(s, 'ADD', pod)).status).toBe(0);
    expect(await metric(s, 'braid_status_writes_pending')).toBe(2);
    expect(await s.daemon.terminate()).toBe(0);
    const stopped = readFileSync(s.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('the next daemon resumes it'))
      .map((l) => JSON.parse(l) as { level: number; pod: string });
    expect(stopped.map((l) => [l.level, l.pod]).sort()).toEqual([[40, `${s.podNs}/s0`], [40, `${s.podNs}/s1`]]);
    const statusDir = join(String(s.config.cniDir), 'status');
    expect(readdirSync(statusDir)).toHaveLength(2);
    // While no daemon runs, the runtime deletes one container (braid one-shot, from its plan).
    expect((await callBraid({ command: 'DEL', containerId: gone.containerId, netns: gone.netns.path, args: k8sArgs(s.podNs, 's1', gone.uid), config: s.config })).status).toBe(0);
    t.api.clearFaults();
    t.api.reset();
    const next = await DaemonProcess.start({ config: world.dir('braid.conf'), socket: s.socket, args: BACKOFF });
    await waitFor('the resumed write', () => status(s, 's0'));
    expect(statusIps(s, 's0')).toEqual(ipsOf(p));
    expect(status(s, 's1')).toBeUndefined();
    expect(await next.metric('braid_status_writes_total', { result: 'written_late' })).toBe(1);
    expect(t.api.requests.filter((r) => r.method === 'PATCH').map((r) => r.path)).toEqual([`/api/v1/namespaces/${s.podNs}/pods/s0/status`]);
    expect(readdirSync(statusDir)).toEqual([]);
  });
});
