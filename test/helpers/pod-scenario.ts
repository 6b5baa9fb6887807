// A pod with four networks, as the runtime sees it: a cluster network file (bridge+host-local)
// and three NADs (bridge+host-local; macvlan on a veth master+host-local; bridge+host-local+
// bandwidth), each on its own 198.18.<base+i>.0/24. A fake plugin can be put in any chain.
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeApiServer } from '../k8s-api/server.js';
import { NO_TRACES, traces, type TestWorld, type Traces } from './netns.js';
import { callBraid, k8sArgs, type CniOutcome } from './braid-runner.js';

export const FAKE_PLUGIN = join(import.meta.dirname, '../fixtures/plugins/fake-plugin');

export interface ScenarioOptions {
  parallel?: boolean;
  annotation?: string;
  /** Insert {type: fake, fake: modes} into the chain of network `at` (0 = cluster). */
  fault?: { at: number; modes: Record<string, string> };
  /**
   * Append a host-side meta plugin to the cluster chain: the fake plugin installed under the
   * name `firewall` (braid's parallel mode lets such plugins run alongside the secondaries).
   */
  clusterHostSide?: Record<string, string>;
  config?: Record<string, unknown>;
}

export class PodScenario {
  readonly ns: { name: string; path: string };
  readonly dataDir: string;
  readonly cniDir: string;
  readonly containerId: string;
  readonly networks: string[];
  readonly podNs: string;
  readonly podName: string;
  readonly podUid: string;
  config: Record<string, unknown>;

  constructor(
    private readonly world: TestWorld,
    readonly api: FakeApiServer,
    readonly base: number,
    opts: ScenarioOptions = {},
  ) {
    this.ns = world.netns('pod');
    const { a: master } = world.veth('m');
    this.dataDir = world.dir('ipam');
    this.cniDir = world.dir('braid');
    const confDir = world.dir('net.d');
    const binDir = world.dir('bin');
    mkdirSync(confDir, { recursive: true });
    mkdirSync(binDir, { recursive: true });
    copyFileSync(FAKE_PLUGIN, join(binDir, 'fake'));
    if (opts.clusterHostSide) copyFileSync(FAKE_PLUGIN, join(binDir, 'firewall'));
    const hostSide = opts.clusterHostSide ? [{ type: 'firewall', fake: opts.clusterHostSide }] : [];
    const ipam = (i: number) => ({
      type: 'host-local',
      dataDir: this.dataDir,
      ranges: [[{ subnet: `198.18.${base + i}.0/24` }]],
      ...(i === 0 ? { routes: [{ dst: '0.0.0.0/0' }] } : {}),
    });
    const fake = (i: number) =>
      opts.fault?.at === i ? [{ type: 'fake', fake: opts.fault.modes, fakeState: world.dir(`fake-state-${i}`) }] : [];
    const clusterName = world.name('cl');
    const clusterFile = join(confDir, '10-cluster.conflist');
    writeFileSync(
      clusterFile,
      JSON.stringify({ cniVersion: '1.0.0', name: clusterName, plugins: [{ type: 'bridge', bridge: world.name('c0'), isGateway: true, ipam: ipam(0) }, ...fake(0), ...hostSide] }),
    );
    this.podNs = world.name('ns');
    const nads = [
      { name: `${world.tag}-a`, config: { cniVersion: '1.0.0', plugins: [{ type: 'bridge', bridge: world.name('a0'), ipam: ipam(1) }, ...fake(1)] } },
      { name: `${world.tag}-b`, config: { cniVersion: '0.4.0', plugins: [{ type: 'macvlan', master, mode: 'bridge', ipam: ipam(2) }, ...fake(2)] } },
      {
        name: `${world.tag}-c`,
        config: {
          cniVersion: '1.0.0',
          plugins: [{ type: 'bridge', bridge: world.name('c1'), ipam: ipam(3) }, { type: 'bandwidth', capabilities: { bandwidth: true } }, ...fake(3)],
        },
      },
    ];
    for (const n of nads) api.addNad(this.podNs, n.name, n.config);
    this.podName = world.name('pod');
    // JSON form; the third selection also asks for bandwidth (its NAD declares the capability).
    const annotation =
      opts.annotation ??
      JSON.stringify([
        { name: nads[0]!.name },
        { name: nads[1]!.name, namespace: this.podNs },
        { name: nads[2]!.name, bandwidth: { ingressRate: 2_000_000, ingressBurst: 20_000, egressRate: 2_000_000, egressBurst: 20_000 } },
      ]);
    const pod = api.addPod({
      metadata: { name: this.podName, namespace: this.podNs, annotations: { 'k8s.v1.cni.cncf.io/networks': annotation } },
      spec: { nodeName: 'node1' },
    });
    this.podUid = String((pod as { metadata: { uid?: string } }).metadata.uid);
    this.config = {
      cniVersion: '1.0.0',
      name: 'braid-net',
      type: 'braid',
      kubeconfig: api.writeKubeconfig(world.dir('kubeconfig')),
      clusterNetwork: clusterFile,
      confDir,
      cniDir: this.cniDir,
      binDir: `${binDir}:/usr/lib/cni`,
      logFile: world.dir('braid.log'),
      parallel: opts.parallel ?? false,
      ...opts.config,
    };
    this.containerId = `ctr${world.tag}`;
    this.networks = [clusterName, ...nads.map((n) => `${this.podNs}/${n.name}`)];
    // Whatever a test does, the runtime's DEL runs in teardown.
    world.onCleanup(() => this.call('DEL'));
  }

  call(
    command: 'ADD' | 'DEL' | 'CHECK',
    extra: { config?: Record<string, unknown>; netns?: string; containerId?: string; env?: Record<string, string> } = {},
  ): Promise<CniOutcome> {
    return callBraid({
      ...(extra.env ? { env: extra.env } : {}),
      command,
      containerId: extra.containerId ?? this.containerId,
      netns: extra.netns ?? this.ns.path,
      ifname: 'eth0',
      args: k8sArgs(this.podNs, this.podName, this.podUid),
      config: { ...this.config, ...extra.config },
    });
  }

  /** The runtime retries a failed DEL; give it a few tries before judging leaks. */
  async delUntilDone(tries = 3): Promise<CniOutcome> {
    let r = await this.call('DEL');
    for (let i = 1; i < tries && r.status !== 0; i++) r = await this.call('DEL');
    return r;
  }

  leftovers(): Traces & { records: string[] } {
    const t = traces({
      tag: this.world.tag,
      containerIds: [this.containerId],
      dataDirs: [this.dataDir],
      networks: this.networks.map((n) => n.split('/').pop()!),
      ignoreLinks: this.world.ownLinks(),
    });
    const records = ['results', 'plans', 'locks'].flatMap((d) =>
      existsSync(join(this.cniDir, d)) ? readdirSync(join(this.cniDir, d)).map((f) => `${d}/${f}`) : [],
    );
    return { ...t, records };
  }
}

export const CLEAN = { ...NO_TRACES, records: [] as string[] };
