// 200 pod lifecycles, 8 at a time, through the daemon and the native shim, with a
// delegate fault in one pod in ten (seeded, reproducible: BRAID_SOAK_SEED). Afterwards: no
// leaked reservation, link, rule or record, no wedged pod, and daemon memory flat.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfList } from '../../src/cni/config.js';
import { Engine, type RuntimeConf } from '../../src/engine/engine.js';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';
import { TestWorld, traces, NO_TRACES } from '../helpers/netns.js';
import { BRAID, assertBuilt } from '../helpers/braid-runner.js';
import { FAKE_PLUGIN } from '../helpers/pod-scenario.js';
import { sh } from '../helpers/sh.js';

const LIFECYCLES = Number(process.env.BRAID_SOAK_PODS ?? 200);
const CONCURRENCY = 8;
const SEED = Number(process.env.BRAID_SOAK_SEED ?? 20261122);
const FAULTS = [{ add: 'error:7' }, { add: 'crash' }, { add: 'garbage' }, { add: 'error:11' }, { del: 'once:error:11' }, { del: 'once:crash' }];

// mulberry32: tiny seeded PRNG, so a failing run can be replayed exactly.
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let api: FakeApiServer;
let world: TestWorld;
let daemon: ChildProcess;
let socket: string;

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const ready = (path: string) =>
  new Promise<boolean>((resolve) => {
    const req = request({ socketPath: path, path: '/readyz' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });

beforeAll(async () => {
  assertBuilt();
  api = await startFakeApiServer();
  world = new TestWorld();
});
afterAll(async () => {
  if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
  await world.cleanup();
  await api.close();
});

it(`soak: ${LIFECYCLES} pod lifecycles, ${CONCURRENCY} at a time, 1 in 10 with a fault (seed ${SEED})`, async () => {
  const bin = world.dir('bin');
  const confDir = world.dir('net.d');
  const dataDir = world.dir('ipam');
  const cniDir = world.dir('braid');
  mkdirSync(bin, { recursive: true });
  mkdirSync(confDir, { recursive: true });
  copyFileSync(FAKE_PLUGIN, join(bin, 'fake'));
  copyFileSync(join(BRAID, '../braid-shim'), join(bin, 'braid-shim'));
  const { a: master } = world.veth('m');
  const ipam = (octet: number) => ({ type: 'host-local', dataDir, ranges: [[{ subnet: `198.18.${octet}.0/24` }]] });
  const clusterFile = join(confDir, '10-cluster.conflist');
  writeFileSync(clusterFile, JSON.stringify({ cniVersion: '1.0.0', name: world.name('cl'), plugins: [{ type: 'bridge', bridge: world.name('c0'), isGateway: true, ipam: { ...ipam(240), routes: [{ dst: '0.0.0.0/0' }] } }] }));
  api.addNad('soak', 'mv', { cniVersion: '1.0.0', plugins: [{ type: 'macvlan', master, mode: 'bridge', ipam: ipam(241) }] });
  api.addNad('soak', 'faulty', { cniVersion: '1.0.0', plugins: [{ type: 'bridge', bridge: world.name('f0'), ipam: ipam(242) }, { type: 'fake' }] });
  const configFile = world.dir('daemon.json');
  writeFileSync(
    configFile,
    JSON.stringify({ cniVersion: '1.0.0', name: 'braid', type: 'braid', kubeconfig: api.writeKubeconfig(world.dir('kubeconfig')), clusterNetwork: clusterFile, confDir, cniDir, binDir: `${bin}:/usr/lib/cni`, parallel: true, delegateTimeout: 5, logFile: world.dir('daemon.log') }),
  );
  socket = world.dir('braid.sock');
  daemon = spawn(BRAID, ['daemon', '--config', configFile, '--socket', socket, '--node-name', 'soak-node'], {
    stdio: 'ignore',
    env: { ...process.env, NODE_OPTIONS: '--max-semi-space-size=4' }, // as the DaemonSet runs it
  });
  for (let i = 0; i < 200 && !(await ready(socket)); i++) await new Promise((r) => setTimeout(r, 50));
  expect(await ready(socket)).toBe(true);

  const list = parseConfList({ cniVersion: '1.0.0', name: 'braid', plugins: [{ type: 'braid-shim', daemonSocket: socket }] });
  const runtime = new Engine({ path: [bin, '/usr/lib/cni'], cacheDir: world.dir('runtime-cache') });
  const random = prng(SEED);
  const plans = Array.from({ length: LIFECYCLES }, (_, i) => ({ i, fault: random() < 0.1 ? FAULTS[Math.floor(random() * FAULTS.length)]! : undefined }));
  const outcome = { added: 0, addFailed: 0, delRetries: 0, wedged: [] as string[] };
  const containerIds: string[] = [];
  const rss: number[] = [];

  async function lifecycle({ i, fault }: (typeof plans)[number]) {
    const pod = `p${i}`;
    const ns = world.netns(`s${i}`);
    const cniArgs = fault ? { fake: fault, fakeState: world.dir(`state-${i}`) } : {};
    api.addPod({ metadata: { name: pod, namespace: 'soak', annotations: { 'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'mv' }, { name: 'faulty', 'cni-args': cniArgs }]) } }, spec: { nodeName: 'soak-node' } });
    const rt: RuntimeConf = { containerId: `soak${world.tag}${i}`, netns: ns.path, ifname: 'eth0', args: [['IgnoreUnknown', '1'], ['K8S_POD_NAMESPACE', 'soak'], ['K8S_POD_NAME', pod]], capabilityArgs: {} };
    containerIds.push(rt.containerId);
    try {
      await runtime.addList(list, rt);
      outcome.added++;
    } catch {
      outcome.addFailed++;
    }
    // The runtime always follows with DEL, retrying until it succeeds.
    for (let attempt = 0; ; attempt++) {
      try {
        await runtime.delList(list, rt);
        break;
      } catch (e) {
        outcome.delRetries++;
        if (attempt === 4) {
          outcome.wedged.push(`${pod}: ${(e as Error).message}`);
          break;
        }
      }
    }
    sh('ip', ['netns', 'del', ns.name], { allowFail: true });
    api.deletePod('soak', pod);
    if (i === 50 || i === LIFECYCLES - 1) rss.push(rssMiB(daemon.pid!));
  }

  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < plans.length) await lifecycle(plans[next++]!);
    }),
  );

  const faulty = plans.filter((p) => p.fault).length;
  console.log(`soak seed ${SEED}: ${LIFECYCLES} lifecycles, ${faulty} with a fault; ADD ok ${outcome.added}, failed ${outcome.addFailed}; DEL retries ${outcome.delRetries}; daemon RSS ${rss.map((r) => r.toFixed(0)).join(' -> ')} MiB`);
  expect(outcome.wedged).toEqual([]);
  expect(outcome.addFailed).toBe(plans.filter((p) => p.fault && 'add' in p.fault).length);
  expect(traces({ tag: world.tag, containerIds, dataDirs: [dataDir], ignoreLinks: world.ownLinks() })).toEqual(NO_TRACES);
  for (const d of ['plans', 'results', 'locks']) {
    expect(existsSync(join(cniDir, d)) ? readdirSync(join(cniDir, d)).filter((f) => !f.startsWith('.')) : [], d).toEqual([]);
  }
  // Flat: after warm-up, 150 more lifecycles may not grow the daemon by more than 25 MiB.
  expect(rss[1]! - rss[0]!).toBeLessThan(25);
}, 600_000);
