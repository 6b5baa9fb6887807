// The stand-in's TLS, authentication, authorization, paging and watch details, checked at the
// wire: status codes and Status bodies as kube-apiserver sends them.
import { afterEach, describe, expect, it } from 'vitest';
import { createPki } from './pki.js';
import { BRAID_SA, openRequest, rawRequest, startFakeApiServer, type FakeApiServer, type KubeObject, type RawRequest, type StartOptions } from './server.js';

const servers: FakeApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(opts: StartOptions = {}): Promise<FakeApiServer> {
  const s = await startFakeApiServer(opts);
  servers.push(s);
  return s;
}

const get = (s: FakeApiServer, path: string, o: RawRequest = {}) => rawRequest(`${s.url}${path}`, { ca: s.ca, token: s.token, ...o });
const json = async (s: FakeApiServer, path: string, o: RawRequest = {}) => {
  const r = await get(s, path, o);
  return { status: r.status, body: JSON.parse(r.body) as Record<string, any> };
};
const pod = (name: string, nodeName = 'node1', namespace = 'default'): KubeObject => ({ metadata: { name, namespace }, spec: { nodeName } });
const status = (code: number, reason: string, message: string, details?: object) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });

describe('TLS', () => {
  it('serves https with a certificate for 127.0.0.1 that only its CA verifies', async () => {
    const s = await server();
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await get(s, '/version')).status).toBe(200);
    await expect(get(s, '/version', { ca: undefined })).rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    await expect(get(s, '/version', { ca: createPki('another-ca').ca.cert })).rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  });

  it('restarts on the same port with the same CA', async () => {
    const s = await server();
    const port = s.port;
    await s.stop();
    await expect(get(s, '/version')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await s.start();
    expect(s.port).toBe(port);
    expect((await get(s, '/version')).status).toBe(200);
  });
});

describe('authentication', () => {
  it('401 with the Status body for a wrong or revoked token; a rotated token works at once', async () => {
    const s = await server();
    s.addPod(pod('p'));
    const unauthorized = status(401, 'Unauthorized', 'Unauthorized');
    expect(await json(s, '/api/v1/namespaces/default/pods/p', { token: 'wrong' })).toEqual({ status: 401, body: unauthorized });
    const old = s.token;
    const next = s.rotateToken();
    expect(s.token).toBe(next);
    expect(await json(s, '/api/v1/pods', { token: old })).toEqual({ status: 401, body: unauthorized });
    expect((await get(s, '/api/v1/pods', { token: next })).status).toBe(200);
    expect(s.requests.at(-1)?.user).toBe(BRAID_SA.name);
  });

  it('a client certificate from its CA authenticates as its CN; one from another CA is 401', async () => {
    const s = await server();
    s.addPod(pod('p'));
    const mine = s.issueClientCert('system:node:node1', ['system:nodes']);
    expect((await get(s, '/api/v1/namespaces/default/pods/p', { token: undefined, ...mine })).status).toBe(200);
    expect(s.requests.at(-1)?.user).toBe('system:node:node1');
    const foreign = createPki('another-ca').issueClient('system:node:node1');
    expect(await json(s, '/api/v1/namespaces/default/pods/p', { token: undefined, ...foreign })).toEqual({ status: 401, body: status(401, 'Unauthorized', 'Unauthorized') });
  });

  it('no credentials: system:anonymous, forbidden everything but /version and health (401 when anonymous auth is off)', async () => {
    const s = await server();
    expect((await get(s, '/version', { token: undefined })).status).toBe(200);
    expect(await json(s, '/api/v1/namespaces/default/pods/p', { token: undefined })).toEqual({
      status: 403,
      body: status(403, 'Forbidden', 'pods "p" is forbidden: User "system:anonymous" cannot get resource "pods" in API group "" in the namespace "default"', { name: 'p', kind: 'pods' }),
    });
    const closed = await server({ anonymous: false });
    expect((await get(closed, '/api/v1/pods', { token: undefined })).status).toBe(401);
  });
});

describe('authorization', () => {
  it('403 bodies name the user, verb, resource (with subresource), group and scope', async () => {
    const s = await server({ authorizer: (a) => a.verb === 'get' && a.resource === 'pods' && !a.subresource });
    s.addPod(pod('p'));
    expect((await get(s, '/api/v1/namespaces/default/pods/p')).status).toBe(200);
    const patch = await json(s, '/api/v1/namespaces/default/pods/p/status', { method: 'PATCH', headers: { 'Content-Type': 'application/merge-patch+json' }, body: '{}' });
    expect(patch).toEqual({
      status: 403,
      body: status(403, 'Forbidden', `pods "p" is forbidden: User "${BRAID_SA.name}" cannot patch resource "pods/status" in API group "" in the namespace "default"`, { name: 'p', kind: 'pods' }),
    });
    const list = await json(s, '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions?watch=true');
    expect(list.body.message).toBe(
      `network-attachment-definitions.k8s.cni.cncf.io is forbidden: User "${BRAID_SA.name}" cannot watch resource "network-attachment-definitions" in API group "k8s.cni.cncf.io" at the cluster scope`,
    );
    expect(list.body.details).toEqual({ kind: 'network-attachment-definitions', group: 'k8s.cni.cncf.io' });
    s.setAuthorizer(undefined);
    expect((await get(s, '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions')).status).toBe(200);
  });
});

describe('lists', () => {
  it('limit and continue page through one snapshot, in key order, with remainingItemCount', async () => {
    const s = await server();
    for (const n of ['e', 'b', 'a', 'd', 'c']) s.addPod(pod(n));
    const first = (await json(s, '/api/v1/pods?limit=2')).body;
    expect(first.items.map((p: KubeObject) => p.metadata.name)).toEqual(['a', 'b']);
    expect(first.metadata.remainingItemCount).toBe(3);
    const rv = first.metadata.resourceVersion;
    // Changes after the first page do not show in the rest of it.
    s.deletePod('default', 'c');
    s.addPod(pod('bb'));
    const second = (await json(s, `/api/v1/pods?limit=2&continue=${first.metadata.continue}`)).body;
    expect(second.items.map((p: KubeObject) => p.metadata.name)).toEqual(['c', 'd']);
    expect(second.metadata.resourceVersion).toBe(rv);
    const last = (await json(s, `/api/v1/pods?limit=2&continue=${second.metadata.continue}`)).body;
    expect(last.items.map((p: KubeObject) => p.metadata.name)).toEqual(['e']);
    expect(last.metadata.continue).toBeUndefined();
    // A fresh list sees the changes.
    expect((await json(s, '/api/v1/pods')).body.items.map((p: KubeObject) => p.metadata.name)).toEqual(['a', 'b', 'bb', 'd', 'e']);
  });

  it('a continue token from before a compaction is 410 Expired; a garbled one is 400', async () => {
    const s = await server();
    for (const n of ['a', 'b', 'c']) s.addPod(pod(n));
    const first = (await json(s, '/api/v1/pods?limit=1')).body;
    s.addPod(pod('d'));
    s.compactHistory();
    const expired = await json(s, `/api/v1/pods?limit=1&continue=${first.metadata.continue}`);
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
    expect(expired.body.message).toContain('continue parameter is too old');
    expect((await json(s, '/api/v1/pods?continue=bm90LWEtdG9rZW4')).status).toBe(400);
  });

  it('spec.nodeName selects pods; a field label the registry does not index is 400', async () => {
    const s = await server();
    s.addPod(pod('a', 'node1'));
    s.addPod(pod('b', 'node2'));
    const sel = await json(s, '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode2');
    expect(sel.body.items.map((p: KubeObject) => p.metadata.name)).toEqual(['b']);
    expect(await json(s, '/api/v1/pods?fieldSelector=spec.hostname%3Dx')).toEqual({ status: 400, body: status(400, 'BadRequest', 'field label not supported: spec.hostname') });
    expect((await json(s, '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions?fieldSelector=spec.config%3Dx')).status).toBe(400);
  });
});

describe('watches', () => {
  it('bookmark now and then when asked, with the current resourceVersion', async () => {
    const s = await server({ bookmarkIntervalMs: 100 });
    const ctrl = new AbortController();
    const res = await openRequest(`${s.url}/api/v1/pods?watch=true&allowWatchBookmarks=true&resourceVersion=${s.resourceVersion}`, { ca: s.ca, token: s.token, signal: ctrl.signal });
    s.addPod(pod('a'));
    const events: Array<{ type: string; object: KubeObject }> = [];
    let buf = '';
    try {
      for await (const c of res) {
        buf += (c as Buffer).toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        events.push(...lines.filter(Boolean).map((l) => JSON.parse(l)));
        if (events.filter((e) => e.type === 'BOOKMARK').length >= 2) break;
      }
    } finally {
      ctrl.abort();
    }
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'a' } } });
    expect(events.slice(1).map((e) => e.type)).toEqual(['BOOKMARK', 'BOOKMARK']);
    expect(events[1]!.object).toEqual({ kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: s.resourceVersion } });
  });
});
