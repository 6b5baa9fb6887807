import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Observable,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { ConfigurationOptions, ObservableMiddleware, V1Pod } from '@kubernetes/client-node';
import { FakeApiControl, jsonPatch, mergePatch, openRequest, rawRequest, startFakeApiServer } from './server.js';
import type { FakeApiServer, KubeObject, RawRequest } from './server.js';

const cleanups: Array<() => unknown> = [];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fake-k8s-api-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function setup(opts: { token?: string; kubeToken?: string } = {}) {
  const server = await startFakeApiServer({ token: opts.token });
  cleanups.push(() => server.close());
  const kc = new KubeConfig();
  const tokenOpt = opts.kubeToken === undefined ? {} : { token: opts.kubeToken };
  kc.loadFromFile(server.writeKubeconfig(join(dir, `kubeconfig-${server.port}.yaml`), tokenOpt));
  return { server, kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

function pod(name: string, nodeName = 'node1', namespace = 'default'): KubeObject {
  return {
    metadata: { name, namespace, labels: { app: 'demo' } },
    spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase: 'Running' },
  };
}

async function apiError(promise: Promise<unknown>): Promise<ApiException<string>> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof ApiException) return err as ApiException<string>;
  throw new Error(`expected ApiException, got ${String(err)}`);
}

/** client-node 1.4 has no timeout option: a middleware puts an AbortSignal on the request. */
function timeoutOptions(ms: number): ConfigurationOptions<ObservableMiddleware> {
  return {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(AbortSignal.timeout(ms));
          return new Observable(Promise.resolve(ctx));
        },
        post: (res) => new Observable(Promise.resolve(res)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

interface WatchEvent {
  type: string;
  object: KubeObject & { code?: number; reason?: string };
}

/** A raw request to `path` over the server's TLS, with its token unless `o` says otherwise. */
const raw = (server: FakeApiServer, path: string, o: RawRequest = {}) => rawRequest(`${server.url}${path}`, { ca: server.ca, token: server.token, ...o });

/** Reads watch lines until `count` arrived (or the server ends the stream), then disconnects. */
async function readWatch(server: FakeApiServer, path: string, count = Infinity): Promise<WatchEvent[]> {
  const controller = new AbortController();
  const res = await openRequest(`${server.url}${path}`, { ca: server.ca, token: server.token, signal: controller.signal });
  expect(res.statusCode).toBe(200);
  const events: WatchEvent[] = [];
  let buffered = '';
  try {
    for await (const chunk of res) {
      buffered += (chunk as Buffer).toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line) events.push(JSON.parse(line) as WatchEvent);
      if (events.length >= count) break;
    }
  } finally {
    controller.abort();
  }
  return events;
}

const summary = (events: WatchEvent[]): string[] => events.map((e) => `${e.type}:${e.object.metadata.name ?? ''}`);

describe('pods through CoreV1Api', () => {
  it('reads a pod with server-filled metadata, and 404s with a Status body', async () => {
    const { server, core } = await setup();
    server.addPod(pod('p1'));
    const got = await core.readNamespacedPod({ name: 'p1', namespace: 'default' });
    expect(got.kind).toBe('Pod');
    expect(got.apiVersion).toBe('v1');
    expect(got.spec?.nodeName).toBe('node1');
    expect(got.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(got.metadata?.resourceVersion).toBe(server.resourceVersion);
    expect(got.metadata?.creationTimestamp).toBeInstanceOf(Date);

    const err = await apiError(core.readNamespacedPod({ name: 'nope', namespace: 'default' }));
    expect(err.code).toBe(404);
    // client-node hands the error body over as raw text
    expect(JSON.parse(err.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'pods' },
      code: 404,
    });
  });

  it('merge-patches pod status annotations and keeps spec untouched on /status', async () => {
    const { server, core } = await setup();
    server.addPod(pod('p1'));
    const patched = await core.patchNamespacedPodStatus(
      {
        name: 'p1',
        namespace: 'default',
        body: { metadata: { annotations: { 'k8s.v1.cni.cncf.io/network-status': '[]' } }, spec: { nodeName: 'x' } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.metadata?.annotations).toEqual({ 'k8s.v1.cni.cncf.io/network-status': '[]' });
    expect(patched.spec?.nodeName).toBe('node1');
    expect(server.requests.at(-1)?.contentType).toBe('application/merge-patch+json');

    const removed = await core.patchNamespacedPod(
      { name: 'p1', namespace: 'default', body: { metadata: { annotations: { 'k8s.v1.cni.cncf.io/network-status': null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(removed.metadata?.annotations).toEqual({});
  });

  it('applies JSON patches (the client default content type) and no-op patches keep the resourceVersion', async () => {
    const { server, core } = await setup();
    server.addPod(pod('p1'));
    const ops = [
      { op: 'test', path: '/spec/nodeName', value: 'node1' },
      { op: 'add', path: '/metadata/annotations', value: { 'a/b': 'c' } },
      { op: 'replace', path: '/metadata/labels/app', value: 'other' },
    ];
    const patched = await core.patchNamespacedPod({ name: 'p1', namespace: 'default', body: ops });
    expect(patched.metadata?.annotations).toEqual({ 'a/b': 'c' });
    expect(patched.metadata?.labels).toEqual({ app: 'other' });
    expect(server.requests.at(-1)?.contentType).toBe('application/json-patch+json');

    const rv = server.resourceVersion;
    const same = await core.patchNamespacedPod({ name: 'p1', namespace: 'default', body: [{ op: 'add', path: '/metadata/labels/app', value: 'other' }] });
    expect(same.metadata?.resourceVersion).toBe(rv);
    expect(server.resourceVersion).toBe(rv);

    const failed = await apiError(
      core.patchNamespacedPod({ name: 'p1', namespace: 'default', body: [{ op: 'test', path: '/spec/nodeName', value: 'x' }] }),
    );
    expect(failed.code).toBe(422);
  });

  it('rejects a patch with a stale resourceVersion with 409 Conflict', async () => {
    const { server, core } = await setup();
    const stale = server.addPod(pod('p1')).metadata.resourceVersion;
    server.updatePod({ ...pod('p1'), status: { phase: 'Succeeded' } });
    const err = await apiError(
      core.patchNamespacedPodStatus(
        { name: 'p1', namespace: 'default', body: { metadata: { resourceVersion: stale, annotations: { a: 'b' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(err.code).toBe(409);
    expect(JSON.parse(err.body)).toMatchObject({ reason: 'Conflict', code: 409, details: { name: 'p1', kind: 'pods' } });
    expect(server.getPod('default', 'p1')?.metadata.annotations).toBeUndefined();
  });

  it('answers 415 for non-patch content types and lists with field selectors', async () => {
    const { server } = await setup();
    server.addPod(pod('a', 'node1'));
    server.addPod(pod('b', 'node2', 'other'));
    const res = await raw(server, '/api/v1/namespaces/default/pods/a', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });

    const list = JSON.parse((await raw(server, '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode2')).body) as {
      kind: string;
      metadata: { resourceVersion: string };
      items: KubeObject[];
    };
    expect(list.kind).toBe('PodList');
    expect(list.metadata.resourceVersion).toBe(server.resourceVersion);
    expect(list.items.map((p) => [p.kind, p.metadata.name])).toEqual([['Pod', 'b']]);
    const unknown = await raw(server, '/api/v1/nodes');
    expect(unknown.status).toBe(404);
  });
});

describe('network-attachment-definitions through CustomObjectsApi', () => {
  const nadApi = { group: 'k8s.cni.cncf.io', version: 'v1', plural: 'network-attachment-definitions' };

  it('gets a NAD and lists them across namespaces', async () => {
    const { server, custom } = await setup();
    server.addNad('default', 'macvlan', { cniVersion: '1.0.0', type: 'macvlan' }, { 'k8s.v1.cni.cncf.io/resourceName': 'x' });
    server.addNad('team', 'bridge', '{"cniVersion":"1.0.0","type":"bridge"}');
    const nad = (await custom.getNamespacedCustomObject({ ...nadApi, namespace: 'default', name: 'macvlan' })) as KubeObject;
    expect(nad).toMatchObject({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: 'macvlan', namespace: 'default', annotations: { 'k8s.v1.cni.cncf.io/resourceName': 'x' } },
      spec: { config: '{"cniVersion":"1.0.0","type":"macvlan"}' },
    });
    const all = (await custom.listClusterCustomObject(nadApi)) as { kind: string; items: KubeObject[] };
    expect(all.kind).toBe('NetworkAttachmentDefinitionList');
    expect(all.items.map((n) => n.metadata.name).sort()).toEqual(['bridge', 'macvlan']);

    const err = await apiError(custom.getNamespacedCustomObject({ ...nadApi, namespace: 'default', name: 'gone' }));
    expect(JSON.parse(err.body)).toMatchObject({
      message: 'network-attachment-definitions.k8s.cni.cncf.io "gone" not found',
      details: { group: 'k8s.cni.cncf.io' },
    });
  });
});

describe('watch', () => {
  it('an informer with a field selector sees adds, updates and deletes', async () => {
    const { server, kc, core } = await setup();
    server.addPod(pod('before'));
    const informer = makeInformer<V1Pod>(kc, '/api/v1/pods?fieldSelector=spec.nodeName=node1', () =>
      core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node1' }),
    );
    cleanups.push(() => informer.stop());
    const seen: string[] = [];
    for (const verb of ['add', 'update', 'delete'] as const) {
      informer.on(verb, (obj) => seen.push(`${verb}:${obj.metadata?.name ?? ''}`));
    }
    await informer.start();
    await vi.waitFor(() => expect(seen).toEqual(['add:before']));

    server.addPod(pod('elsewhere', 'node2'));
    server.addPod(pod('p1'));
    server.updatePod({ ...pod('p1'), metadata: { name: 'p1', namespace: 'default', labels: { v: '2' } } });
    server.updatePod(pod('before', 'node2'));
    server.deletePod('default', 'p1');
    await vi.waitFor(() => expect(seen).toEqual(['add:before', 'add:p1', 'update:p1', 'delete:before', 'delete:p1']));
    expect(informer.list()).toEqual([]);
  });

  it('sends synthetic ADDED for resourceVersion 0 and only later events for a given resourceVersion', async () => {
    const { server } = await setup();
    server.addPod(pod('a'));
    const rv = server.resourceVersion;
    server.addPod(pod('b'));
    const base = '/api/v1/namespaces/default/pods?watch=1';
    expect(summary(await readWatch(server, `${base}&resourceVersion=0`, 2))).toEqual(['ADDED:a', 'ADDED:b']);

    const fromRv = readWatch(server, `${base}&resourceVersion=${rv}`, 3);
    server.deletePod('default', 'a');
    server.addPod(pod('c', 'node1', 'other'));
    server.updatePod(pod('b', 'node3'));
    expect(summary(await fromRv)).toEqual(['ADDED:b', 'DELETED:a', 'MODIFIED:b']);
  });

  it('ends at timeoutSeconds with a bookmark, and expires compacted resourceVersions with 410', async () => {
    const { server } = await setup();
    server.addNad('ns1', 'n1', {});
    const old = server.resourceVersion;
    server.addNad('ns2', 'n2', {});
    const started = Date.now();
    const events = await readWatch(server, '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions?watch=true&timeoutSeconds=1&allowWatchBookmarks=true');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'BOOKMARK']);
    expect(events[2]?.object.metadata.resourceVersion).toBe(server.resourceVersion);

    server.compactHistory();
    const expired = await readWatch(server, `/api/v1/pods?watch=true&resourceVersion=${old}`);
    expect(expired).toEqual([{ type: 'ERROR', object: expect.objectContaining({ code: 410, reason: 'Expired' }) }]);
  });
});

describe('request log and faults', () => {
  it('counts requests by method and path prefix, and resets', async () => {
    const { server, core } = await setup();
    server.addPod(pod('p1'));
    await core.readNamespacedPod({ name: 'p1', namespace: 'default' });
    await core.readNamespacedPod({ name: 'p1', namespace: 'default' });
    await apiError(core.readNamespacedPod({ name: 'p2', namespace: 'default' }));
    expect(server.count({ method: 'GET', pathPrefix: '/api/v1/namespaces/default/pods/' })).toBe(3);
    expect(server.count({ status: 404 })).toBe(1);
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/default/pods/p1', status: 200 });
    server.reset();
    expect(server.count()).toBe(0);
  });

  it('injects a 500 a limited number of times', async () => {
    const { server, core } = await setup();
    server.addPod(pod('p1'));
    server.fault({ method: 'GET', pathRegex: /\/pods\/p1$/, status: 500, times: 1 });
    const err = await apiError(core.readNamespacedPod({ name: 'p1', namespace: 'default' }));
    expect(err.code).toBe(500);
    expect(JSON.parse(err.body)).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
    await expect(core.readNamespacedPod({ name: 'p1', namespace: 'default' })).resolves.toBeTruthy();
    expect(server.count({ status: 500 })).toBe(1);
  });

  it('delays responses past a client timeout and destroys sockets', async () => {
    const { server, core } = await setup();
    server.addPod(pod('p1'));
    server.fault({ delayMs: 2000, times: 1 });
    const started = Date.now();
    await expect(core.readNamespacedPod({ name: 'p1', namespace: 'default' }, timeoutOptions(150))).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(Date.now() - started).toBeLessThan(1500);

    server.fault({ destroySocket: true });
    await expect(core.readNamespacedPod({ name: 'p1', namespace: 'default' })).rejects.toMatchObject({ name: 'FetchError' });
    server.clearFaults();
    await expect(core.readNamespacedPod({ name: 'p1', namespace: 'default' })).resolves.toBeTruthy();
  });

  it('stop() drops watches and refuses connections; start() serves again on the same port', async () => {
    const { server, kc, core } = await setup();
    server.addPod(pod('p1'));
    const informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
    cleanups.push(() => informer.stop());
    const errors: unknown[] = [];
    informer.on('error', (err) => errors.push(err));
    await informer.start();

    const port = server.port;
    await server.stop();
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0));
    await expect(core.readNamespacedPod({ name: 'p1', namespace: 'default' })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    await server.start();
    expect(server.port).toBe(port);
    const got = await core.readNamespacedPod({ name: 'p1', namespace: 'default' });
    expect(got.metadata?.name).toBe('p1');
  });

  it('requires the bearer token when one is configured', async () => {
    const good = await setup({ token: 's3cret' });
    good.server.addPod(pod('p1'));
    await expect(good.core.readNamespacedPod({ name: 'p1', namespace: 'default' })).resolves.toBeTruthy();

    const bad = new KubeConfig();
    bad.loadFromFile(good.server.writeKubeconfig(join(dir, 'bad-token.yaml'), { token: 'wrong' }));
    const err = await apiError(bad.makeApiClient(CoreV1Api).readNamespacedPod({ name: 'p1', namespace: 'default' }));
    expect(err.code).toBe(401);
    const wrong = await raw(good.server, '/api/v1/pods', { token: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });
});

describe('patch helpers', () => {
  it('mergePatch follows RFC 7386', () => {
    expect(mergePatch({ a: 'b', c: { d: 'e', f: 'g' } }, { a: 'z', c: { f: null } })).toEqual({ a: 'z', c: { d: 'e' } });
    expect(mergePatch({ a: [1, 2] }, { a: [3] })).toEqual({ a: [3] });
    expect(mergePatch({ a: 1 }, { $patch: 'x', b: 2 }, true)).toEqual({ a: 1, b: 2 });
  });

  it('jsonPatch follows RFC 6902', () => {
    const doc = { a: { 'b/c': 1 }, list: [1, 2] };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/list/-', value: 3 },
        { op: 'remove', path: '/list/0' },
        { op: 'move', from: '/a/b~1c', path: '/moved' },
        { op: 'copy', from: '/moved', path: '/copied' },
      ]),
    ).toEqual({ a: {}, list: [2, 3], moved: 1, copied: 1 });
    expect(doc).toEqual({ a: { 'b/c': 1 }, list: [1, 2] });
    expect(() => jsonPatch(doc, [{ op: 'replace', path: '/missing', value: 1 }])).toThrow(/missing/);
  });
});

describe('standalone CLI', () => {
  it('serves the state file, writes a kubeconfig, obeys /__fake/ control and exits on SIGTERM', async () => {
    const bundle = join(dir, 'fake-k8s-api.mjs');
    await build({
      entryPoints: [join(dirname(fileURLToPath(import.meta.url)), 'main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: bundle,
      logLevel: 'silent',
    });
    const state = join(dir, 'state.json');
    const kubeconfig = join(dir, 'cli-kubeconfig.yaml');
    writeFileSync(state, JSON.stringify({ pods: [pod('p1')], nads: [{ namespace: 'default', name: 'n1', config: { type: 'bridge' } }] }));
    const child = spawn(process.execPath, [bundle, '--port', '0', '--token', 't0k', '--state', state, '--kubeconfig', kubeconfig], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    const { url, ca } = JSON.parse(await firstLine(child)) as { url: string; port: number; ca: string };
    expect(url).toMatch(/^https:/);

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    expect((await core.readNamespacedPod({ name: 'p1', namespace: 'default' })).spec?.nodeName).toBe('node1');

    const control = new FakeApiControl(url, ca);
    await control.addPods(pod('p2'));
    await control.fault({ pathRegex: '/pods/p2$', status: 503, times: 1 });
    expect((await apiError(core.readNamespacedPod({ name: 'p2', namespace: 'default' }))).code).toBe(503);
    expect((await core.readNamespacedPod({ name: 'p2', namespace: 'default' })).metadata?.name).toBe('p2');
    expect(await control.count({ method: 'GET', pathPrefix: '/api/v1/namespaces/default/pods/' })).toBe(3);
    expect((await control.requests()).every((r) => !r.path.startsWith('/__fake'))).toBe(true);
    expect((await control.getPod('default', 'p2'))?.metadata.uid).toBeTruthy();
    await control.reset();
    expect(await control.count()).toBe(0);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface(child.stdout!);
    lines.once('line', (line) => {
      lines.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`CLI exited early with ${String(code)}`)));
  });
}
