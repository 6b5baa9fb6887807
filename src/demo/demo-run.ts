// The demo, step by step: a node (temp conf/bin dirs, a cluster network), Kubernetes (the test
// API server with two pods and two NADs), `braid install`, then ADD for both pods through the
// CNI protocol, what the pods got, a ping, DEL, and a check that nothing is left.
// Every object made is registered for undo first, so an error or a Ctrl-C still cleans up.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BRAID_ENTRY_FILE } from '../install/default-network.js';
import { CniRuntime, type Sandbox } from './cni-runtime.js';
import { ContainerdRuntime, containerdUnavailable, removeStaleContainerd } from './containerd-runtime.js';
import { startFakeApi, type DemoPodObject, type FakeApi } from './fake-api.js';
import {
  PREFIX,
  addNetns,
  addVethPair,
  delLink,
  delNetns,
  demoBridges,
  netnsNames,
  readIpForward,
  removePrefixed,
  removeWorkDir,
  run,
  staleWorkDirs,
  takeLock,
  writeIpForward,
} from './host.js';
import { attachmentChecks, hostChecks, type Check } from './leak-check.js';
import { NETWORK_STATUS, pingSecondaries, showPod, type PodView } from './pod-view.js';
import { preflight } from './preflight.js';
import type { Report } from './report.js';
import { CLUSTER_FILE, MACVLAN_MASTER, MACVLAN_PEER, NETWORKS_ANNOTATION, clusterConflist, loadScenario, type Scenario } from './scenario.js';

export interface DemoOptions {
  bundle: string;
  apiScript: string;
  examplesDir: string;
  pluginDir: string | undefined;
  verbose: boolean;
  lockFile: string;
  /** auto: containerd when it is installed, else braid's built-in runtime. */
  runtime: 'auto' | 'containerd' | 'builtin';
}

export class Interrupted extends Error {}

interface Undo {
  what: string;
  fn: () => unknown;
}

interface PodRun {
  sandbox: Sandbox;
  pod: DemoPodObject;
  result?: Record<string, unknown>;
  delUndo?: Undo;
}

/** The node the demo builds: directories, plugins, pods, the API server. */
interface Node {
  work: string;
  netd: string;
  bin: string;
  ipam: string;
  braidState: string;
  cache: string;
  logFile: string;
  pluginDir: string;
  scenario: Scenario;
  pods: PodRun[];
  api: FakeApi;
  check: Undo;
  /** Set when the pods run through containerd's CRI plugin. */
  containerd: ContainerdRuntime | undefined;
}

/** What the demo asks of a runtime: kubelet's create and delete of a pod's sandbox. */
interface PodRuntime {
  add(p: PodRun): Promise<Record<string, unknown>>;
  del(p: PodRun): Promise<void>;
}

type Json = Record<string, any>;
const HOST_PORT = 18080;

export class Demo {
  private readonly undo: Undo[] = [];
  private interrupted = false;
  private failures = 0;
  private leftovers = 0;
  private locked = false;

  constructor(
    private readonly o: DemoOptions,
    private readonly r: Report,
  ) {}

  interrupt(): void {
    this.interrupted = true;
  }

  private checkpoint(): void {
    if (this.interrupted) throw new Interrupted('interrupted');
  }

  private onUndo(what: string, fn: () => unknown): Undo {
    const u = { what, fn };
    this.undo.push(u);
    return u;
  }

  private done(u: Undo): void {
    this.undo.splice(this.undo.indexOf(u), 1);
  }

  /** Exit status: 0 all well, 1 a failure or a leftover, 130 interrupted. */
  async run(): Promise<number> {
    let status = 0;
    try {
      const node = await this.setUp();
      this.checkpoint();
      const runtime = await this.install(node);
      this.checkpoint();
      await this.addPods(node, runtime);
      await this.delPods(node, runtime);
    } catch (e) {
      status = this.interrupted || e instanceof Interrupted ? 130 : 1;
      this.r.line();
      this.r.bad(status === 130 ? 'interrupted: cleaning up' : `demo failed: ${(e as Error).message}`);
    }
    await this.teardown();
    if (!this.locked) return status;
    if (this.leftovers === 0) this.r.line(this.r.style('green', this.r.style('bold', 'nothing left behind ✓')));
    else this.r.line(this.r.style('red', `${this.leftovers} thing(s) left behind (listed above)`));
    if (status === 0 && (this.failures > 0 || this.leftovers > 0)) status = 1;
    if (status === 0 && this.interrupted) status = 130; // finished anyway, but say it was stopped
    return status;
  }

  private async setUp(): Promise<Node> {
    const { r, o } = this;
    r.title('Setup: a node, its cluster network, and a Kubernetes API');
    const pluginDir = preflight(o.pluginDir, (m) => r.note(m));
    const noContainerd = o.runtime === 'builtin' ? 'asked for with --runtime builtin' : containerdUnavailable();
    if (noContainerd && o.runtime === 'containerd') throw new Error(`--runtime containerd: ${noContainerd}`);
    const lock = takeLock(o.lockFile);
    this.locked = true;
    this.onUndo('release the demo lock', lock.release);
    for (const dir of staleWorkDirs()) {
      if (await removeStaleContainerd(dir)) r.note(`removed the pods and containerd an earlier, killed demo left in ${dir}`);
      removeWorkDir(dir);
    }
    const stale = removePrefixed();
    if (stale.length) r.note(`removed what an earlier, killed demo left: ${stale.join(', ')}`);

    const work = mkdtempSync(join(tmpdir(), PREFIX));
    this.onUndo(`remove ${work}`, () => rmSync(work, { recursive: true, force: true }));
    const dir = (name: string) => {
      const d = join(work, name);
      mkdirSync(d, { recursive: true });
      return d;
    };
    const [netd, bin, ipam, braidState, cache] = ['net.d', 'bin', 'ipam', 'braid', 'cni-cache'].map(dir) as [string, string, string, string, string];

    // The bridge plugin turns forwarding on for its gateway; put it back as found.
    const forwarding = readIpForward();
    this.onUndo('restore net.ipv4.ip_forward', () => forwarding === '0' && readIpForward() !== '0' && writeIpForward('0'));
    const scenario = await loadScenario(o.examplesDir, ipam);
    this.onUndo('delete the demo bridges', () => demoBridges().forEach(delLink));
    addVethPair(MACVLAN_MASTER, MACVLAN_PEER);
    this.onUndo(`delete ${MACVLAN_MASTER}`, () => delLink(MACVLAN_MASTER));
    const pods: PodRun[] = scenario.pods.map((pod) => {
      const ns = `${PREFIX}${pod.metadata.name}`;
      this.onUndo(`delete netns ${ns}`, () => delNetns(ns));
      // Under containerd the sandbox and its netns come from RunPodSandbox (named ns afterwards).
      const netnsPath = noContainerd ? addNetns(ns) : '';
      const containerId = noContainerd ? randomBytes(32).toString('hex') : '';
      return { pod, sandbox: { namespace: pod.metadata.namespace, name: pod.metadata.name, uid: '', containerId, netnsPath, capabilityArgs: {} } };
    });
    // The kubelet asks for a hostPort on the first pod: the runtime passes it as portMappings.
    pods[0]!.sandbox.capabilityArgs = { portMappings: [{ hostPort: HOST_PORT, containerPort: 80, protocol: 'tcp' }] };

    const statePath = join(work, 'api-state.json');
    writeFileSync(statePath, JSON.stringify({ pods: scenario.pods, nads: scenario.nads }));
    const api = await startFakeApi(o.apiScript, statePath, join(work, 'kubeconfig'));
    this.onUndo('stop the API server', () => api.stop());
    for (const p of pods) p.sandbox.uid = (await api.getPod(p.sandbox.namespace, p.sandbox.name)).metadata.uid ?? '';
    // Registered here so it runs after the DELs and before the namespaces go, also after a Ctrl-C.
    let containerd: ContainerdRuntime | undefined;
    const check = this.onUndo('check what the pods left', () =>
      this.report(
        attachmentChecks({
          netns: pods.map((p) => `${PREFIX}${p.sandbox.name}`).filter((ns) => netnsNames().includes(ns)),
          bridges: demoBridges(),
          containerIds: pods.map((p) => p.sandbox.containerId),
          ips: pods.flatMap((p) => ((p.result?.ips ?? []) as Json[]).map((i) => String(i.address))),
          ipamDir: ipam,
          recordDirs: [join(braidState, 'results'), join(braidState, 'plans'), cache],
          records: containerd?.cacheRecords(pods.map((p) => p.sandbox.containerId)) ?? [],
        }),
      ),
    );

    writeFileSync(join(netd, CLUSTER_FILE), `${JSON.stringify(clusterConflist(ipam), null, 2)}\n`);
    if (!noContainerd) {
      containerd = new ContainerdRuntime(join(work, 'containerd'), netd, bin);
      // Registered after the pods' netns: containerd and its sandboxes go first.
      this.onUndo('stop containerd and remove its sandboxes, shims and mounts', () => containerd!.destroy());
      containerd.linkPlugins(pluginDir);
    }
    r.pairs([
      [
        'container runtime',
        containerd
          ? `containerd, a private instance in ${join(work, 'containerd')} (its CRI plugin: conf_dir = the CNI conf dir, bin_dir = the CNI bin dir)`
          : `braid's built-in runtime (libcni's steps), because ${noContainerd}`,
      ],
      ['work dir', work],
      ['CNI conf dir', `${netd}   (the node's /etc/cni/net.d)`],
      ['CNI bin dir', `${bin}   (the node's /opt/cni/bin)`],
      ['plugins', `${pluginDir}   (reference CNI plugins)`],
      ['cluster network', `${CLUSTER_FILE}: bridge ${PREFIX}c0 + host-local + portmap + bandwidth`],
      ['API server', `${api.url}   (loopback test server: ${scenario.nads.length} NADs, ${pods.length} pods)`],
      ['pod sandboxes', containerd ? `made by containerd's RunPodSandbox (netns named ${PREFIX}<pod> for ip -n)` : pods.map((p) => p.sandbox.netnsPath).join(', ')],
      ['macvlan master', `${MACVLAN_MASTER} (a veth; peer ${MACVLAN_PEER})`],
    ]);
    return { work, netd, bin, ipam, braidState, cache, logFile: join(work, 'braid.log'), pluginDir, scenario, pods, api, check, containerd };
  }

  /** `braid install` into the node's dirs, as the DaemonSet runs it; the runtime then loads the entry. */
  private async install(n: Node): Promise<PodRuntime> {
    const { r, o } = this;
    r.title('braid install');
    const args = ['install', '--one-shot', '--cni-conf-dir', n.netd, '--cni-bin-dir', n.bin, '--kubeconfig', n.api.kubeconfig, '--networks-dir', join(n.work, 'braid-net.d'), '--cni-dir', n.braidState, '--log-file', n.logFile, '--log-level', 'info', '--wait-timeout', '10'];
    r.line(`$ braid ${args.join(' ')}`);
    const inst = run(process.execPath, [o.bundle, ...args], { allowFail: true });
    r.block(inst.stderr.replace(/^braid install: /gm, ''));
    if (inst.status !== 0) throw new Error(`braid install exited ${inst.status}`);
    r.heading(`${n.netd}, in the order a runtime reads it`);
    r.block(readdirSync(n.netd).sort().join('\n'));
    const entryFile = join(n.netd, BRAID_ENTRY_FILE);
    r.heading(BRAID_ENTRY_FILE);
    r.block(readFileSync(entryFile, 'utf8'));
    if (!n.containerd) {
      const cni = new CniRuntime(entryFile, [n.bin, n.pluginDir], n.cache);
      return { add: (p) => cni.add(p.sandbox), del: (p) => cni.del(p.sandbox) };
    }
    const ctd = n.containerd;
    r.title('containerd');
    r.line(`$ containerd --config ${ctd.ctd.configFile}`);
    r.ok(`${await ctd.start()} answers on ${ctd.ctd.socket}; sandbox image imported with ctr images import`);
    r.note(`its CRI plugin loads the first config of ${n.netd}: ${BRAID_ENTRY_FILE}, braid in front of the cluster network`);
    return { add: (p) => ctd.add(p.sandbox, p.pod.metadata.annotations ?? {}, `${PREFIX}${p.sandbox.name}`), del: (p) => ctd.del(p.sandbox) };
  }

  private async addPods(n: Node, runtime: PodRuntime): Promise<void> {
    const { r } = this;
    r.title('The pods and the networks they select');
    r.table(['POD', NETWORKS_ANNOTATION], n.pods.map((p) => [`${p.sandbox.namespace}/${p.sandbox.name}`, annotation(p.pod)]));
    r.note('NADs: ' + n.scenario.nads.map((nad) => `${nad.namespace}/${nad.name} (${(nad.config.plugins as Json[]).map((pl) => pl.type).join('+')})`).join(', '));

    r.title('ADD, the way a runtime does it');
    if (n.containerd) {
      r.note(`RunPodSandbox over CRI, as kubelet sends it; containerd runs ${BRAID_ENTRY_FILE} through libcni with CNI_PATH=${n.bin},`);
      r.note('handing braid the pod’s annotations as the io.kubernetes.cri.pod-annotations capability;');
    } else {
      r.note(`libcni runs the first config of the conf dir (${BRAID_ENTRY_FILE}) with CNI_PATH=${n.bin}:${n.pluginDir};`);
    }
    r.note('braid reads each pod, resolves its NADs, runs every network’s plugins and merges the results;');
    r.note(`for ${n.pods[0]!.sandbox.name} the runtime also passes portMappings (host port ${HOST_PORT} → 80), which braid gives the cluster network`);
    for (const p of n.pods) {
      // Every ADD is followed by a DEL, even a failed or interrupted one (as libcni does).
      p.delUndo = this.onUndo(`DEL ${p.sandbox.name}`, async () => {
        await runtime.del(p);
        r.ok(`${p.sandbox.namespace}/${p.sandbox.name}: DEL ok`);
      });
      const t0 = Date.now();
      p.result = await runtime.add(p);
      const via = n.containerd ? 'RunPodSandbox, sandbox' : 'container';
      r.ok(`${p.sandbox.namespace}/${p.sandbox.name}: ADD ok in ${Date.now() - t0} ms (${via} ${p.sandbox.containerId.slice(0, 12)})`);
      this.checkpoint();
    }

    const views: PodView[] = [];
    for (const p of n.pods) {
      const got = await n.api.getPod(p.sandbox.namespace, p.sandbox.name);
      const view = {
        namespace: p.sandbox.namespace,
        name: p.sandbox.name,
        result: p.result ?? {},
        status: JSON.parse(got.metadata.annotations?.[NETWORK_STATUS] ?? '[]') as Json[],
        portMappings: (p.sandbox.capabilityArgs.portMappings ?? []) as Json[],
      };
      views.push(view);
      r.title(`Pod ${view.namespace}/${view.name}`);
      if (!showPod(r, view, this.o.verbose)) this.failures++;
      if (n.containerd) r.line(`containerd reports pod IP ${await n.containerd.podIp(p.sandbox)} (PodSandboxStatus: the cluster network's eth0)`);
    }
    this.checkpoint();

    r.title('Ping from one pod to the other over the secondary networks');
    if (!pingSecondaries(r, views[0]!, views[1]!)) this.failures++;
    this.checkpoint();
  }

  private async delPods(n: Node, runtime: PodRuntime): Promise<void> {
    const { r } = this;
    r.title('DEL');
    if (n.containerd) r.note('StopPodSandbox then RemovePodSandbox, as kubelet deletes a pod: containerd calls DEL for each');
    for (const p of [...n.pods].reverse()) {
      const t0 = Date.now();
      await runtime.del(p);
      if (p.delUndo) this.done(p.delUndo);
      r.ok(`${p.sandbox.namespace}/${p.sandbox.name}: DEL ok in ${Date.now() - t0} ms`);
    }
    if (this.o.verbose && existsSync(n.logFile)) {
      r.heading(`braid's log (${n.logFile})`);
      r.block(readFileSync(n.logFile, 'utf8'));
    }
    r.title('Nothing left behind?');
    this.done(n.check);
    n.check.fn();
  }

  private report(checks: Check[]): void {
    for (const c of checks) {
      if (c.leftovers.length === 0) this.r.ok(`no ${c.what}`);
      else {
        this.leftovers += c.leftovers.length;
        this.r.bad(`${c.what}:`);
        this.r.block(c.leftovers.join('\n'), 6);
      }
    }
  }

  /** Undo everything still registered (LIFO), then look for anything with the demo's prefix. */
  private async teardown(): Promise<void> {
    this.r.heading('cleanup: namespaces, veths, bridges, API server, work dir');
    for (const u of this.undo.splice(0).reverse()) {
      try {
        await u.fn();
      } catch (e) {
        this.r.bad(`${u.what}: ${(e as Error).message}`);
      }
    }
    // Without the lock the prefixed objects may be another demo's: not ours to judge.
    if (this.locked) this.report(hostChecks());
  }
}

/** The comma form as written; the JSON form on one line. */
const annotation = (pod: DemoPodObject): string => {
  const v = (pod.metadata.annotations?.[NETWORKS_ANNOTATION] ?? '').trim();
  try {
    return JSON.stringify(JSON.parse(v));
  } catch {
    return v;
  }
};
