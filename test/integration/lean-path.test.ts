// A CNI call loads only what it needs. The loader compiles the heavy chunk
// (Kubernetes client, ajv, prom-client) only on first use, and writes a code-cache file per
// chunk it compiled; with a private cache dir, no heavy-* file means it was never loaded.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { callBraid, k8sArgs, BRAID } from '../helpers/braid-runner.js';
import { spawnSync } from 'node:child_process';

const t = useApiWorld();

/** A conf dir whose cluster network is a loopback-only conflist. */
function loopbackCluster(): { confDir: string; cluster: string } {
  const confDir = t.world.dir('net.d');
  mkdirSync(confDir, { recursive: true });
  const cluster = join(confDir, '10-lo.conflist');
  writeFileSync(cluster, JSON.stringify({ cniVersion: '1.0.0', name: t.world.name('lo'), plugins: [{ type: 'loopback' }] }));
  return { confDir, cluster };
}

function chunks(dir: string): string[] {
  return readdirSync(dir).map((f) => f.split('-').slice(0, 2).join('-')).sort();
}

it('VERSION, DEL, and ADD with annotations from the runtime never load the heavy chunk', async () => {
  const cache = t.world.dir('compile-cache');
  const env = { BRAID_COMPILE_CACHE: cache };
  const ns = t.world.netns();
  const { confDir, cluster } = loopbackCluster();
  // As braid install writes it: JSON.
  const kubeconfig = t.api.writeKubeconfig(t.world.dir('kubeconfig.json'), { format: 'json' });
  t.api.addPod({ metadata: { name: 'p', namespace: 'lean' } });
  const config = {
    cniVersion: '1.0.0',
    name: 'braid',
    type: 'braid',
    kubeconfig,
    clusterNetwork: cluster,
    confDir,
    cniDir: t.world.dir('braid'),
    runtimeConfig: { 'io.kubernetes.cri.pod-annotations': {} },
  };
  const call = { containerId: `lean${t.world.tag}`, netns: ns.path, ifname: 'lo', args: k8sArgs('lean', 'p'), config, env };
  expect((await callBraid({ ...call, command: 'VERSION' })).status).toBe(0);
  expect((await callBraid({ ...call, command: 'ADD' })).status).toBe(0);
  expect((await callBraid({ ...call, command: 'DEL' })).status).toBe(0);
  expect(t.api.count({ method: 'GET' })).toBe(0); // annotations came from the runtime
  expect(t.api.count({ method: 'PATCH' })).toBe(1);
  expect(chunks(cache)).toEqual(['app-ADD', 'app-DEL', 'app-VERSION']);

  // The check can fail: validate does load ajv from the heavy chunk.
  spawnSync(BRAID, ['validate', cluster], { env: { ...process.env, ...env } });
  expect(chunks(cache)).toContain('heavy-cli');
});

it('BRAID_TRACE: one line per call with its phase marks in order, file 0600; at the default level no log file is made', async () => {
  const ns = t.world.netns();
  const { confDir, cluster } = loopbackCluster();
  const trace = t.world.dir('trace.jsonl');
  const logFile = t.world.dir('logs/braid.log');
  const config = { cniVersion: '1.0.0', name: 'braid', type: 'braid', clusterNetwork: cluster, confDir, cniDir: t.world.dir('braid'), logFile };
  const call = { containerId: `tr${t.world.tag}`, netns: ns.path, ifname: 'lo', config, env: { BRAID_TRACE: trace } };
  expect((await callBraid({ ...call, command: 'ADD' })).status).toBe(0);
  expect((await callBraid({ ...call, command: 'DEL' })).status).toBe(0);
  const lines = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { command: string; marks: Array<[string, number]> });
  expect(lines.map((l) => l.command)).toEqual(['ADD', 'DEL']);
  const add = lines[0]!.marks;
  expect(add.map(([label]) => label)).toEqual(['app', 'context', 'locked', 'planned', 'plan-written', 'exec loopback', 'exited loopback', 'delegates-done', 'status-written', 'answered']);
  const times = add.map(([, ms]) => ms);
  expect([...times].sort((a, b) => a - b)).toEqual(times);
  expect(statSync(trace).mode & 0o777).toBe(0o600);
  // Nothing at warn or above happened, so pino was never built and the log file never opened.
  expect(existsSync(logFile)).toBe(false);
  // The check can fail: a warning (an unknown config key) does open and write it.
  const warned = { ...call, containerId: `tr2${t.world.tag}`, config: { ...config, notABraidKey: 1 } };
  expect((await callBraid({ ...warned, command: 'DEL' })).status).toBe(0);
  expect(readFileSync(logFile, 'utf8')).toContain('notABraidKey');
  expect(statSync(logFile).mode & 0o777).toBe(0o600);
});
