// The pod benchmark: what braid adds on top of the delegates it runs.
// Run with `npm run bench` (as root). Prints tables; asserts nothing; checks for leaks.
//
// Standard scenario: cluster network bridge+host-local+portmap, and three NADs:
// bridge+host-local+tuning, macvlan on a veth+host-local, bridge+host-local+bandwidth.
// The "runtime" is braid's own libcni-equivalent Engine, in-process, as containerd runs libcni.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseConfList, type NetConfList } from '../../src/cni/config.js';
import { Engine, type RuntimeConf } from '../../src/engine/engine.js';
import { execaExec, makePluginExec, type ExecRequest, type PluginExec } from '../../src/engine/exec-plugin.js';
import { loadSpawner } from '../../src/engine/spawner.js';
import { parallelAdd, parallelDel, podSideEnd, settledValues } from '../../src/meta/schedule.js';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';
import { bandwidthIfbName } from '../helpers/netns.js';
import { table } from './bench-table.js';

const PODS = Number(process.env.BENCH_PODS ?? 10);
const SCALE_PODS = Number(process.env.BENCH_SCALE_PODS ?? 5);
const CONCURRENT = 16;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? PODS)); // default: modes alternate pod by pod
const REPO = process.cwd();
const CNI_BIN = '/usr/lib/cni';
const TAG = `bb${process.pid.toString(36).slice(-4)}`;
const tmp = mkdtempSync(join(tmpdir(), 'braid-bench-'));
const bin = join(tmp, 'bin');
const confDir = join(tmp, 'net.d');
const dataDir = join(tmp, 'ipam');
const cniDir = join(tmp, 'braid');
const runtimeCache = join(tmp, 'runtime-cache');
const MASTER = `${TAG}mva`;
const children: ChildProcess[] = [];
// The runtime's exec. A Go runtime (containerd, CRI-O) starts plugins with clone(CLONE_VFORK |
// CLONE_VM), whose cost does not grow with the runtime's memory; a fork from this large Node
// process does (~2 ms more per plugin), which would inflate the floor. So by default the bench
// runtime execs through braid-spawner, for the floor and for braid alike; it also gives each
// plugin's CPU (wait4). BENCH_RUNTIME_EXEC=execa forks from this process instead.
const runtimeSpawner = process.env.BENCH_RUNTIME_EXEC === 'execa' ? undefined : loadSpawner(join(REPO, 'dist/braid-spawner'));
const cpuOfRun = new WeakMap<ExecRequest, number>();
const runtimeExec: PluginExec = runtimeSpawner ? makePluginExec(runtimeSpawner.run, (req, r) => r.cpuMs !== undefined && cpuOfRun.set(req, r.cpuMs)) : execaExec;
const namespaces: string[] = [];

// ---------- small helpers ----------
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};
const p90 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(s.length * 0.9) - 1)]! : NaN;
};
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const ratio = (x: number, floor: number) => (Number.isFinite(x) && floor > 0 ? `${(x / floor).toFixed(2)}x` : '-');
const now = () => performance.now();

function timeCommand(cmd: string, args: string[], env: Record<string, string> = {}, input = '', runs = 20): number {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    spawnSync(cmd, args, { env: { ...process.env, ...env }, input });
    xs.push(now() - t0);
  }
  return median(xs);
}

// ---------- the scenario ----------
const subnet = (i: number) => `198.19.${i}.0/24`;
function hostLocal(i: number, routes = false) {
  return { type: 'host-local', dataDir, ranges: [[{ subnet: subnet(i) }]], ...(routes ? { routes: [{ dst: '0.0.0.0/0' }] } : {}) };
}
const clusterList = {
  cniVersion: '1.0.0',
  name: `${TAG}-cluster`,
  plugins: [
    { type: 'bridge', bridge: `${TAG}c0`, isGateway: true, ipMasq: process.env.BENCH_IPMASQ !== '0', ipam: hostLocal(0, true) },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
};
const NADS = [
  { name: 'tune', config: { cniVersion: '1.0.0', name: `${TAG}-tune`, plugins: [{ type: 'bridge', bridge: `${TAG}t0`, ipam: hostLocal(1) }, { type: 'tuning', mtu: 1400 }] } },
  { name: 'mv', config: { cniVersion: '1.0.0', name: `${TAG}-mv`, plugins: [{ type: 'macvlan', master: MASTER, mode: 'bridge', ipam: hostLocal(2) }] } },
  {
    name: 'bw',
    config: {
      cniVersion: '1.0.0',
      name: `${TAG}-bw`,
      plugins: [{ type: 'bridge', bridge: `${TAG}b0`, ipam: hostLocal(3) }, { type: 'bandwidth', capabilities: { bandwidth: true } }],
    },
  },
  // extra networks for the scaling curve (8 networks per pod = cluster + 7)
  ...[1, 2, 3, 4].map((k) => ({
    name: `x${k}`,
    config: { cniVersion: '1.0.0', name: `${TAG}-x${k}`, plugins: [{ type: 'bridge', bridge: `${TAG}x${k}`, ipam: hostLocal(3 + k) }] },
  })),
];
const POD_NS = 'bench';
const nadsFor = (networks: number) => NADS.slice(0, networks - 1).map((n) => n.name);

interface Mode {
  name: string;
  kind: 'floor' | 'oneshot' | 'daemon';
  parallel: boolean;
}
const MODES: Mode[] = [
  { name: 'floor (delegates run directly)', kind: 'floor', parallel: false },
  { name: 'floor, parallel schedule (delegates run directly)', kind: 'floor', parallel: true },
  { name: 'braid one-shot, sequential', kind: 'oneshot', parallel: false },
  { name: 'braid one-shot, parallel', kind: 'oneshot', parallel: true },
  { name: 'braid daemon, sequential', kind: 'daemon', parallel: false },
  { name: 'braid daemon, parallel', kind: 'daemon', parallel: true },
];

function braidConfig(kubeconfig: string, parallel: boolean) {
  return {
    cniVersion: '1.0.0',
    name: 'braid',
    type: 'braid',
    kubeconfig,
    clusterNetwork: join(confDir, '10-cluster.conflist'),
    confDir,
    cniDir,
    binDir: CNI_BIN,
    logFile: join(tmp, 'braid.log'),
    logLevel: 'warn',
    parallel,
  };
}

function runtimeList(mode: Mode, kubeconfig: string, socket: string): NetConfList {
  const plugin =
    mode.kind === 'daemon'
      ? { type: 'braid-shim', daemonSocket: socket, capabilities: { portMappings: true } }
      : { ...braidConfig(kubeconfig, mode.parallel), capabilities: { portMappings: true } };
  const { cniVersion: _v, name: _n, ...rest } = plugin as Record<string, unknown>;
  return parseConfList({ cniVersion: '1.0.0', name: 'braid', plugins: [rest] });
}

// ---------- daemon ----------
function httpOverSocket(socket: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path, method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
    req.end();
  });
}

/** A braid daemon with the bench's config (`parallel` as asked), ready on `socket`. */
async function startDaemon(name: string, kubeconfig: string, parallel: boolean, socket: string): Promise<ChildProcess> {
  const configFile = join(tmp, `daemon-${name}.json`);
  writeFileSync(configFile, JSON.stringify(braidConfig(kubeconfig, parallel)));
  // BENCH_DAEMON_PROF=DIR: a V8 CPU profile of each daemon, for finding where its time goes.
  const prof = process.env.BENCH_DAEMON_PROF ? [process.execPath, '--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_DAEMON_PROF}`] : [];
  const [cmd, ...pre] = [...prof, join(REPO, 'dist/braid')];
  const child = spawn(cmd!, [...pre, 'daemon', '--config', configFile, '--socket', socket, '--node-name', 'node1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '--max-semi-space-size=4' }, // as the DaemonSet runs it
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await httpOverSocket(socket, '/readyz')) === 200) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`daemon did not become ready: ${stderr.slice(-2000)}`);
}

function stopDaemon(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const rssOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(/(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(k)) ?? '')?.[1] ?? NaN);
  return { rss: kb('VmRSS:') / 1024, hwm: kb('VmHWM:') / 1024 };
};

// ---------- pods ----------
interface Pod {
  name: string;
  netns: string;
  path: string;
}
function makePods(count: number): Pod[] {
  const pods: Pod[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${TAG}-p${i}`;
    sh('ip', ['netns', 'add', name]);
    namespaces.push(name);
    sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    pods.push({ name, netns: name, path: `/var/run/netns/${name}` });
  }
  return pods;
}

function runtimeConf(mode: Mode, pod: Pod, i: number, round: string): RuntimeConf {
  return {
    containerId: `${TAG}-${round}-${mode.kind}${mode.parallel ? 'p' : 's'}-${i}`,
    netns: pod.path,
    ifname: 'eth0',
    args: [
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAMESPACE', POD_NS],
      ['K8S_POD_NAME', pod.name],
    ],
    capabilityArgs: { portMappings: [{ hostPort: 20000 + i, containerPort: 80, protocol: 'tcp' }] },
  };
}

/** Floor: the same chains run directly by the runtime, one after another. */
/** Attachment k of a pod as the runtime calls it: eth0 with the pod's capabilities, then net1, net2 ... */
const attachmentRt = (rt: RuntimeConf, k: number): RuntimeConf => ({ ...rt, ifname: k === 0 ? 'eth0' : `net${k}`, capabilityArgs: k === 0 ? rt.capabilityArgs : {} });

async function floorAdd(engine: Engine, lists: NetConfList[], rt: RuntimeConf) {
  for (const [k, list] of lists.entries()) {
    await engine.addList(list, attachmentRt(rt, k));
  }
}
/**
 * The same delegates in braid's parallel schedule, run directly by the runtime: the cluster
 * chain, and once its pod-side plugins are done, every secondary chain alongside its host-side
 * tail (parallelAdd: the very code braid runs). What a meta-plugin with no overhead at all
 * would achieve on this kernel and these cores.
 */
async function floorParallelAdd(engine: Engine, lists: NetConfList[], rt: RuntimeConf) {
  const [cluster, ...rest] = lists;
  settledValues(
    await parallelAdd(
      { list: cluster! },
      (afterPlugin) => engine.addList(cluster!, attachmentRt(rt, 0), afterPlugin),
      () => rest.map((list, j) => engine.addList(list, attachmentRt(rt, j + 1))),
    ),
  );
}
async function floorDel(engine: Engine, lists: NetConfList[], rt: RuntimeConf) {
  for (const [k, list] of [...lists.entries()].reverse()) {
    await engine.delList(list, attachmentRt(rt, k));
  }
}
/** Its mirror, as braid's parallel DEL runs it: the secondaries alongside the cluster's host-side tail, then its pod-side plugins. */
async function floorParallelDel(engine: Engine, lists: NetConfList[], rt: RuntimeConf) {
  const [cluster, ...rest] = lists;
  settledValues(
    await parallelDel(
      { list: cluster! },
      (beforePlugin) => engine.delList(cluster!, attachmentRt(rt, 0), beforePlugin),
      () => rest.map((list, j) => engine.delList(list, attachmentRt(rt, j + 1))),
    ),
  );
}

function leaks(pods: Pod[], containerIds: string[]): string[] {
  const found: string[] = [];
  for (const p of pods) {
    const links = JSON.parse(sh('ip', ['-j', '-n', p.netns, 'link']).stdout || '[]') as Array<{ ifname: string }>;
    for (const l of links) if (l.ifname !== 'lo') found.push(`${p.netns}: link ${l.ifname}`);
  }
  if (existsSync(dataDir)) {
    for (const net of readdirSync(dataDir)) for (const f of readdirSync(join(dataDir, net))) if (/^\d/.test(f)) found.push(`reservation ${net}/${f}`);
  }
  for (const d of ['results', 'plans']) {
    if (existsSync(join(cniDir, d))) for (const f of readdirSync(join(cniDir, d))) found.push(`braid record ${d}/${f}`);
  }
  const rules = sh('iptables-save', []).stdout;
  for (const id of containerIds) if (rules.includes(id)) found.push(`iptables rule for ${id}`);
  // A pod namespace holding only lo proves its veth pairs are gone; the bandwidth plugin's ifb
  // device lives on the host, named from a hash of network + container (plugins/meta/bandwidth).
  const hostLinks = new Set((JSON.parse(sh('ip', ['-j', 'link']).stdout || '[]') as Array<{ ifname: string }>).map((l) => l.ifname));
  for (const id of containerIds) {
    const ifb = bandwidthIfbName(`${TAG}-bw`, id);
    if (hostLinks.has(ifb)) found.push(`ifb ${ifb} of ${id}`);
  }
  return found;
}

/** CPU seconds of a process (default: this one) and of its waited-for children (every delegate, grandchildren included). */
function processCpu(pid: number | 'self' = 'self'): { self: number; children: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const tick = 100; // USER_HZ on Linux
  return { self: (Number(f[11]) + Number(f[12])) / tick, children: (Number(f[13]) + Number(f[14])) / tick };
}

/**
 * The daemon's CPU and its delegates': the daemon process plus its braid-spawner (which forks
 * the delegates and waits for them, so their CPU shows as the spawner's children).
 */
function daemonCpu(pid: number): { self: number; children: number } {
  const total = processCpu(pid);
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.split(') ')[1]!.split(' ')[1]) !== pid) continue;
      const c = processCpu(Number(d));
      total.self += c.self;
      total.children += c.children;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** Jiffies of all cores from /proc/stat: busy (not idle or waiting for I/O) and total. */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

/** The runtime's CPU (this process and its spawner) and its delegates' (their waited-for children). */
function runtimeCpu(): { self: number; children: number } {
  const total = processCpu();
  if (runtimeSpawner?.pid) {
    const c = processCpu(runtimeSpawner.pid);
    total.self += c.self;
    total.children += c.children;
  }
  return total;
}

/** What any parallel schedule is bounded by, from the floor run (see parallelBound). */
interface FloorProfile {
  /** Delegates' CPU (user + sys, ms) per pod ADD, and the runtime's own. */
  delegateCpu: number;
  runtimeCpu: number;
  /** Per pod: cluster pod-side plugins, then the longer of its host-side tail and the slowest secondary chain. */
  criticalPath: number[];
  /** Per pod: cluster pod-side plugins (wall), then the CPU of every other delegate over all cores. */
  scheduleBound: number[];
}

/**
 * Requests made for pods: GETs of one object and PATCHes. The daemon's informer LIST and WATCH
 * serve every pod of the node at once (and a watch opened just after /readyz can land in the
 * window), so they are not per-pod requests.
 */
function podRequests(api: FakeApiServer): number {
  const collection = /\/(pods|network-attachment-definitions)$/;
  return api.requests.filter((r) => !(r.method === 'GET' && (collection.test(r.path) || ['true', '1'].includes(String(r.query.watch ?? ''))))).length;
}

interface Measured {
  floor?: FloorProfile;
  /** BRAID_TRACE lines of the one-shot ADDs (phase marks, ms since each braid process started). */
  traces?: Trace[];
  add: number[];
  del: number[];
  apiAdd: number;
  apiDel: number;
  rssMiB?: number;
  /** Share of all cores' time that was busy while this mode's ADDs ran (the machine, not just braid). */
  busy?: number;
  /** Daemon modes: the daemon's own CPU and its delegates' per pod ADD (ms). */
  daemonCpu?: { self: number; children: number };
  leaks: string[];
  failures: number;
}

interface Trace {
  command: string;
  marks: Array<[string, number]>;
}

/** Where a one-shot ADD's time goes: medians of its phases, from the BRAID_TRACE marks. */
function breakdown(traces: Trace[], addWall: number[], node0: number, daemon = false): string[][] {
  const phases: Record<string, number[]> = {};
  const put = (k: string, v: number) => (phases[k] ??= []).push(v);
  for (const t of traces.filter((x) => x.command === 'ADD')) {
    const at = (label: string) => t.marks.find(([l]) => l === label)?.[1] ?? NaN;
    let delegates = 0;
    let open: number | undefined;
    for (const [l, ms] of t.marks) {
      if (l.startsWith('exec ')) open = ms;
      else if (l.startsWith('exited ') && open !== undefined) {
        delegates += ms - open;
        open = undefined;
      }
    }
    // One-shot marks count from the process start; the daemon's from the request's arrival.
    const start = at('request');
    if (Number.isNaN(start)) put('node start + bundle load + compile (to braid main)', at('app'));
    put(Number.isNaN(start) ? 'stdin, module init, config, logger' : 'request parsed, config, context', at('context') - (Number.isNaN(start) ? at('app') : start));
    put('lock, pod + NAD reads (API), plan', at('planned') - at('context'));
    put('plan record written (fsync)', at('plan-written') - at('planned'));
    put('delegates running (exec to exit)', delegates);
    put('braid between delegates (results, cache records)', at('delegates-done') - at('plan-written') - delegates);
    put('network-status PATCH', at('status-written') - at('delegates-done'));
    put('merge and answer', at('answered') - at('status-written'));
  }
  const rows = Object.entries(phases).map(([k, v]) => [k, ms(median(v))]);
  const total = median(addWall);
  const traced = Object.values(phases).reduce((s, v) => s + median(v), 0);
  rows.push([daemon ? 'shim, socket, and the runtime seeing the answer (rest)' : 'process exit, and the runtime seeing it (rest of the wall time)', ms(total - traced)]);
  rows.push(['ADD wall time as the runtime measures it', ms(total)]);
  rows.push(['for scale: node -e 0', ms(node0)]);
  return rows;
}

interface RunningDaemon {
  child: ChildProcess;
  socket: string;
  traceFile: string;
}

/** One mode's rounds as one measurement: samples pooled, per-pod figures averaged, peaks kept. */
function mergeRuns(rs: Measured[]): Measured {
  const avg = (f: (m: Measured) => number) => {
    const xs = rs.map(f).filter((x) => !Number.isNaN(x));
    return xs.reduce((s, x) => s + x, 0) / xs.length;
  };
  const floors = rs.map((m) => m.floor).filter((f): f is FloorProfile => !!f);
  const rss = rs.map((m) => m.rssMiB).filter((x): x is number => x !== undefined);
  const dcpu = rs.map((m) => m.daemonCpu).filter((x): x is NonNullable<Measured['daemonCpu']> => !!x);
  const busy = rs.map((m) => m.busy).filter((x): x is number => x !== undefined);
  return {
    ...(busy.length ? { busy: busy.reduce((a, b) => a + b, 0) / busy.length } : {}),
    add: rs.flatMap((m) => m.add),
    del: rs.flatMap((m) => m.del),
    apiAdd: avg((m) => m.apiAdd),
    apiDel: avg((m) => m.apiDel),
    leaks: rs.flatMap((m) => m.leaks),
    failures: rs.reduce((s, m) => s + m.failures, 0),
    traces: rs.flatMap((m) => m.traces ?? []),
    ...(rss.length ? { rssMiB: Math.max(...rss) } : {}),
    ...(dcpu.length
      ? { daemonCpu: { self: dcpu.reduce((s, c) => s + c.self, 0) / dcpu.length, children: dcpu.reduce((s, c) => s + c.children, 0) / dcpu.length } }
      : {}),
    ...(floors.length
      ? {
          floor: {
            delegateCpu: floors.reduce((s, f) => s + f.delegateCpu, 0) / floors.length,
            runtimeCpu: floors.reduce((s, f) => s + f.runtimeCpu, 0) / floors.length,
            criticalPath: floors.flatMap((f) => f.criticalPath),
            scheduleBound: floors.flatMap((f) => f.scheduleBound),
          },
        }
      : {}),
  };
}

async function measure(
  mode: Mode,
  pods: Pod[],
  networks: number,
  api: FakeApiServer,
  kubeconfig: string,
  round: string,
  /** A daemon kept running across rounds (daemon modes of the main table). */
  running?: RunningDaemon,
): Promise<Measured> {
  // The floor's delegates are timed one by one, for the critical path of a parallel schedule.
  const timings: Array<{ containerId: string; ifname: string; index: number; ms: number; cpu: number }> = [];
  const perList = new Map<string, number>();
  const timedExec: PluginExec = async (req) => {
    const key = `${req.containerId}/${req.ifname}`;
    const index = perList.get(key) ?? 0;
    perList.set(key, index + 1);
    const t0 = now();
    try {
      return await runtimeExec(req);
    } finally {
      if (req.command === 'ADD') timings.push({ containerId: req.containerId!, ifname: req.ifname!, index, ms: now() - t0, cpu: cpuOfRun.get(req) ?? NaN });
    }
  };
  const engine = new Engine({ path: [bin, CNI_BIN], cacheDir: runtimeCache, exec: mode.kind === 'floor' && !mode.parallel ? timedExec : runtimeExec });
  const lists = [clusterList, ...NADS.slice(0, networks - 1).map((n) => n.config)].map((l) => parseConfList(l as Record<string, unknown>));
  for (const p of pods) api.updatePod({ ...api.getPod(POD_NS, p.name)!, metadata: { ...api.getPod(POD_NS, p.name)!.metadata, annotations: { 'k8s.v1.cni.cncf.io/networks': nadsFor(networks).join(',') } } });
  const socket = running?.socket ?? join(tmp, `braid-${mode.parallel ? 'p' : 's'}.sock`);
  // Phase marks (BRAID_TRACE), inherited by dist/braid and by the daemon.
  const traceFile = running?.traceFile ?? join(tmp, `trace-${round}-${mode.kind}-${mode.parallel ? 'p' : 's'}.jsonl`);
  if (mode.kind !== 'floor') process.env.BRAID_TRACE = traceFile;
  let daemon: ChildProcess | undefined;
  if (mode.kind === 'daemon' && !running) daemon = await startDaemon(mode.parallel ? 'p' : 's', kubeconfig, mode.parallel, socket);
  const list = runtimeList(mode, kubeconfig, socket);
  const rts = pods.map((p, i) => runtimeConf(mode, p, i, round));
  const out: Measured = { add: [], del: [], apiAdd: 0, apiDel: 0, leaks: [], failures: 0 };
  /** Each pod in turn, its latency into `into`; a failure is counted and reported, not thrown. */
  const timeEach = async (verb: string, call: (rt: RuntimeConf) => Promise<unknown>, into: number[]) => {
    for (const rt of rts) {
      const t0 = now();
      try {
        await call(rt);
        into.push(now() - t0);
      } catch (e) {
        out.failures++;
        console.error(`  ${verb} failed (${mode.name}): ${(e as Error).message}`);
      }
    }
  };
  api.reset();
  const cpu0 = runtimeCpu();
  const daemonPid = (running?.child ?? daemon)?.pid;
  const dcpu0 = daemonPid ? daemonCpu(daemonPid) : undefined;
  const m0 = machineCpu();
  await timeEach('ADD', (rt) => (mode.kind === 'floor' ? (mode.parallel ? floorParallelAdd : floorAdd)(engine, lists, rt) : engine.addList(list, rt)), out.add);
  delete process.env.BRAID_TRACE;
  const m1 = machineCpu();
  out.busy = (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total);
  if (dcpu0 && daemonPid) {
    const dcpu1 = daemonCpu(daemonPid);
    out.daemonCpu = { self: ((dcpu1.self - dcpu0.self) * 1000) / pods.length, children: ((dcpu1.children - dcpu0.children) * 1000) / pods.length };
  }
  if (mode.kind === 'floor' && !mode.parallel) {
    const cpu1 = runtimeCpu();
    const clusterEnd = podSideEnd({ list: lists[0]! });
    const perPod = rts.map((rt) => {
      const mine = timings.filter((x) => x.containerId === rt.containerId);
      const sum = (xs: typeof mine, f: (x: (typeof mine)[number]) => number = (x) => x.ms) => xs.reduce((s, x) => s + f(x), 0);
      const cluster = mine.filter((x) => x.ifname === 'eth0');
      const podSide = cluster.filter((x) => x.index <= clusterEnd);
      const chains = [...new Set(mine.map((x) => x.ifname))].filter((i) => i !== 'eth0').map((i) => sum(mine.filter((x) => x.ifname === i)));
      const cpu = (x: (typeof mine)[number]) => x.cpu;
      return {
        critical: sum(podSide) + Math.max(sum(cluster.filter((x) => x.index > clusterEnd)), ...chains, 0),
        // Secondaries start once the cluster's pod-side plugins are done; from then on every
        // other delegate shares the cores.
        scheduled: sum(podSide) + (sum(mine, cpu) - sum(podSide, cpu)) / cpus().length,
      };
    });
    const criticalPath = perPod.map((x) => x.critical);
    if (process.env.BENCH_DEBUG) {
      for (const key of [...new Set(timings.map((x) => `${x.ifname}#${x.index}`))]) {
        const xs = timings.filter((x) => `${x.ifname}#${x.index}` === key);
        console.error(`  floor delegate ${key}: wall ${ms(median(xs.map((x) => x.ms)))} ms, cpu ${ms(median(xs.map((x) => x.cpu)))} ms`);
      }
    }
    out.floor = {
      scheduleBound: perPod.map((x) => x.scheduled),
      delegateCpu: ((cpu1.children - cpu0.children) * 1000) / pods.length,
      runtimeCpu: ((cpu1.self - cpu0.self) * 1000) / pods.length,
      criticalPath,
    };
  }
  if (existsSync(traceFile)) {
    out.traces = readFileSync(traceFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Trace);
    writeFileSync(traceFile, ''); // a running daemon appends the next round's lines
  }
  if (process.env.BENCH_DEBUG) for (const t of out.traces ?? []) console.error(`  trace: ${JSON.stringify(t)}`);
  out.apiAdd = podRequests(api) / pods.length;
  if (process.env.BENCH_DEBUG) for (const r of api.requests) console.error(`  api: ${JSON.stringify(r)}`);
  api.reset();
  await timeEach('DEL', (rt) => (mode.kind === 'floor' ? (mode.parallel ? floorParallelDel : floorDel)(engine, lists, rt) : engine.delList(list, rt)), out.del);
  out.apiDel = podRequests(api) / pods.length;
  if (daemon?.pid) out.rssMiB = rssOf(daemon.pid).hwm;
  if (daemon) await stopDaemon(daemon);
  out.leaks = leaks(pods, rts.map((r) => r.containerId));
  return out;
}

async function concurrentPods(pods: Pod[], api: FakeApiServer, kubeconfig: string) {
  const mode: Mode = { name: 'daemon, parallel', kind: 'daemon', parallel: true };
  const socket = join(tmp, 'braid-c.sock');
  for (const p of pods) api.updatePod({ ...api.getPod(POD_NS, p.name)!, metadata: { ...api.getPod(POD_NS, p.name)!.metadata, annotations: { 'k8s.v1.cni.cncf.io/networks': nadsFor(4).join(',') } } });
  const daemon = await startDaemon('c', kubeconfig, true, socket);
  const engine = new Engine({ path: [bin, CNI_BIN], cacheDir: runtimeCache, exec: runtimeExec });
  const list = runtimeList(mode, kubeconfig, socket);
  const rts = pods.map((p, i) => runtimeConf(mode, p, i, 'conc'));
  const lat: number[] = [];
  let failures = 0;
  const t0 = now();
  await Promise.all(
    rts.map(async (rt) => {
      const s = now();
      try {
        await engine.addList(list, rt);
        lat.push(now() - s);
      } catch (e) {
        failures++;
        console.error(`  concurrent ADD failed: ${(e as Error).message}`);
      }
    }),
  );
  const wall = now() - t0;
  await Promise.all(rts.map((rt) => engine.delList(list, rt).catch(() => failures++)));
  const rss = daemon.pid ? rssOf(daemon.pid).hwm : NaN;
  await stopDaemon(daemon);
  return { wall, median: median(lat), p90: p90(lat), failures, rss, leaks: leaks(pods, rts.map((r) => r.containerId)) };
}

async function rssAtScale(api: FakeApiServer, kubeconfig: string) {
  for (let i = 0; i < 1000; i++) {
    api.addPod({
      metadata: { name: `idle-${i}`, namespace: `ns-${i % 50}`, labels: { app: `a${i}` }, annotations: { 'k8s.v1.cni.cncf.io/networks': 'tune,mv' } },
      spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'registry.example/app:1' }] },
    });
    api.addNad(`ns-${i % 50}`, `nad-${i}`, { cniVersion: '1.0.0', name: `nad-${i}`, plugins: [{ type: 'bridge', bridge: 'x', ipam: { type: 'host-local', subnet: '198.19.200.0/24' } }] });
  }
  const socket = join(tmp, 'braid-rss.sock');
  const daemon = await startDaemon('rss', kubeconfig, true, socket);
  await new Promise((r) => setTimeout(r, 1500));
  const r = rssOf(daemon.pid!);
  await stopDaemon(daemon);
  return r;
}

function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const ns of namespaces) sh('ip', ['netns', 'del', ns]);
  for (const l of JSON.parse(sh('ip', ['-j', 'link']).stdout || '[]') as Array<{ ifname: string }>) {
    if (l.ifname.startsWith(TAG)) sh('ip', ['link', 'del', l.ifname]);
  }
  rmSync(tmp, { recursive: true, force: true });
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (network namespaces)');
  for (const f of ['dist/braid', 'dist/braid-shim']) if (!existsSync(join(REPO, f))) throw new Error(`${f} missing: run npm run build`);
  mkdirSync(bin, { recursive: true });
  mkdirSync(confDir, { recursive: true });
  await runtimeSpawner?.run('/bin/true', {}, '').done; // started before anything is timed
  copyFileSync(join(REPO, 'dist/braid'), join(bin, 'braid'));
  // BENCH_WRAP="strace -f -tt -o /tmp/t": one-shot calls run under a tracer or profiler.
  if (process.env.BENCH_WRAP) writeFileSync(join(bin, 'braid'), `#!/bin/sh\nexec ${process.env.BENCH_WRAP} ${join(REPO, 'dist/braid')} "$@"\n`);
  copyFileSync(join(REPO, 'dist/braid-shim'), join(bin, 'braid-shim'));
  spawnSync('chmod', ['755', join(bin, 'braid'), join(bin, 'braid-shim')]);
  // As `braid install` lays it out: one-shot braid starts its delegates through it.
  if (existsSync(join(REPO, 'dist/braid-spawner'))) copyFileSync(join(REPO, 'dist/braid-spawner'), join(bin, 'braid-spawner'));
  spawnSync('chmod', ['755', join(bin, 'braid-spawner')]);
  writeFileSync(join(confDir, '10-cluster.conflist'), JSON.stringify(clusterList));
  sh('ip', ['link', 'add', MASTER, 'type', 'veth', 'peer', 'name', `${TAG}mvb`]);
  sh('ip', ['link', 'set', MASTER, 'up']);

  const api = await startFakeApiServer();
  // As braid install writes it: JSON (valid YAML), read without loading a YAML parser.
  const kubeconfig = api.writeKubeconfig(join(tmp, 'kubeconfig.json'), { format: 'json' });
  for (const n of NADS) api.addNad(POD_NS, n.name, n.config);
  const pods = makePods(Math.max(PODS, CONCURRENT));
  for (const p of pods) api.addPod({ metadata: { name: p.name, namespace: POD_NS, annotations: {} }, spec: { nodeName: 'node1' } });

  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log(`# braid pod benchmark\n\nmachine: ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, reference plugins ${CNI_BIN}`);
  console.log(`pods per mode: ${PODS} in ${ROUNDS} rounds (4 networks each: cluster bridge+host-local+portmap; bridge+tuning; macvlan; bridge+bandwidth)`);

  // Lean one-shot path
  const node0 = timeCommand('node', ['-e', '0']);
  const version = timeCommand(join(REPO, 'dist/braid'), [], { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
  const delEnv = { CNI_COMMAND: 'DEL', CNI_CONTAINERID: `${TAG}-never`, CNI_IFNAME: 'eth0', CNI_PATH: CNI_BIN, CNI_NETNS: pods[0]!.path };
  // A container braid never saw: with a cluster network file, DEL still runs its chain
  // (bridge + portmap) from config; with a cluster network NAD there is nothing to run, so that
  // row is braid's own cost: start, config, lock, plan lookup, answer.
  const delNever = timeCommand(join(REPO, 'dist/braid'), [], delEnv, JSON.stringify(braidConfig(kubeconfig, false)));
  const delBare = timeCommand(join(REPO, 'dist/braid'), [], delEnv, JSON.stringify({ ...braidConfig(kubeconfig, false), clusterNetwork: 'cluster-nad' }));
  const shimVersion = timeCommand(join(REPO, 'dist/braid-shim'), [], { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0","daemonSocket":"/nonexistent.sock"}');
  table('one-shot process cost (median of 20)', ['command', 'ms', 'vs node -e 0'], [
    ['node -e 0', ms(node0), '1.00x'],
    ['CNI_COMMAND=VERSION dist/braid', ms(version), ratio(version, node0)],
    ['DEL, nothing to run (braid alone) dist/braid', ms(delBare), ratio(delBare, node0)],
    ['DEL of an unknown container (runs the cluster chain) dist/braid', ms(delNever), ratio(delNever, node0)],
    ['dist/braid-shim (daemon down: answers code 11)', ms(shimVersion), ratio(shimVersion, node0)],
  ]);

  // Rounds: every mode runs ROUNDS times on PODS/ROUNDS pods, modes alternating, so drift over
  // the run (machine noise, kernel state) falls on every mode alike instead of on the last ones.
  // The daemons run through all rounds, idle while other modes are measured, as on a node.
  const perRound = Math.max(1, Math.round(PODS / ROUNDS));
  const runs = new Map<Mode, Measured[]>(MODES.map((m) => [m, []]));
  const daemons = new Map<Mode, RunningDaemon>();
  for (const mode of MODES.filter((m) => m.kind === 'daemon')) {
    const socket = join(tmp, `braid-main-${mode.parallel ? 'p' : 's'}.sock`);
    const traceFile = join(tmp, `trace-main-daemon-${mode.parallel ? 'p' : 's'}.jsonl`);
    process.env.BRAID_TRACE = traceFile; // the daemon keeps it
    daemons.set(mode, { child: await startDaemon(`main-${mode.parallel ? 'p' : 's'}`, kubeconfig, mode.parallel, socket), socket, traceFile });
    delete process.env.BRAID_TRACE;
  }
  // The cluster chain alone (a pod with no secondary network), run directly: no schedule that
  // brings the cluster interface up first can attach the 4-network pod faster.
  const clusterAlone: Measured[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of MODES) {
      process.stderr.write(`running: ${mode.name} (round ${r + 1}/${ROUNDS})\n`);
      runs.get(mode)!.push(await measure(mode, pods.slice(0, perRound), 4, api, kubeconfig, `m${r}`, daemons.get(mode)));
    }
    clusterAlone.push(await measure(MODES[0]!, pods.slice(0, perRound), 1, api, kubeconfig, `c${r}`));
  }
  const cluster1 = mergeRuns(clusterAlone);
  for (const [mode, d] of daemons) {
    if (d.child.pid) runs.get(mode)!.push({ add: [], del: [], apiAdd: NaN, apiDel: NaN, leaks: [], failures: 0, rssMiB: rssOf(d.child.pid).hwm });
  }
  const stopDaemons = async () => {
    for (const d of daemons.values()) await stopDaemon(d.child);
    await runtimeSpawner?.close();
  };
  const results: Array<[Mode, Measured]> = MODES.map((m) => [m, mergeRuns(runs.get(m)!)]);
  const of = (kind: Mode['kind'], parallel: boolean) => results.find(([m]) => m.kind === kind && m.parallel === parallel)![1];
  const floor = of('floor', false);
  const floorPar = of('floor', true);
  const oneshotSeq = of('oneshot', false);
  const daemonSeq = of('daemon', false);
  const daemonPar = of('daemon', true);
  const fAdd = median(floor.add);
  const fDel = median(floor.del);
  table(
    `4 networks per pod, ${PODS} pods, sequential pod starts`,
    ['mode', 'ADD med ms', 'ADD p90', 'ADD /floor', 'cores busy during ADDs', 'DEL med ms', 'DEL p90', 'DEL /floor', 'API req/ADD', 'API req/DEL', 'daemon peak RSS MiB', 'failures', 'leaks'],
    results.map(([m, r]) => [
      m.name,
      ms(median(r.add)),
      ms(p90(r.add)),
      ratio(median(r.add), fAdd),
      r.busy !== undefined ? `${(r.busy * 100).toFixed(0)} %` : '-',
      ms(median(r.del)),
      ms(p90(r.del)),
      ratio(median(r.del), fDel),
      r.apiAdd.toFixed(1),
      r.apiDel.toFixed(1),
      r.rssMiB ? r.rssMiB.toFixed(0) : '-',
      String(r.failures),
      String(r.leaks.length),
    ]),
  );
  if (oneshotSeq.traces?.length) table('where a one-shot sequential ADD spends its time (medians, BRAID_TRACE)', ['phase', 'ms'], breakdown(oneshotSeq.traces, oneshotSeq.add, node0));
  if (daemonSeq.traces?.length) table('where a daemon sequential ADD spends its time (medians, BRAID_TRACE)', ['phase', 'ms'], breakdown(daemonSeq.traces, daemonSeq.add, node0, true));
  if (floor.floor) {
    // No schedule beats either bound: the CPU all delegates need spread over every core, and the
    // chain of steps that must follow one another. braid's own work comes on top of both.
    const f = floor.floor;
    const cores = cpus().length;
    const cpuBound = (f.delegateCpu + f.runtimeCpu) / cores;
    const crit = median(f.criticalPath);
    const sched = median(f.scheduleBound);
    const best = Math.max(...[cpuBound, crit, sched].filter(Number.isFinite));
    table('parallel ADD: the best any schedule could do on this machine (from the floor run)', ['quantity', 'value'], [
      ['floor ADD (median ms)', ms(fAdd)],
      ['delegates\' CPU per pod ADD (user+sys ms, children of the runtime)', ms(f.delegateCpu)],
      ["runtime's own CPU per pod ADD (ms)", ms(f.runtimeCpu)],
      ['cores', String(cores)],
      ['CPU bound: (delegates + runtime CPU) / cores (ms)', ms(cpuBound)],
      ['critical path: cluster pod-side plugins + longest of (cluster host-side tail, each secondary chain) (median ms)', ms(crit)],
      ['cluster pod-side plugins alone (wall), then every other delegate\'s CPU over all cores (median ms)', Number.isFinite(sched) ? ms(sched) : '- (needs braid-spawner)'],
      ['computed best parallel ADD (the largest of the three above)', `${ms(best)} ms = ${ratio(best, fAdd)}`],
      // The computed bounds see CPU and ordering only; the kernel also serialises (RTNL, nftables
      // commits, RCU grace periods), so the same schedule run with no meta-plugin is the real bar.
      ['measured: the cluster chain alone, run directly (a pod with only the cluster network)', `${ms(median(cluster1.add))} ms = ${ratio(median(cluster1.add), fAdd)}${cluster1.leaks.length ? ' LEAK' : ''}${cluster1.failures ? ' FAIL' : ''}`],
      ['measured: the parallel schedule run directly by the runtime, no meta-plugin', `${ms(median(floorPar.add))} ms = ${ratio(median(floorPar.add), fAdd)}`],
      ['measured: braid daemon, parallel', `${ms(median(daemonPar.add))} ms = ${ratio(median(daemonPar.add), fAdd)} (${ratio(median(daemonPar.add), median(floorPar.add))} of the direct parallel schedule)`],
      ...[daemonSeq, daemonPar].flatMap((r, i) => {
        const c = r.daemonCpu;
        const name = i ? 'braid daemon, parallel' : 'braid daemon, sequential';
        return c ? [[`${name}: braid's own CPU per pod ADD (daemon + braid-spawner, ms)`, ms(c.self)], [`${name}: its delegates' CPU per pod ADD (ms)`, ms(c.children)]] : [];
      }),
    ]);
  }
  table('goals', ['goal', 'measured', 'met'], [
    ['daemon seq ADD <= 1.2x floor', ratio(median(daemonSeq.add), fAdd), median(daemonSeq.add) <= 1.2 * fAdd ? 'yes' : 'no'],
    ['daemon seq DEL <= 1.2x floor', ratio(median(daemonSeq.del), fDel), median(daemonSeq.del) <= 1.2 * fDel ? 'yes' : 'no'],
    ['daemon parallel ADD <= 0.6x floor', ratio(median(daemonPar.add), fAdd), median(daemonPar.add) <= 0.6 * fAdd ? 'yes' : 'no'],
    [
      'one-shot seq ADD <= floor + 2 x node -e 0',
      `${ms(median(oneshotSeq.add))} vs ${ms(fAdd + 2 * node0)} ms`,
      median(oneshotSeq.add) <= fAdd + 2 * node0 ? 'yes' : 'no',
    ],
    ['API req per pod, daemon (ADD+DEL) <= 1', (daemonSeq.apiAdd + daemonSeq.apiDel).toFixed(1), daemonSeq.apiAdd + daemonSeq.apiDel <= 1 ? 'yes' : 'no'],
    ['API req per pod, one-shot (ADD+DEL) <= 2 + 3 NADs', (oneshotSeq.apiAdd + oneshotSeq.apiDel).toFixed(1), oneshotSeq.apiAdd + oneshotSeq.apiDel <= 5 ? 'yes' : 'no'],
  ]);

  // BENCH_QUICK=1: the main table and goals only.
  if (process.env.BENCH_QUICK) {
    await stopDaemons();
    await api.close();
    return;
  }
  const scaleRows: string[][] = [];
  const scaleLeaks: string[] = [];
  for (const networks of [1, 2, 4, 8]) {
    // Interleaved like the main table, on the same running daemons (pods' annotations change).
    const scale = new Map<Mode, Measured[]>(MODES.map((m) => [m, []]));
    for (let r = 0; r < SCALE_PODS; r++) {
      for (const mode of MODES) {
        process.stderr.write(`scaling: ${networks} networks, ${mode.name} (round ${r + 1}/${SCALE_PODS})\n`);
        scale.get(mode)!.push(await measure(mode, pods.slice(0, 1), networks, api, kubeconfig, `s${networks}r${r}`, daemons.get(mode)));
      }
    }
    const row = [`${networks}`];
    let f = NaN;
    for (const mode of MODES) {
      const m = mergeRuns(scale.get(mode)!);
      scaleLeaks.push(...m.leaks);
      const add = median(m.add);
      if (mode.kind === 'floor' && !mode.parallel) f = add;
      row.push(`${ms(add)} (${ratio(add, f)})${m.leaks.length ? ' LEAK' : ''}${m.failures ? ' FAIL' : ''}`);
    }
    scaleRows.push(row);
  }
  await stopDaemons();
  table(`scaling: ADD median ms (ratio to floor), ${SCALE_PODS} pods`, ['networks', ...MODES.map((m) => m.name)], scaleRows);

  process.stderr.write(`running: ${CONCURRENT} pods at once\n`);
  const c = await concurrentPods(pods.slice(0, CONCURRENT), api, kubeconfig);
  table(`${CONCURRENT} pods added concurrently (daemon, parallel, 4 networks each)`, ['wall ms', 'ADD med ms', 'ADD p90', 'failures', 'leaks', 'daemon peak RSS MiB'], [
    [ms(c.wall), ms(c.median), ms(c.p90), String(c.failures), String(c.leaks.length), c.rss.toFixed(0)],
  ]);

  process.stderr.write('running: daemon RSS with 1,000 pods and 1,000 NADs\n');
  const big = await rssAtScale(api, kubeconfig);
  table('daemon memory with 1,000 pods on the node and 1,000 NADs cached', ['RSS MiB', 'peak RSS MiB', 'goal'], [[big.rss.toFixed(0), big.hwm.toFixed(0), '< 150 MiB']]);

  const allLeaks = [...results.flatMap(([, r]) => r.leaks), ...cluster1.leaks, ...scaleLeaks, ...c.leaks];
  console.log(allLeaks.length ? `\nLEAKS:\n${allLeaks.join('\n')}` : '\nleak check after every mode: nothing left behind');
  if (allLeaks.length) process.exitCode = 1;
  await api.close();
}

process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    cleanup();
    // Nothing may keep a failed run alive (the fake API server, a daemon's pipes).
    process.exit();
  });
