// The stand-in checked by a real client: the machine's kubectl gets, lists in chunks, watches and
// patches through it over TLS, with a CA + token kubeconfig and with a client certificate, and
// prints kube-apiserver's 401 and 403 the way it prints them for a real cluster.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer, type KubeObject } from './server.js';

const KUBECTL = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!KUBECTL) console.warn('kubectl.test.ts skipped: no kubectl on PATH (it is not in Debian; install it to run these checks)');

let dir: string;
let api: FakeApiServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'braid-kubectl-'));
  api = await startFakeApiServer();
});
afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

const pod = (name: string, namespace = 'default'): KubeObject => ({ metadata: { name, namespace }, spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'busybox' }] } });

/** kubectl with its own HOME and cache, so nothing of the machine's ~/.kube is read or written. */
function kubectl(kubeconfig: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), '--request-timeout', '20s', ...args], { env: { PATH: process.env.PATH, HOME: dir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe.skipIf(!KUBECTL)('kubectl against the stand-in', () => {
  const forms = [
    ['CA + token', () => api.writeKubeconfig(join(dir, 'token.yaml'))],
    ['client certificate (files)', () => api.writeKubeconfig(join(dir, 'cert.yaml'), { clientCert: { user: 'system:node:node1', groups: ['system:nodes'] }, filesDir: join(dir, 'pki') })],
  ] as const;

  it.each(forms)('%s: get, chunked list, patch of pod status', async (_form, write) => {
    const kc = write();
    api.loadState({ pods: ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n, 'kt')) });
    const got = await kubectl(kc, ['get', 'pod', 'a', '-n', 'kt', '-o', 'json']);
    expect(got.stderr).toBe('');
    expect(JSON.parse(got.stdout)).toMatchObject({ kind: 'Pod', metadata: { name: 'a', namespace: 'kt' } });

    api.reset();
    const list = await kubectl(kc, ['get', 'pods', '-n', 'kt', '--chunk-size=2', '-o', 'name']);
    expect(list.stdout.trim().split('\n')).toEqual(['pod/a', 'pod/b', 'pod/c', 'pod/d', 'pod/e']);
    const pages = api.requests.filter((r) => r.path === '/api/v1/namespaces/kt/pods');
    expect(pages.map((r) => [r.query.limit, !!r.query.continue])).toEqual([
      ['2', false],
      ['2', true],
      ['2', true],
    ]);

    const patched = await kubectl(kc, ['patch', 'pod', 'b', '-n', 'kt', '--subresource=status', '--type=merge', '-p', '{"metadata":{"annotations":{"k8s.v1.cni.cncf.io/network-status":"[]"}}}']);
    expect(patched.stdout.trim()).toBe('pod/b patched');
    expect(api.getPod('kt', 'b')?.metadata.annotations).toEqual({ 'k8s.v1.cni.cncf.io/network-status': '[]' });
    expect(api.requests.at(-1)).toMatchObject({ method: 'PATCH', path: '/api/v1/namespaces/kt/pods/b/status', contentType: 'application/merge-patch+json', status: 200 });
    expect(api.requests.at(-1)?.user).toBe(_form === 'CA + token' ? 'system:serviceaccount:kube-system:braid' : 'system:node:node1');
  });

  it('watch: sees the current pods, then a pod created while it waits', async () => {
    const kc = api.writeKubeconfig(join(dir, 'watch.yaml'));
    api.loadState({ pods: [pod('w1', 'kw')] });
    api.reset();
    const child = spawn('kubectl', ['--kubeconfig', kc, '--cache-dir', join(dir, 'cache'), 'get', 'pods', '-n', 'kw', '--watch', '-o', 'name', '--request-timeout', '30s'], { env: { PATH: process.env.PATH, HOME: dir } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      await expect.poll(() => api.count({ path: '/api/v1/namespaces/kw/pods', query: { watch: 'true' } }), { timeout: 15_000 }).toBe(1);
      api.addPod(pod('w2', 'kw'));
      await expect.poll(() => out, { timeout: 15_000 }).toContain('pod/w2');
      expect(out.trim().split('\n')).toEqual(['pod/w1', 'pod/w2']);
    } finally {
      child.kill();
    }
  });

  it('prints the 401 and 403 as it does for kube-apiserver', async () => {
    api.loadState({ pods: [pod('p', 'ke')] });
    const bad = await kubectl(api.writeKubeconfig(join(dir, 'bad.yaml'), { token: 'not-a-token' }), ['get', 'pod', 'p', '-n', 'ke']);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('error: You must be logged in to the server (Unauthorized)');

    api.setAuthorizer((a) => a.verb !== 'get');
    try {
      const denied = await kubectl(api.writeKubeconfig(join(dir, 'ok.yaml')), ['get', 'pod', 'p', '-n', 'ke']);
      expect(denied.status).toBe(1);
      expect(denied.stderr.trim()).toBe(
        'Error from server (Forbidden): pods "p" is forbidden: User "system:serviceaccount:kube-system:braid" cannot get resource "pods" in API group "" in the namespace "ke"',
      );
    } finally {
      api.setAuthorizer(undefined);
    }
  });

  it("finds NADs by Multus's short names, nad and net-attach-def", async () => {
    const kc = api.writeKubeconfig(join(dir, 'nad.yaml'));
    api.reset();
    api.addNad('kn', 'macvlan-conf', { cniVersion: '0.3.1', type: 'macvlan', master: 'eth1', ipam: { type: 'static' } });
    for (const name of ['nad', 'net-attach-def', 'network-attachment-definitions']) {
      const got = await kubectl(kc, ['get', name, '-n', 'kn', '-o', 'name']);
      expect(got.stderr, name).toBe('');
      expect(got.stdout.trim(), name).toBe('networkattachmentdefinition.k8s.cni.cncf.io/macvlan-conf');
    }
  });
});
