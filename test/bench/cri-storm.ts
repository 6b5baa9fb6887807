// The node-reboot storm (part of `npm run bench`, as root, with containerd installed): a node
// comes back and kubelet asks containerd for all its pods at once. 50 RunPodSandbox calls in
// parallel over CRI to a private containerd whose CRI plugin runs
//   cluster   the cluster network alone (bridge + host-local + portmap), no braid: the baseline
//   braid     braid in daemon mode (braid-shim entry from `braid install --daemon`) in front of
//             the same cluster network, pods selecting no other network
//   braid+2   the same, each pod also on two NADs (bridge, macvlan) from its annotations
//   braid+2 wide  the same with a wider delegate limit (--max-delegates 16)
// measured in the same run, modes alternating round by round. Reports wall time to all-ready,
// RunPodSandbox latency p50/p99, failures, leaks after stop + remove, the daemon's peak RSS, and
// how its delegate limit (--max-delegates) queued the storm. Prints ratios; asserts nothing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriClient } from '../../src/cri/cri-client.js';
import { PrivateContainerd, containerdMissing, libcniCacheFiles } from '../../src/cri/private-containerd.js';
import { table } from './bench-table.js';

const PODS = Number(process.env.BENCH_STORM_PODS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_STORM_ROUNDS ?? 3));
const REPO = process.cwd();
const BRAID = join(REPO, 'dist/braid');
const CNI_BIN = '/usr/lib/cni';
const TAG = `bs${process.pid.toString(36).slice(-4)}`;
const SUBNET = (i: number) => `198.19.${240 + i}.0/24`;

interface Mode {
  name: string;
  braid: boolean;
  /** NADs each pod selects (from local files, through the runtime's annotations). */
  nads: 0 | 2;
  /** --max-delegates; undefined: the daemon's default (2 per CPU, at least 4). */
  maxDelegates?: number;
}
const MODES: Mode[] = [
  { name: 'cluster', braid: false, nads: 0 },
  { name: 'braid', braid: true, nads: 0 },
  { name: 'braid+2', braid: true, nads: 2 },
  { name: 'braid+2 wide', braid: true, nads: 2, maxDelegates: 16 },
];
const defaultLimit = Math.max(4, 2 * cpus().length);

interface Storm {
  wall: number;
  latencies: number[];
  failures: string[];
  removeWall: number;
  leaks: string[];
  peakRssMiB?: number;
  peakWaiting?: number;
  peakRunning?: number;
  peakInflight?: number;
}

const tmp = mkdtempSync(join(tmpdir(), 'braid-storm-'));
const live: Array<{ ctd: PrivateContainerd; daemon?: ChildProcess }> = [];

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((s.length * p) / 100) - 1)]! : NaN;
};
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const ratio = (x: number, base: number) => (Number.isFinite(x) && base > 0 ? `${(x / base).toFixed(2)}x` : '-');

function httpGet(socket: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

const metric = (text: string, name: string, label = '') =>
  text
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(label))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);

/** Ports left on this run's bridges, and host-local reservations left in its dir. */
function hostState(dir: string): { links: string[]; reservations: string[] } {
  const links = [`${TAG}c0`, `${TAG}a0`].flatMap((bridge) =>
    (JSON.parse(spawnSync('ip', ['-j', 'link', 'show', 'master', bridge], { encoding: 'utf8' }).stdout || '[]') as Array<{ ifname: string }>).map((l) => `${l.ifname} on ${bridge}`),
  );
  const ipam = join(dir, 'ipam');
  const reservations = existsSync(ipam) ? readdirSync(ipam).flatMap((net) => readdirSync(join(ipam, net)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)).map((f) => `${net}/${f}`)) : [];
  return { links, reservations };
}

/** One node per mode and round: its own containerd, CNI dirs, braid daemon when asked. */
async function storm(mode: Mode, round: number): Promise<Storm> {
  const dir = join(tmp, `${MODES.indexOf(mode)}-${round}`);
  const ctd = new PrivateContainerd({ dir: join(dir, 'ctd'), logLevel: 'warn' });
  const node: { ctd: PrivateContainerd; daemon?: ChildProcess } = { ctd };
  live.push(node);
  for (const f of readdirSync(CNI_BIN)) symlinkSync(join(CNI_BIN, f), join(ctd.cniBinDir, f));
  const ipam = (i: number) => ({ type: 'host-local', dataDir: join(dir, 'ipam'), ranges: [[{ subnet: SUBNET(i) }]] });
  const clusterFile = join(ctd.cniConfDir, '10-cluster.conflist');
  writeFileSync(
    clusterFile,
    JSON.stringify({
      cniVersion: '1.0.0',
      name: `${TAG}-cluster`,
      plugins: [
        { type: 'bridge', bridge: `${TAG}c0`, isGateway: true, ipMasq: false, ipam: { ...ipam(0), routes: [{ dst: '0.0.0.0/0' }] } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  const networksDir = join(dir, 'networks');
  mkdirSync(networksDir);
  const master = `${TAG}m`;
  if (mode.nads) {
    writeFileSync(join(networksDir, 'side-a.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'side-a', plugins: [{ type: 'bridge', bridge: `${TAG}a0`, ipam: ipam(1) }] }));
    writeFileSync(join(networksDir, 'side-b.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'side-b', plugins: [{ type: 'macvlan', master, mode: 'bridge', ipam: ipam(2) }] }));
  }
  const socket = join(dir, 'braid.sock');
  if (mode.braid) {
    const config = join(dir, 'braid.conf');
    writeFileSync(
      config,
      JSON.stringify({ cniVersion: '1.0.0', name: 'braid-cni-network', type: 'braid', clusterNetwork: clusterFile, confDir: networksDir, cniDir: join(dir, 'braid'), binDir: ctd.cniBinDir, logFile: join(dir, 'braid.log'), logLevel: 'warn' }),
    );
    node.daemon = spawn(BRAID, ['daemon', '--config', config, '--socket', socket, '--node-name', 'node1', ...(mode.maxDelegates ? ['--max-delegates', String(mode.maxDelegates)] : [])], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '--max-semi-space-size=4' }, // as the DaemonSet runs it
    });
    for (let i = 0; (await httpGet(socket, '/readyz')).status !== 200; i++) {
      if (i > 600) throw new Error('braid daemon did not become ready');
      await new Promise((r) => setTimeout(r, 50));
    }
    const inst = spawnSync(BRAID, ['install', '--cni-conf-dir', ctd.cniConfDir, '--cni-bin-dir', ctd.cniBinDir, '--daemon', '--daemon-socket', socket, '--wait-timeout', '5'], { encoding: 'utf8' });
    if (inst.status !== 0) throw new Error(`braid install failed: ${inst.stderr}`);
  }
  await ctd.start();
  ctd.importPauseImage();
  const cri = new CriClient(ctd.socket, 300_000);
  const annotations: Record<string, string> = mode.nads ? { 'k8s.v1.cni.cncf.io/networks': 'side-a,side-b@mv0' } : {};

  // Sample the daemon's limiter and memory while the storm runs.
  let sampling = !!node.daemon;
  const peaks = { waiting: 0, running: 0, inflight: 0 };
  const sampler = (async () => {
    while (sampling) {
      const m = (await httpGet(socket, '/metrics')).body;
      peaks.waiting = Math.max(peaks.waiting, metric(m, 'braid_delegates_waiting'));
      peaks.running = Math.max(peaks.running, metric(m, 'braid_delegates_running'));
      peaks.inflight = Math.max(peaks.inflight, metric(m, 'braid_cni_inflight_operations', 'verb="ADD"'));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const latencies: number[] = [];
  const failures: string[] = [];
  const ids: string[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: PODS }, async (_, i) => {
      const s = performance.now();
      try {
        ids.push(await cri.runPodSandbox({ metadata: { name: `storm-${i}`, namespace: 'bench', uid: `${TAG}-${round}-${i}`, attempt: 0 }, annotations, linux: {} }));
        latencies.push(performance.now() - s);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }),
  );
  const wall = performance.now() - t0;
  sampling = false;
  await sampler;
  const hwm = node.daemon ? Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${node.daemon.pid}/status`, 'utf8'))?.[1]) / 1024 : undefined;

  const r0 = performance.now();
  const listed = await cri.listPodSandbox();
  await Promise.all(
    listed.map(async (p) => {
      await cri.stopPodSandbox(p.id);
      await cri.removePodSandbox(p.id);
    }),
  );
  const removeWall = performance.now() - r0;
  const left = hostState(dir);
  const leaks = [
    ...left.links.map((l) => `link ${l}`),
    ...left.reservations.map((r) => `reservation ${r}`),
    ...libcniCacheFiles(listed.map((p) => p.id)),
    ...(existsSync(ctd.netnsDir) ? readdirSync(ctd.netnsDir).map((n) => `netns ${n}`) : []),
    ...['results', 'plans'].flatMap((d) => (existsSync(join(dir, 'braid', d)) ? readdirSync(join(dir, 'braid', d)).map((f) => `braid ${d}/${f}`) : [])),
    ...(await cri.listPodSandbox()).map((p) => `sandbox ${p.id}`),
  ];
  cri.close();
  await teardown(node);
  rmSync(dir, { recursive: true, force: true });
  return {
    wall,
    latencies,
    failures,
    removeWall,
    leaks,
    ...(hwm !== undefined ? { peakRssMiB: hwm, peakWaiting: peaks.waiting, peakRunning: peaks.running, peakInflight: peaks.inflight } : {}),
  };
}

async function teardown(node: { ctd: PrivateContainerd; daemon?: ChildProcess }): Promise<void> {
  await node.ctd.destroy();
  if (node.daemon && node.daemon.exitCode === null) {
    const exited = new Promise((r) => node.daemon!.once('exit', r));
    node.daemon.kill('SIGKILL');
    await exited;
  }
  for (const l of [`${TAG}c0`, `${TAG}a0`]) spawnSync('ip', ['link', 'del', l], { stdio: 'ignore' });
  live.splice(live.indexOf(node), 1);
}

async function main(): Promise<void> {
  const missing = containerdMissing();
  if (missing) {
    console.log(`\nnode-reboot storm over CRI: skipped (${missing})`);
    return;
  }
  // The macvlan master for braid+2: one veth end (no dummy module on every machine).
  spawnSync('ip', ['link', 'add', `${TAG}m`, 'type', 'veth', 'peer', 'name', `${TAG}n`]);
  spawnSync('ip', ['link', 'set', `${TAG}m`, 'up']);
  const results = new Map<Mode, Storm[]>(MODES.map((m) => [m, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 ? [...MODES].reverse() : MODES) {
      process.stderr.write(`storm: ${mode.name}, round ${round + 1}/${ROUNDS}, ${PODS} sandboxes\n`);
      results.get(mode)!.push(await storm(mode, round));
    }
  }
  spawnSync('ip', ['link', 'del', `${TAG}m`]);

  const agg = (mode: Mode) => {
    const rs = results.get(mode)!;
    const lat = rs.flatMap((r) => r.latencies);
    const median = (xs: number[]) => pct(xs, 50);
    return {
      wall: median(rs.map((r) => r.wall)),
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      remove: median(rs.map((r) => r.removeWall)),
      failures: rs.reduce((n, r) => n + r.failures.length, 0),
      leaks: rs.flatMap((r) => r.leaks),
      rss: Math.max(...rs.map((r) => r.peakRssMiB ?? NaN)),
      waiting: Math.max(...rs.map((r) => r.peakWaiting ?? NaN)),
      running: Math.max(...rs.map((r) => r.peakRunning ?? NaN)),
      inflight: Math.max(...rs.map((r) => r.peakInflight ?? NaN)),
      firstFailure: rs.flatMap((r) => r.failures)[0],
    };
  };
  const base = agg(MODES[0]!);
  table(
    `node-reboot storm: ${PODS} RunPodSandbox at once through containerd ${containerdVersion()}, ${ROUNDS} rounds: times to all ready and to all removed are medians over rounds, latencies pooled over all sandboxes (ratio to the cluster network alone)`,
    ['mode', 'all ready ms', 'p50 ms', 'p99 ms', 'stop+remove all ms', 'failures', 'leaks', 'daemon peak RSS MiB'],
    MODES.map((m) => {
      const a = agg(m);
      return [
        m.name,
        `${ms(a.wall)} (${ratio(a.wall, base.wall)})`,
        `${ms(a.p50)} (${ratio(a.p50, base.p50)})`,
        `${ms(a.p99)} (${ratio(a.p99, base.p99)})`,
        `${ms(a.remove)} (${ratio(a.remove, base.remove)})`,
        String(a.failures),
        String(a.leaks.length),
        Number.isFinite(a.rss) ? a.rss.toFixed(0) : '-',
      ];
    }),
  );
  table(
    "the daemon's delegate limit during the storm (peaks sampled every 20 ms)",
    ['mode', '--max-delegates', 'ADDs in flight', 'delegates running', 'delegates queued'],
    MODES.filter((m) => m.braid).map((m) => {
      const a = agg(m);
      return [m.name, m.maxDelegates ? String(m.maxDelegates) : `${defaultLimit} (default)`, String(a.inflight), String(a.running), String(a.waiting)];
    }),
  );
  for (const m of MODES) {
    const a = agg(m);
    if (a.firstFailure) console.log(`${m.name}: first failure: ${a.firstFailure}`);
    if (a.leaks.length) console.log(`${m.name}: LEAKS:\n  ${a.leaks.join('\n  ')}`);
  }
  if (MODES.some((m) => agg(m).leaks.length)) process.exitCode = 1;
  else console.log('\nleak check after every storm: nothing left behind');
}

/** containerd's version string, for the table's title. */
const containerdVersion = () => /containerd \S+ (\S+)/.exec(spawnSync('containerd', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '';

async function cleanup(): Promise<void> {
  for (const n of [...live]) await teardown(n).catch(() => undefined);
  spawnSync('ip', ['link', 'del', `${TAG}m`], { stdio: 'ignore' });
  rmSync(tmp, { recursive: true, force: true });
}

process.on('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});
main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    process.exit();
  });
