// The containerd tier: a private containerd (CRI plugin, own config/root/state/socket/CNI dirs
// under the test's temp dir) with braid installed into its CNI dirs by `dist/braid install`,
// one-shot or daemon (braid-shim) mode. Tests talk to it the way kubelet does, over CRI.
//
// Usage (one node per test file is cheapest; each test gets its own pods):
//   const tier = useCriNode({ mode: 'daemon', subnetBase: 170 });   // describe-level
//   it('...', async () => { const pod = await tier.node.runPod('web', { annotations }); ... });
// Everything (pods, containerd, shims, mounts, netns, links, the daemon) is removed in afterAll,
// also when a test fails. CONTAINERD_SKIP says why the tier can't run (then describe.skipIf).
// Other tiers can use startCriNode() directly and the CriClient for containers as well
// (CreateContainer/StartContainer/... with the imported pause image or their own).
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { CriClient, sandboxInfo, type PodSandboxConfig, type PodSandboxStatusResponse } from '../../src/cri/cri-client.js';
import { PrivateContainerd, containerdMissing, libcniCacheFiles } from '../../src/cri/private-containerd.js';
import { DaemonProcess } from '../daemon/daemon-harness.js';
import { runInstall } from '../install/install-helpers.js';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';
import { assertBuilt } from './braid-runner.js';
import { CNI_BIN, NO_TRACES, TestWorld, traces, type Traces } from './netns.js';
import { sh } from './sh.js';

export const CONTAINERD_SKIP = containerdMissing();
if (CONTAINERD_SKIP) console.log(`skipping the containerd tier: ${CONTAINERD_SKIP}`);

export interface CriNodeOptions {
  mode: 'oneshot' | 'daemon';
  /** Third octet of the cluster network 198.19.<base>.0/24; secondaries use base+1, base+2... */
  subnetBase: number;
  /** Give braid this API server (kubeconfig); without it braid runs file-only. */
  api?: FakeApiServer;
  /** Extra files for the CNI bin dir (e.g. a fake plugin): name -> source path. */
  extraPlugins?: Record<string, string>;
  /** Daemon flags, e.g. ['--max-concurrent', '4']. */
  daemonArgs?: string[];
}

export interface Pod {
  id: string;
  name: string;
  namespace: string;
  uid: string;
  netnsPath: string;
  status: PodSandboxStatusResponse;
}

export class CriNode {
  readonly ctd: PrivateContainerd;
  readonly cri: CriClient;
  readonly dataDir: string;
  readonly cniDir: string;
  readonly networksDir: string;
  readonly clusterName: string;
  readonly daemonSocket: string;
  readonly braidLog: string;
  daemon: DaemonProcess | undefined;
  private readonly pods = new Set<string>();

  constructor(
    readonly world: TestWorld,
    readonly opts: CriNodeOptions,
  ) {
    this.ctd = new PrivateContainerd({ dir: world.dir('ctd') });
    this.cri = new CriClient(this.ctd.socket);
    this.dataDir = world.dir('ipam');
    this.cniDir = world.dir('braid');
    this.networksDir = world.dir('networks');
    this.daemonSocket = world.dir('run/braid.sock');
    this.braidLog = world.dir('braid.log');
    this.clusterName = world.name('cl');
    mkdirSync(this.networksDir, { recursive: true });
  }

  subnet(i: number): string {
    return `198.19.${this.opts.subnetBase + i}.0/24`;
  }

  ipam(i: number): Record<string, unknown> {
    return { type: 'host-local', dataDir: this.dataDir, ranges: [[{ subnet: this.subnet(i) }]], ...(i === 0 ? { routes: [{ dst: '0.0.0.0/0' }] } : {}) };
  }

  /** The braid configuration both modes share (the daemon reads it; install writes the same keys). */
  braidConfig(): Record<string, unknown> {
    return {
      cniVersion: '1.0.0',
      name: 'braid-cni-network',
      type: 'braid',
      ...(this.opts.api ? { kubeconfig: this.opts.api.writeKubeconfig(this.world.dir('kubeconfig')) } : {}),
      clusterNetwork: this.clusterFile,
      confDir: this.networksDir,
      cniDir: this.cniDir,
      binDir: this.ctd.cniBinDir,
      logFile: this.braidLog,
      logLevel: 'debug',
    };
  }

  get clusterFile(): string {
    return join(this.ctd.cniConfDir, `10-${this.clusterName}.conflist`);
  }

  /** A secondary network as a local file in braid's networks dir (file-only NADs). */
  addNetworkFile(name: string, plugins: unknown[]): void {
    writeFileSync(join(this.networksDir, `${name}.conflist`), JSON.stringify({ cniVersion: '1.0.0', name, plugins }));
  }

  async start(): Promise<void> {
    for (const f of readdirSync(CNI_BIN)) symlinkSync(join(CNI_BIN, f), join(this.ctd.cniBinDir, f));
    for (const [name, src] of Object.entries(this.opts.extraPlugins ?? {})) symlinkSync(src, join(this.ctd.cniBinDir, name));
    writeFileSync(
      this.clusterFile,
      JSON.stringify({
        cniVersion: '1.0.0',
        name: this.clusterName,
        plugins: [
          { type: 'bridge', bridge: this.world.name('c0'), isGateway: true, ipMasq: false, ipam: this.ipam(0) },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      }),
    );
    const c = this.braidConfig();
    const common = ['--cni-conf-dir', this.ctd.cniConfDir, '--cni-bin-dir', this.ctd.cniBinDir, '--wait-timeout', '5'];
    if (this.opts.mode === 'daemon') {
      const configFile = this.world.dir('braid.conf');
      writeFileSync(configFile, JSON.stringify(c));
      this.daemonConfigFile = configFile;
      await this.startDaemon();
      const out = await runInstall([...common, '--daemon', '--daemon-socket', this.daemonSocket]);
      if (out.status !== 0) throw new Error(`braid install --daemon failed: ${out.stderr}`);
    } else {
      const out = await runInstall([
        ...common,
        '--one-shot',
        ...(c.kubeconfig ? ['--kubeconfig', c.kubeconfig as string] : []),
        '--cni-dir', this.cniDir, '--networks-dir', this.networksDir, '--log-file', this.braidLog, '--log-level', 'debug',
      ]);
      if (out.status !== 0) throw new Error(`braid install failed: ${out.stderr}`);
    }
    await this.ctd.start();
    this.ctd.importPauseImage();
  }

  daemonConfigFile = '';

  async startDaemon(): Promise<DaemonProcess> {
    this.daemon = await DaemonProcess.start({ config: this.daemonConfigFile, socket: this.daemonSocket, args: this.opts.daemonArgs });
    return this.daemon;
  }

  /** RunPodSandbox as kubelet sends it; returns the pod with its netns path and verbose status. */
  async runPod(name: string, o: { namespace?: string; uid?: string; annotations?: Record<string, string>; timeoutMs?: number; extra?: Partial<PodSandboxConfig> } = {}): Promise<Pod> {
    const namespace = o.namespace ?? this.world.name('ns');
    const uid = o.uid ?? `${this.world.tag}-${name}`;
    const config: PodSandboxConfig = {
      metadata: { name, namespace, uid, attempt: 0 },
      hostname: name,
      log_directory: this.world.dir(`logs/${name}`),
      labels: { 'braid.test/tag': this.world.tag },
      annotations: o.annotations ?? {},
      linux: {},
      ...o.extra,
    };
    const id = await this.cri.runPodSandbox(config, o.timeoutMs);
    this.pods.add(id);
    const status = await this.cri.podSandboxStatus(id, true);
    return { id, name, namespace, uid, netnsPath: sandboxInfo(status).netnsPath ?? '', status };
  }

  /** What kubelet does to delete a pod: StopPodSandbox, then RemovePodSandbox (two CNI DELs). */
  async removePod(id: string): Promise<void> {
    await this.cri.stopPodSandbox(id);
    await this.cri.removePodSandbox(id);
    this.pods.delete(id);
  }

  /** Sandboxes this node's tests created that containerd still knows. */
  async listPods() {
    return this.cri.listPodSandbox({ 'braid.test/tag': this.world.tag });
  }

  /** braid's records (results, plans) still on disk. */
  records(): string[] {
    return ['results', 'plans'].flatMap((d) => (existsSync(join(this.cniDir, d)) ? readdirSync(join(this.cniDir, d)).map((f) => `${d}/${f}`) : []));
  }

  /** Pod network namespaces still mounted under containerd's state dir. */
  netnsLeft(): string[] {
    return existsSync(this.ctd.netnsDir) ? readdirSync(this.ctd.netnsDir) : [];
  }

  /**
   * Everything the pods could have left: links, iptables rules, reservations, braid's records,
   * containerd's libcni cache entries, netns mounts.
   */
  leftovers(ids: string[], ips: string[] = []): Traces & { records: string[]; runtimeCache: string[]; netns: string[] } {
    const t = traces({ tag: this.world.tag, containerIds: ids, ips, dataDirs: [this.dataDir], ignoreLinks: this.world.ownLinks() });
    return { ...t, records: this.records(), runtimeCache: libcniCacheFiles(ids), netns: this.netnsLeft() };
  }

  /** Removes every pod this node made (best effort), then containerd and all it left. */
  async destroy(): Promise<void> {
    try {
      if (this.ctd.pid) {
        for (const p of await this.listPods().catch(() => [])) this.pods.add(p.id);
        await Promise.all([...this.pods].map((id) => this.removePod(id).catch(() => undefined)));
      }
    } finally {
      this.cri.close();
      await this.ctd.destroy();
      await this.daemon?.kill();
    }
  }
}

export const NOTHING_LEFT = { ...NO_TRACES, records: [], runtimeCache: [], netns: [] };

/** Ping from inside a pod's netns (the sandbox's, as containerd mounted it). */
export function pingFrom(netnsPath: string, ip: string): { ok: boolean; out: string } {
  const r = sh('nsenter', [`--net=${netnsPath}`, 'ping', '-c', '1', '-W', '2', ip], { allowFail: true });
  return { ok: /1 received|1 packets received/.test(r), out: r };
}

/** `ip -j addr` inside a pod's netns. */
export function podAddrs(netnsPath: string): Array<{ ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }> {
  return JSON.parse(sh('nsenter', [`--net=${netnsPath}`, 'ip', '-j', 'addr']) || '[]');
}

export const ipv4In = (netnsPath: string, ifname: string) =>
  (podAddrs(netnsPath).find((a) => a.ifname === ifname)?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);

/** A started node for the current describe block; torn down in afterAll. */
export function useCriNode(opts: CriNodeOptions | (() => CriNodeOptions)): { node: CriNode; world: TestWorld } {
  const t = {} as { node: CriNode; world: TestWorld };
  beforeAll(async () => {
    assertBuilt();
    t.world = new TestWorld();
    t.node = new CriNode(t.world, typeof opts === 'function' ? opts() : opts);
    t.world.onCleanup(() => t.node.destroy());
    await t.node.start();
  }, 120_000);
  afterAll(async () => {
    await t.world?.cleanup();
  }, 120_000);
  return t;
}
