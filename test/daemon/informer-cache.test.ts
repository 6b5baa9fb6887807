// The informer-backed KubeApi in-process against the loopback API server: slim cached objects,
// GET fallback on a miss or a uid mismatch, brief negative caching of missing NADs, and
// informers that come back by themselves after the API server went away (even past a 410).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';
import { InformerCache } from '../../src/daemon/informer-cache.js';
import { configureLogger } from '../../src/log.js';
import { waitFor } from './daemon-harness.js';

let api: FakeApiServer;
let dir: string;
let cache: InformerCache | undefined;
const observed: string[] = [];

beforeAll(async () => {
  configureLogger({ logLevel: process.env.DBG ? 'debug' : 'silent', logToStderr: true });
  api = await startFakeApiServer();
});
afterAll(() => api.close());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-inf-'));
  observed.length = 0;
});
afterEach(async () => {
  await cache?.stop();
  cache = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const gets = () => api.requests.filter((r) => r.method === 'GET' && r.query.watch !== 'true' && !r.query.fieldSelector && !r.path.endsWith('definitions')).length;

function bulkyPod(ns: string, name: string, nodeName: string, networks?: string) {
  return api.addPod({
    metadata: {
      name,
      namespace: ns,
      labels: { app: 'x' },
      annotations: {
        ...(networks ? { 'k8s.v1.cni.cncf.io/networks': networks } : {}),
        'k8s.v1.cni.cncf.io/network-status': '[{"name":"old"}]',
        'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(4000),
      },
      managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }],
    },
    spec: { nodeName, containers: [{ name: 'c', image: 'busybox', env: [{ name: 'A', value: 'b'.repeat(500) }] }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });
}

async function started(ns: string): Promise<InformerCache> {
  cache = await InformerCache.create({
    kubeconfig: api.writeKubeconfig(join(dir, 'kubeconfig')),
    nodeName: `${ns}-node`,
    apiTimeoutMs: 2000,
    observe: (verb, resource, ok) => observed.push(`${verb} ${resource} ${ok ? 'ok' : 'error'}`),
    backoff: { initialMs: 50, maxMs: 200 },
    negativeTtlMs: 60_000,
  });
  cache.start();
  await waitFor('informers to sync', () => cache!.synced || undefined);
  return cache;
}

describe('InformerCache', () => {
  it('serves its node pods and all NADs from memory, slimmed to what braid reads', async () => {
    const ns = `inf${Date.now() % 100000}a`;
    const pod = bulkyPod(ns, 'here', `${ns}-node`, 'net-a');
    bulkyPod(ns, 'there', 'elsewhere');
    api.addNad(ns, 'net-a', { cniVersion: '1.0.0', type: 'bridge' }, { 'k8s.v1.cni.cncf.io/resourceName': 'r', other: 'dropped' });
    const c = await started(ns);
    api.reset();

    const got = await c.forRequest(pod.metadata.uid).getPod(ns, 'here');
    expect(got).toEqual({
      metadata: { name: 'here', namespace: ns, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion, annotations: { 'k8s.v1.cni.cncf.io/networks': 'net-a' } },
    });
    const nad = await c.forRequest().getNad(ns, 'net-a');
    expect(nad).toMatchObject({ metadata: { name: 'net-a', namespace: ns, annotations: { 'k8s.v1.cni.cncf.io/resourceName': 'r' } }, spec: { config: '{"cniVersion":"1.0.0","type":"bridge"}' } });
    expect(Object.keys(nad!.metadata.annotations!)).toEqual(['k8s.v1.cni.cncf.io/resourceName']);
    expect(gets()).toBe(0);
    expect(c.stats().find((s) => s.resource === 'pods')!.objects).toBeGreaterThanOrEqual(1);

    // Not this node's pod: one GET. Same name but another uid (recreated): one GET too.
    expect((await c.forRequest().getPod(ns, 'there')).metadata.name).toBe('there');
    await expect(c.forRequest('another-uid').getPod(ns, 'here')).resolves.toMatchObject({ metadata: { uid: pod.metadata.uid } });
    expect(gets()).toBe(2);
    expect(observed.filter((o) => o.startsWith('get pods'))).toEqual(['get pods ok', 'get pods ok']);
  });

  it('remembers a missing NAD briefly, but the watch delivering it wins at once', async () => {
    const ns = `inf${Date.now() % 100000}b`;
    const c = await started(ns);
    api.reset();
    expect(await c.forRequest().getNad(ns, 'later')).toBeUndefined();
    expect(await c.forRequest().getNad(ns, 'later')).toBeUndefined();
    expect(gets()).toBe(1);
    api.addNad(ns, 'later', { cniVersion: '1.0.0', type: 'macvlan' });
    await waitFor('the watch to deliver the NAD', async () => (await c.forRequest().getNad(ns, 'later')) ?? undefined);
    expect(gets()).toBe(1);
  });

  it('restarts list+watch after the API server was down, relisting after 410 Gone', async () => {
    const ns = `inf${Date.now() % 100000}c`;
    const c = await started(ns);
    await api.stop();
    bulkyPod(ns, 'while-down', `${ns}-node`);
    api.compactHistory(); // the watch's resourceVersion is now too old: 410, then a fresh list
    await new Promise((r) => setTimeout(r, 300));
    await api.start();
    await waitFor('the pod created while the API was down', () => c.stats().find((s) => s.resource === 'pods')!.objects === 1 || undefined, 15_000);
    api.reset();
    await c.forRequest().getPod(ns, 'while-down');
    expect(gets()).toBe(0);
    expect(observed.some((o) => o === 'list pods error' || o === 'watch pods error')).toBe(true);
    expect(observed.filter((o) => o === 'list pods ok').length).toBeGreaterThanOrEqual(2); // the relist
  });
});
