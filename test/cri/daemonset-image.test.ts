// braid's image and its DaemonSet under containerd, run the way kubelet runs them. The image is
// `npm run image`'s archive, imported with ctr; the pod and its containers come from the YAML
// `braid manifests` renders (daemon mode, the default): command, env, host paths and mounts,
// security settings, namespaces. Every host path is mapped into this test's "node" directory
// (the runtime's pod netns dir stands for /run/netns) and mounted at that same mapped path, as
// the DaemonSet mounts host paths at their own paths; the same mapping rewrites the paths in
// the rendered commands and ConfigMap. The API server is the HTTPS stand-in, reached the way a
// pod reaches kube-apiserver (a service account token and CA mounted where kubelet mounts
// them, KUBERNETES_SERVICE_HOST/PORT), and it authorizes exactly what the rendered ClusterRole
// grants the rendered ServiceAccount.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CriClient, sandboxInfo, type PodSandboxConfig } from '../../src/cri/cri-client.js';
import { PrivateContainerd } from '../../src/cri/private-containerd.js';
import { BRAID, assertBuilt } from '../helpers/braid-runner.js';
import { CONTAINERD_SKIP, ipv4In, podAddrs } from '../helpers/containerd.js';
import { CNI_BIN, TestWorld, traces } from '../helpers/netns.js';
import { sh } from '../helpers/sh.js';
import { httpOverSocket, waitFor } from '../daemon/daemon-harness.js';
import type { Authorizer } from '../k8s-api/auth.js';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';

type Obj = Record<string, any>;
const REPO = join(import.meta.dirname, '../..');
const IMAGE_TAR = join(REPO, 'dist/braid-image.tar');
const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const SKIP = CONTAINERD_SKIP ?? ['debootstrap', 'umoci', 'jq', 'skopeo'].map((t) => (have(t) ? undefined : `${t} is not installed (npm run image needs it)`)).find(Boolean);
if (SKIP) console.log(`skipping braid's image under containerd: ${SKIP}`);

const IMAGE_INPUTS = ['dist/braid', 'src/build/image.sh', 'src/shim/braid-shim.c', 'src/spawner/braid-spawner.c'];

/** The image archive, built again unless it was built from exactly these inputs. */
function ensureImage(): void {
  const current = spawnSync('sha256sum', IMAGE_INPUTS, { cwd: REPO, encoding: 'utf8' }).stdout;
  if (existsSync(IMAGE_TAR) && existsSync(`${IMAGE_TAR}.inputs`) && readFileSync(`${IMAGE_TAR}.inputs`, 'utf8') === current) return;
  const r = spawnSync('bash', [join(REPO, 'src/build/image.sh')], { cwd: REPO, encoding: 'utf8', timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`npm run image failed:\n${r.stderr}`);
}

/** An ELF executable with no program interpreter: linked static, runs on any distribution. */
function isStaticElf(file: string): boolean {
  const b = readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const [size, count] = [b.readUInt16LE(0x36), b.readUInt16LE(0x38)];
  for (let i = 0; i < count; i++) if (b.readUInt32LE(phoff + i * size) === 3 /* PT_INTERP */) return false;
  return true;
}

/** kube-apiserver's RBAC for the rendered ClusterRole, bound to the rendered ServiceAccount only. */
function rbacOf(docs: Obj[]): Authorizer {
  const role = docs.find((d) => d.kind === 'ClusterRole')!;
  const binding = docs.find((d) => d.kind === 'ClusterRoleBinding')!;
  expect(binding.roleRef.name).toBe(role.metadata.name);
  const users = new Set(binding.subjects.map((s: Obj) => `system:serviceaccount:${s.namespace}:${s.name}`));
  return (a) =>
    users.has(a.user.name) &&
    role.rules.some(
      (r: Obj) =>
        r.apiGroups.includes(a.apiGroup) && r.resources.includes(a.subresource ? `${a.resource}/${a.subresource}` : a.resource) && r.verbs.includes(a.verb),
    );
}

const SUBNET = (i: number) => `198.19.${196 + i}.0/24`;

describe.skipIf(!!SKIP)("braid's image runs its DaemonSet under containerd", () => {
  let world: TestWorld;
  let ctd: PrivateContainerd;
  let cri: CriClient;
  let ds: Obj;
  let configMap: Obj;
  let api: FakeApiServer;
  let saDir: string;
  let hostRoot: string;
  let hostPaths: string[];
  /** A host path of the DaemonSet -> where it lives on this test's node. */
  let onNode: (p: string) => string;
  /** host-local's reservations, under /var/lib/cni: the daemon's delegates see the same files. */
  let ipamDir: string;
  const sandboxes: string[] = [];

  beforeAll(async () => {
    assertBuilt();
    ensureImage();
    world = new TestWorld();
    hostRoot = world.dir('node');
    const r = spawnSync(BRAID, ['manifests'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
    ds = docs.find((d) => d.kind === 'DaemonSet')!;
    configMap = docs.find((d) => d.kind === 'ConfigMap')!;
    api = await startFakeApiServer({ authorizer: rbacOf(docs) });
    world.onCleanup(() => api.close());
    // What kubelet mounts for the pod's service account.
    saDir = world.dir('serviceaccount');
    mkdirSync(saDir);
    writeFileSync(join(saDir, 'token'), api.token);
    writeFileSync(join(saDir, 'ca.crt'), api.ca!);
    writeFileSync(join(saDir, 'namespace'), ds.metadata.namespace);
    // Longest first, so /etc/cni/braid/net.d is not taken for a file under /etc/cni.
    hostPaths = ds.spec.template.spec.volumes.filter((v: Obj) => v.hostPath).map((v: Obj) => v.hostPath.path).sort((a: string, b: string) => b.length - a.length);
    onNode = (p: string) => {
      const root = hostPaths.find((h) => p === h || p.startsWith(`${h}/`));
      if (!root) return p;
      return (root === '/run/netns' ? ctd.netnsDir : join(hostRoot, root)) + p.slice(root.length);
    };
    const args = (c: Obj) => c.command as string[];
    const install = ds.spec.template.spec.containers.find((c: Obj) => c.name === 'install');
    const flag = (name: string) => args(install)[args(install).indexOf(name) + 1]!;
    // The runtime's CNI dirs are the ones the DaemonSet installs into.
    ctd = new PrivateContainerd({ dir: world.dir('ctd'), cniConfDir: onNode(flag('--cni-conf-dir')), cniBinDir: onNode(flag('--cni-bin-dir')) });
    cri = new CriClient(ctd.socket);
    world.onCleanup(async () => {
      for (const id of sandboxes.reverse()) {
        await cri.stopPodSandbox(id).catch(() => undefined);
        await cri.removePodSandbox(id).catch(() => undefined);
      }
      cri.close();
      await ctd.destroy();
    });

    // The node before braid: plugin binaries (copies: the daemon runs them in its container,
    // where a link to the host's /usr/lib/cni would dangle) and a default network.
    for (const p of ['bridge', 'host-local', 'loopback']) copyFileSync(join(CNI_BIN, p), join(ctd.cniBinDir, p));
    ipamDir = onNode('/var/lib/cni/networks');
    writeFileSync(
      join(ctd.cniConfDir, '10-cluster.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: world.name('cl'),
        plugins: [{ type: 'bridge', bridge: world.name('c0'), isGateway: true, ipam: { type: 'host-local', dataDir: ipamDir, ranges: [[{ subnet: SUBNET(0) }]], routes: [{ dst: '0.0.0.0/0' }] } }],
      }),
    );
    // A real node's /run/netns sits on a shared mount (systemd's default), which
    // HostToContainer propagation requires; this test's stand-in is made one.
    mkdirSync(ctd.netnsDir, { recursive: true });
    sh('mount', ['--bind', ctd.netnsDir, ctd.netnsDir]);
    sh('mount', ['--make-shared', ctd.netnsDir]);
    await ctd.start();
    ctd.importPauseImage();
    ctd.ctr(['images', 'import', '--snapshotter', 'overlayfs', IMAGE_TAR]);
  }, 25 * 60_000);

  afterAll(async () => {
    await world?.cleanup();
  }, 120_000);

  /** Kubelet's view of the DaemonSet pod: one sandbox config shared by its containers. */
  function dsSandboxConfig(): PodSandboxConfig {
    const pod = ds.spec.template.spec;
    const privileged = pod.containers.some((c: Obj) => c.securityContext?.privileged);
    return {
      metadata: { name: `${ds.metadata.name}-${world.tag}`, namespace: ds.metadata.namespace, uid: `${world.tag}-ds`, attempt: 0 },
      // Kubelet sets no hostname for a host-network pod: it has the node's UTS namespace.
      ...(pod.hostNetwork ? {} : { hostname: 'node1' }),
      log_directory: world.dir('logs/ds'),
      labels: { ...ds.spec.template.metadata.labels, 'braid.test/tag': world.tag },
      linux: {
        security_context: {
          namespace_options: { network: pod.hostNetwork ? 'NODE' : 'POD', pid: pod.hostPID ? 'NODE' : 'POD', ipc: 'POD' },
          privileged,
        },
      },
    };
  }

  /** Kubelet's CreateContainer for one container of the rendered pod spec. */
  function containerConfig(c: Obj, sandbox: PodSandboxConfig): Obj {
    const pod = ds.spec.template.spec;
    const volumes = new Map<string, Obj>(pod.volumes.map((v: Obj) => [v.name, v]));
    const mounts = c.volumeMounts.map((m: Obj) => {
      const v = volumes.get(m.name)!;
      let host: string;
      if (v.hostPath) {
        host = onNode(v.hostPath.path);
        // DirectoryOrCreate / FileOrCreate, as kubelet does before it starts the pod.
        if (v.hostPath.type === 'FileOrCreate') {
          mkdirSync(dirname(host), { recursive: true });
          if (!existsSync(host)) writeFileSync(host, '');
        } else mkdirSync(host, { recursive: true });
      } else if (v.configMap) {
        expect(v.configMap.name).toBe(configMap.metadata.name);
        // Kubelet projects the ConfigMap's keys as files; paths in it are host paths, mapped too.
        const dir = world.dir(`configmap/${v.name}`);
        mkdirSync(dir, { recursive: true });
        for (const [key, text] of Object.entries<string>(configMap.data)) {
          const mapped = JSON.stringify(JSON.parse(text), (_k, val) => (typeof val === 'string' && val.startsWith('/') ? onNode(val) : val), 2);
          writeFileSync(join(dir, key), mapped);
        }
        host = m.subPath ? join(dir, m.subPath) : dir;
      } else throw new Error(`volume ${m.name}: only hostPath and configMap volumes are mapped here`);
      const propagation = m.mountPropagation === 'HostToContainer' ? 'PROPAGATION_HOST_TO_CONTAINER' : 'PROPAGATION_PRIVATE';
      // Host paths are mounted at their own (mapped) path; other volumes where the spec says.
      return { host_path: host, container_path: v.hostPath ? onNode(m.mountPath) : m.mountPath, readonly: m.readOnly === true, propagation };
    });
    const env = (c.env ?? []).map((e: Obj) => {
      if (e.value !== undefined) return { key: e.name, value: e.value };
      // Kubelet resolves the downward API; the only field the DaemonSet uses is the node name.
      expect(e.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
      return { key: e.name, value: 'node1' };
    });
    // What kubelet adds to every container: the API server's address and the service account.
    env.push({ key: 'KUBERNETES_SERVICE_HOST', value: '127.0.0.1' }, { key: 'KUBERNETES_SERVICE_PORT', value: String(api.port) });
    if (pod.automountServiceAccountToken !== false) {
      mounts.push({ host_path: saDir, container_path: '/var/run/secrets/kubernetes.io/serviceaccount', readonly: true, propagation: 'PROPAGATION_PRIVATE' });
    }
    const sc = c.securityContext ?? {};
    mkdirSync(world.dir(`logs/ds`), { recursive: true });
    return {
      metadata: { name: c.name, attempt: 0 },
      image: { image: c.image },
      command: (c.command as string[]).map(onNode),
      args: c.args ?? [],
      envs: env,
      mounts,
      log_path: `${c.name}.log`,
      labels: { 'braid.test/tag': world.tag },
      linux: {
        security_context: {
          privileged: sc.privileged === true,
          readonly_rootfs: sc.readOnlyRootFilesystem === true,
          no_new_privs: sc.allowPrivilegeEscalation === false,
          ...(sc.runAsUser !== undefined ? { run_as_user: { value: sc.runAsUser } } : {}),
          namespace_options: sandbox.linux!.security_context && (sandbox.linux!.security_context as Obj).namespace_options,
        },
      },
    };
  }

  const containerLog = (name: string) => {
    try {
      return readFileSync(world.dir(`logs/ds/${name}.log`), 'utf8');
    } catch {
      return '(no log)';
    }
  };

  async function runWorkload(name: string, annotations: Record<string, string> = {}, uid = `${world.tag}-${name}`) {
    const config: PodSandboxConfig = {
      metadata: { name, namespace: world.name('ns'), uid, attempt: 0 },
      hostname: name,
      log_directory: world.dir(`logs/${name}`),
      labels: { 'braid.test/tag': world.tag },
      annotations,
      linux: {},
    };
    const id = await cri.runPodSandbox(config);
    sandboxes.push(id);
    const netns = sandboxInfo(await cri.podSandboxStatus(id, true)).netnsPath!;
    return { id, netns };
  }

  async function removeWorkload(id: string) {
    await cri.stopPodSandbox(id);
    await cri.removePodSandbox(id);
    sandboxes.splice(sandboxes.indexOf(id), 1);
  }

  it('installs braid-shim from the image, serves a pod its NADs through the daemon, and hands the node back when stopped', async () => {
    const pod = ds.spec.template.spec;
    expect(pod.containers.map((c: Obj) => c.name)).toEqual(['install', 'daemon']);
    const images = await cri.listImages();
    expect(images.flatMap((i) => i.repo_tags)).toContain(pod.containers[0].image);

    const sandboxConfig = dsSandboxConfig();
    const dsPod = await cri.runPodSandbox(sandboxConfig);
    sandboxes.push(dsPod);
    const start = async (c: Obj) => {
      const id = (await cri.call<{ container_id: string }>('CreateContainer', { pod_sandbox_id: dsPod, config: containerConfig(c, sandboxConfig), sandbox_config: sandboxConfig })).container_id;
      await cri.call('StartContainer', { container_id: id });
      return id;
    };
    const [installSpec, daemonSpec] = pod.containers;
    const confDir = ctd.cniConfDir;
    const entryFile = join(confDir, '00-braid.conflist');

    // The installer: braid-shim onto the node, its entry in front of the default network.
    const install = await start(installSpec);
    await waitFor('the installer to write the entry', () => existsSync(entryFile) || undefined, 60_000).catch((e) => {
      throw new Error(`${(e as Error).message}\ninstall log:\n${containerLog('install')}`);
    });
    const entry = JSON.parse(readFileSync(entryFile, 'utf8'));
    const socket = onNode('/run/braid/braid.sock');
    expect(entry.plugins).toEqual([expect.objectContaining({ type: 'braid-shim', daemonSocket: socket })]);
    expect(entry.cniVersion).toBe('1.0.0');
    // Only the shim lands on the node (no Node.js needed there), a static binary from the image.
    expect(readdirSync(ctd.cniBinDir).sort()).toEqual(['braid-shim', 'bridge', 'host-local', 'loopback']);
    expect(isStaticElf(join(ctd.cniBinDir, 'braid-shim'))).toBe(true);
    expect(isStaticElf(join(CNI_BIN, 'bridge'))).toBe(false); // the check can tell

    // The daemon: serves the socket the entry names.
    const daemon = await start(daemonSpec);
    await waitFor('the daemon to serve its socket', async () => (existsSync(socket) && (await httpOverSocket(socket, '/healthz')).status === 200) || undefined, 60_000).catch((e) => {
      throw new Error(`${(e as Error).message}\ndaemon log:\n${containerLog('daemon')}`);
    });
    // The installer built the kubeconfig from the service account; the daemon's informers
    // list and watch with it, within the rendered ClusterRole.
    const kubeconfig = readFileSync(onNode('/etc/cni/net.d/braid.d/braid.kubeconfig'), 'utf8');
    expect(kubeconfig).toContain(`https://127.0.0.1:${api.port}`);
    await waitFor('the daemon to be ready', async () => (await httpOverSocket(socket, '/readyz')).status === 200 || undefined, 60_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}: ${(await httpOverSocket(socket, '/readyz')).body}\ndaemon log:\n${containerLog('daemon')}`);
    });

    // A pod's networks through the shim: the cluster network, and a NAD its annotation selects.
    const ns = world.name('ns');
    const nad = `${world.tag}-side`;
    api.addNad(ns, nad, { cniVersion: '1.0.0', plugins: [{ type: 'bridge', bridge: world.name('s0'), ipam: { type: 'host-local', dataDir: ipamDir, ranges: [[{ subnet: SUBNET(1) }]] } }] });
    const annotations = { 'k8s.v1.cni.cncf.io/networks': nad };
    const apiPod = api.addPod({ metadata: { name: 'web', namespace: ns, annotations }, spec: { nodeName: 'node1' } });
    const web = await runWorkload('web', annotations, apiPod.metadata.uid!);
    expect(podAddrs(web.netns).map((a) => a.ifname).sort()).toEqual(['eth0', 'lo', 'net1']);
    expect(ipv4In(web.netns, 'eth0')).toEqual([`198.19.196.2/24`]);
    expect(ipv4In(web.netns, 'net1')).toEqual([`198.19.197.2/24`]);
    const status = await waitFor('network-status on the pod', () => {
      const v = api.getPod(ns, 'web')?.metadata.annotations?.['k8s.v1.cni.cncf.io/network-status'];
      return v ? (JSON.parse(v) as Obj[]) : undefined;
    });
    expect(status.map((n) => [n.name, n.interface, n.ips])).toEqual([
      [world.name('cl'), 'eth0', ['198.19.196.2']],
      [`${ns}/${nad}`, 'net1', ['198.19.197.2']],
    ]);
    const metrics = (await httpOverSocket(socket, '/metrics')).body;
    expect(metrics).toMatch(/braid_cni_requests_total\{[^}]*verb="ADD"[^}]*result="ok"[^}]*\} 1/);
    await removeWorkload(web.id);
    expect(traces({ tag: world.tag, containerIds: [web.id], dataDirs: [ipamDir] }).reservations).toEqual([]);

    // Stopping the DaemonSet's containers (as a node drain or a DaemonSet deletion does):
    // cleanup-on-exit removes braid's entry, and the node's previous default network is back.
    const grace = Number(pod.terminationGracePeriodSeconds);
    await cri.call('StopContainer', { container_id: install, timeout: grace }, (grace + 10) * 1000);
    await cri.call('StopContainer', { container_id: daemon, timeout: grace }, (grace + 10) * 1000);
    expect(containerLog('install')).toContain(`removed ${entryFile}`);
    expect(readdirSync(confDir)).toEqual(['10-cluster.conflist']);
    const after = await runWorkload('after', annotations);
    // The runtime now calls the cluster network directly: eth0 only, no braid.
    expect(podAddrs(after.netns).map((a) => a.ifname).sort()).toEqual(['eth0', 'lo']);
    await removeWorkload(after.id);
    for (const id of [install, daemon]) await cri.call('RemoveContainer', { container_id: id });
  });
});
