// Credentials as real nodes hold them, through the built dist/braid against the HTTPS test API
// server: every kubeconfig form (token, tokenFile, client certificate and key as data or files,
// CA as data or file, insecure-skip-tls-verify) and in-cluster credentials (KUBERNETES_SERVICE_*
// and a ServiceAccount directory), in one-shot ADDs and in the daemon's informers; plain http://
// refused alike by both; and a daemon that follows a rotated token (a tokenFile rewritten, or its
// kubeconfig rewritten as braid install --watch does) with no restart, no 401 and no lost write.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { callBraid, k8sArgs } from '../helpers/braid-runner.js';
import { BRAID_SA, startFakeApiServer, type KubeconfigOptions } from '../k8s-api/server.js';
import { DaemonProcess, SHIM_C, callShim, killAllDaemons, shimEntry, waitFor } from '../daemon/daemon-harness.js';

const STATUS = 'k8s.v1.cni.cncf.io/network-status';
const t = useApiWorld();
let ns: string;
beforeEach(() => {
  ns = t.world.name('cred');
});
afterEach(() => killAllDaemons());

/** braid's config with a loopback-only cluster network, and the kubeconfig (or none) given. */
function braidConfig(kubeconfig: string | undefined): Record<string, unknown> {
  const cluster = t.world.dir('10-lo.conflist');
  writeFileSync(cluster, JSON.stringify({ cniVersion: '1.0.0', name: t.world.name('lo'), plugins: [{ type: 'loopback' }] }));
  return { cniVersion: '1.0.0', name: 'braid', type: 'braid', ...(kubeconfig ? { kubeconfig } : {}), clusterNetwork: cluster, cniDir: t.world.dir('braid') };
}

/** A ServiceAccount directory as the kubelet projects it, and the environment of a pod. */
function serviceAccount(token = t.api.token): { env: Record<string, string>; dir: string } {
  const dir = t.world.dir('serviceaccount');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'token'), token);
  writeFileSync(join(dir, 'ca.crt'), t.api.ca!);
  return { dir, env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(t.api.port), BRAID_SA_DIR: dir } };
}

/** Writes `content` the way kubelet and braid install do: a new file renamed over the old. */
function replaceFile(path: string, content: string): void {
  writeFileSync(`${path}.new`, content, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

const forms: Array<[string, () => KubeconfigOptions, string]> = [
  ['token, CA data', () => ({}), BRAID_SA.name],
  ['token, CA file', () => ({ filesDir: t.world.dir('pki') }), BRAID_SA.name],
  ['tokenFile', () => ({ tokenFile: t.world.dir('token') }), BRAID_SA.name],
  ['client certificate and key data', () => ({ clientCert: { user: 'system:node:node1', groups: ['system:nodes'] } }), 'system:node:node1'],
  ['client certificate and key files, YAML', () => ({ clientCert: 'system:node:node2', filesDir: t.world.dir('pki') }), 'system:node:node2'],
  ['insecure-skip-tls-verify', () => ({ insecure: true }), BRAID_SA.name],
];

describe('one-shot ADD', () => {
  it.each(forms)('%s: GET pod and PATCH status go through as the right user', async (_form, opts, user) => {
    const o = opts();
    const kubeconfig = t.api.writeKubeconfig(t.world.dir('kubeconfig'), { format: o.clientCert && o.filesDir ? 'yaml' : 'json', ...o });
    t.api.addPod({ metadata: { name: 'p', namespace: ns }, spec: { nodeName: 'node1' } });
    const netns = t.world.netns();
    const r = await callBraid({ command: 'ADD', containerId: `c${t.world.tag}`, netns: netns.path, ifname: 'lo', args: k8sArgs(ns, 'p'), config: braidConfig(kubeconfig) });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(t.api.requests.map((q) => [q.method, q.status, q.user])).toEqual([
      ['GET', 200, user],
      ['PATCH', 200, user],
    ]);
    expect(t.api.getPod(ns, 'p')?.metadata.annotations?.[STATUS]).toBeTruthy();
  });

  it('in-cluster: KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount token and CA, with no kubeconfig', async () => {
    const sa = serviceAccount();
    t.api.addPod({ metadata: { name: 'p', namespace: ns }, spec: { nodeName: 'node1' } });
    const netns = t.world.netns();
    const r = await callBraid({ command: 'ADD', containerId: `c${t.world.tag}`, netns: netns.path, ifname: 'lo', args: k8sArgs(ns, 'p'), config: braidConfig(undefined), env: sa.env });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(t.api.requests.map((q) => [q.method, q.status, q.user])).toEqual([
      ['GET', 200, BRAID_SA.name],
      ['PATCH', 200, BRAID_SA.name],
    ]);
  });

  it('a wrong token is the API server 401 in the error, code 7; a wrong CA fails the TLS handshake', async () => {
    const netns = t.world.netns();
    const call = { command: 'ADD' as const, containerId: `c${t.world.tag}`, netns: netns.path, ifname: 'lo', args: k8sArgs(ns, 'p') };
    const bad = await callBraid({ ...call, config: braidConfig(t.api.writeKubeconfig(t.world.dir('bad.json'), { format: 'json', token: 'revoked' })) });
    expect(bad.json).toMatchObject({ code: 7 });
    expect(bad.json.msg).toContain('answered 401: Unauthorized');
    const other = await startFakeApiServer({ pki: (await import('../k8s-api/pki.js')).createPki('other-ca') });
    try {
      const foreign = JSON.parse(t.api.kubeconfigYaml({ format: 'json' }));
      foreign.clusters[0].cluster.server = other.url;
      writeFileSync(t.world.dir('foreign.json'), JSON.stringify(foreign));
      const r = await callBraid({ ...call, config: braidConfig(t.world.dir('foreign.json')) });
      expect(r.json).toMatchObject({ code: 11 });
      expect(r.json.msg).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      expect(other.count()).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe('plain http://', () => {
  it('one-shot and daemon both refuse it without insecure-skip-tls-verify, saying why; with the flag both use it', async () => {
    const plain = await startFakeApiServer({ tls: false });
    try {
      const kc = JSON.parse(plain.kubeconfigYaml({ format: 'json' }));
      delete kc.clusters[0].cluster['insecure-skip-tls-verify'];
      const kubeconfig = t.world.dir('plain.json');
      writeFileSync(kubeconfig, JSON.stringify(kc));
      const netns = t.world.netns();
      const r = await callBraid({ command: 'ADD', containerId: `c${t.world.tag}`, netns: netns.path, ifname: 'lo', args: k8sArgs(ns, 'p'), config: braidConfig(kubeconfig) });
      expect(r.json).toMatchObject({ code: 7 });
      expect(r.json.msg).toContain(`server ${plain.url}/ is plain HTTP`);
      expect(plain.count()).toBe(0);

      const configFile = t.world.dir('daemon.json');
      writeFileSync(configFile, JSON.stringify({ ...braidConfig(kubeconfig), logToStderr: true }));
      const d = await DaemonProcess.start({ config: configFile, socket: t.world.dir('d.sock'), wait: 'none' });
      expect(await d.exited).toBe(1);
      expect(d.stderr).toContain('is plain HTTP');
      expect(d.stderr).toMatch(/"level":60.*is plain HTTP/);

      // The flag opts in, for both.
      plain.addPod({ metadata: { name: 'p', namespace: ns }, spec: { nodeName: 'node1' } });
      const allowed = braidConfig(plain.writeKubeconfig(t.world.dir('plain-ok.json'), { format: 'json' }));
      expect((await callBraid({ command: 'ADD', containerId: `c${t.world.tag}`, netns: netns.path, ifname: 'lo', args: k8sArgs(ns, 'p'), config: allowed })).status).toBe(0);
      writeFileSync(configFile, JSON.stringify(allowed));
      await DaemonProcess.start({ config: configFile, socket: t.world.dir('d2.sock') });
    } finally {
      await plain.close();
    }
  });
});

describe('the daemon', () => {
  /** A daemon whose informers have synced; ADDs through braid-shim. */
  async function daemon(kubeconfig: string | undefined, env: Record<string, string> = {}) {
    const configFile = t.world.dir('daemon.json');
    const config = braidConfig(kubeconfig);
    writeFileSync(configFile, JSON.stringify(config));
    const socket = t.world.dir('d.sock');
    const d = await DaemonProcess.start({ config: configFile, socket, env });
    let n = 0;
    const add = async (name: string) => {
      const pod = t.api.getPod(ns, name) ?? t.api.addPod({ metadata: { name, namespace: ns }, spec: { nodeName: 'node1' } });
      const netns = t.world.netns(`p${n++}`);
      const call = { containerId: `${t.world.tag}${name}`, netns: netns.path, ifname: 'lo', args: k8sArgs(ns, name, pod.metadata.uid) };
      t.world.onCleanup(() => callBraid({ ...call, command: 'DEL', config }));
      return callShim(SHIM_C, { ...call, command: 'ADD', config: shimEntry(socket) });
    };
    return { d, add };
  }

  /** The pod's network-status has landed (the daemon PATCHes after it answered the ADD). */
  const written = (name: string) => waitFor(`network-status of ${name}`, () => t.api.getPod(ns, name)?.metadata.annotations?.[STATUS]);

  it.each([
    ['tokenFile', () => ({ tokenFile: t.world.dir('token') }), undefined],
    ['client certificate files', () => ({ clientCert: 'system:node:node1', filesDir: t.world.dir('pki') }), 'system:node:node1'],
  ] as const)('informers list and watch with %s', async (_form, opts, user) => {
    const { d, add } = await daemon(t.api.writeKubeconfig(t.world.dir('kubeconfig'), opts()));
    expect((await add('p1')).status).toBe(0);
    await written('p1');
    const watches = t.api.requests.filter((q) => q.query.watch === 'true');
    expect(watches.length).toBeGreaterThanOrEqual(2);
    expect(new Set(t.api.requests.map((q) => q.user))).toEqual(new Set([user ?? BRAID_SA.name]));
    expect(t.api.count({ status: 401 }) + t.api.count({ status: 403 })).toBe(0);
    expect(d.alive).toBe(true);
  });

  it('in-cluster credentials when its config has no kubeconfig', async () => {
    const sa = serviceAccount();
    const { add } = await daemon(undefined, sa.env);
    expect((await add('p1')).status).toBe(0);
    await written('p1');
    expect(t.api.count({ method: 'GET', query: { watch: 'true' } })).toBeGreaterThanOrEqual(2);
    expect(new Set(t.api.requests.map((q) => q.user))).toEqual(new Set([BRAID_SA.name]));
  });

  // A projected token is valid from when the kubelet writes it until it expires: the server
  // accepts both for a while, then only the new one. Here the old one is revoked at once and
  // every watch is cut, so each informer has to re-authenticate with what is on disk now.
  const rotations = [
    ['a rotated tokenFile', (next: string) => replaceFile(t.world.dir('token'), next), () => t.api.writeKubeconfig(t.world.dir('kubeconfig'), { tokenFile: t.world.dir('token') }), undefined],
    ['a rewritten kubeconfig (braid install --watch)', (next: string) => replaceFile(t.world.dir('kubeconfig.json'), t.api.kubeconfigYaml({ format: 'json', token: next })), () => t.api.writeKubeconfig(t.world.dir('kubeconfig.json'), { format: 'json' }), undefined],
    ['a rotated in-cluster ServiceAccount token', (next: string) => replaceFile(join(t.world.dir('serviceaccount'), 'token'), next), () => undefined, () => serviceAccount().env],
  ] as const;

  it.each(rotations)('follows %s without a restart: no 401, informers and PATCHes carry on', async (_what, rotate, kubeconfig, env) => {
    const { d, add } = await daemon(kubeconfig(), env?.() ?? {});
    const pid = d.pid;
    expect((await add('before')).status).toBe(0);
    await written('before');

    const old = t.api.token;
    const next = `rotated-${t.world.tag}`;
    t.api.addToken(next);
    rotate(next);
    t.api.revokeToken(old);
    const rotatedAt = t.api.requests.length;
    t.api.closeWatches();

    // The re-watches authenticate with the new token, and the caches stay live: a pod created now
    // reaches the daemon through its watch, and its ADD needs no GET.
    await waitFor('both informers watching again', () => t.api.requests.slice(rotatedAt).filter((q) => q.query.watch === 'true' && q.status === 200).length >= 2 || undefined);
    const gets = () => t.api.count((q) => q.method === 'GET' && q.query.watch !== 'true' && q.path.includes('/namespaces/'));
    const getsBefore = gets();
    t.api.addPod({ metadata: { name: 'after', namespace: ns }, spec: { nodeName: 'node1' } });
    await waitFor('the new pod in the cache', async () => ((await d.metric('braid_informer_objects', { resource: 'pods' })) ?? 0) >= 2 || undefined);
    expect((await add('after')).status).toBe(0);
    await written('after');
    expect(gets()).toBe(getsBefore);

    expect(t.api.count({ status: 401 })).toBe(0);
    expect(d.pid).toBe(pid);
    expect(d.alive).toBe(true);
    const after = t.api.requests.slice(rotatedAt);
    expect(after.some((q) => q.method === 'PATCH' && q.status === 200)).toBe(true);
  });

  it('a rewritten kubeconfig that does not load: error in the log, the previous credentials stay', async () => {
    const kubeconfig = t.api.writeKubeconfig(t.world.dir('kubeconfig.json'), { format: 'json' });
    const configFile = t.world.dir('daemon.json');
    writeFileSync(configFile, JSON.stringify({ ...braidConfig(kubeconfig), logToStderr: true }));
    const d = await DaemonProcess.start({ config: configFile, socket: t.world.dir('d.sock') });
    replaceFile(kubeconfig, '{"clusters": [');
    t.api.closeWatches();
    await waitFor('the error', () => /"level":50.*API credentials changed on disk but do not load; still using the previous ones/.test(d.stderr) || undefined);
    await waitFor('watching again', () => t.api.requests.filter((q) => q.query.watch === 'true' && q.status === 200).length >= 4 || undefined);
    expect(t.api.count({ status: 401 })).toBe(0);
    expect(d.alive).toBe(true);
  });
});
