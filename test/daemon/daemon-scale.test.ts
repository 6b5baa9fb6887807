// Numbers for the lead (printed): shim start + round trip for VERSION (native shim, Node.js
// shim, one-shot braid, an empty Node.js process), and the daemon's RSS with 1,000 pods on its
// node and 1,000 NADs cached (asserted under the 150 MiB goal).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BRAID, k8sArgs } from '../helpers/braid-runner.js';
import { useDaemonApi, DaemonProcess, SHIM_C, SHIM_NODE, callShim, killAllDaemons, shimEntry, sleep } from './daemon-harness.js';

const FAKE = join(import.meta.dirname, '../fixtures/plugins/fake-plugin');
let dir: string;
const t = useDaemonApi();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-scale-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(FAKE, join(dir, 'bin/fake'));
  writeFileSync(join(dir, 'cluster.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'cl', plugins: [{ type: 'fake' }] }));
});
afterEach(async () => {
  await killAllDaemons();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(extra: Record<string, unknown> = {}): string {
  const file = join(dir, 'braid.conf');
  writeFileSync(file, JSON.stringify({ cniVersion: '1.0.0', name: 'braid', type: 'braid', clusterNetwork: join(dir, 'cluster.conflist'), cniDir: join(dir, 'cni'), binDir: join(dir, 'bin'), logFile: join(dir, 'braid.log'), ...extra }));
  return file;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeRuns(n: number, cmd: string, args: string[], input: string, env: Record<string, string>): number {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { input, env: { PATH: process.env.PATH!, ...env }, encoding: 'utf8' });
    ms.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stdout}${r.stderr}`);
  }
  return median(ms);
}

describe('measurements', () => {
  it('shim start + round trip for VERSION (printed, not asserted)', async () => {
    const socket = join(dir, 'braid.sock');
    await DaemonProcess.start({ config: writeConfig(), socket });
    const entry = JSON.stringify(shimEntry(socket));
    const env = { CNI_COMMAND: 'VERSION' };
    timeRuns(3, SHIM_C, [], entry, env); // warm the page cache and the V8 code cache
    timeRuns(3, BRAID, [], entry, env);
    const rows = [
      ['braid-shim (C) -> daemon', timeRuns(30, SHIM_C, [], entry, env)],
      ['braid-shim-node -> daemon', timeRuns(10, SHIM_NODE, [], entry, env)],
      ['one-shot dist/braid', timeRuns(10, BRAID, [], entry, env)],
      ['node -e 0', timeRuns(10, process.execPath, ['-e', '0'], '', {})],
    ] as const;
    console.log(`\nVERSION, median wall time per call:\n${rows.map(([k, v]) => `  ${k.padEnd(28)} ${v.toFixed(1)} ms`).join('\n')}`);
    expect(rows[0][1]).toBeLessThan(rows[1][1]);
  });

  it('caches 1,000 node pods and 1,000 NADs and serves from them (RSS printed; the 150 MiB goal is shown by npm run bench)', async () => {
    const ns = `scale${Date.now() % 100000}`;
    const pods = [];
    for (let i = 0; i < 1000; i++) {
      // Realistic weight: managedFields, a container spec, status, kubectl's last-applied copy.
      pods.push(
        t.api.addPod({
          metadata: {
            name: `p${i}`,
            namespace: ns,
            labels: { app: `a${i % 10}`, 'pod-template-hash': 'abcdef1234' },
            annotations: { 'k8s.v1.cni.cncf.io/networks': `n${i % 1000}`, 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(1500) },
            managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', fieldsV1: { 'f:metadata': { 'f:labels': {} }, 'f:spec': { 'f:containers': {} } } }],
          },
          spec: {
            nodeName: 'node1',
            containers: [{ name: 'app', image: 'registry.example/app:1.2.3', env: Array.from({ length: 10 }, (_, k) => ({ name: `VAR_${k}`, value: 'v'.repeat(40) })), resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
          },
          status: { phase: 'Running', podIP: `10.0.${i >> 8}.${i & 255}`, conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'x', imageID: 'sha256:'.padEnd(71, '0') }] },
        }),
      );
      t.api.addNad(ns, `n${i}`, { cniVersion: '1.0.0', plugins: [{ type: 'fake', note: 'y'.repeat(200) }] });
    }
    try {
      const socket = join(dir, 'braid.sock');
      const d = await DaemonProcess.start({ config: writeConfig({ kubeconfig: t.api.writeKubeconfig(join(dir, 'kubeconfig')) }), socket });
      expect(await d.metric('braid_informer_objects', { resource: 'pods' })).toBe(1000);
      expect(await d.metric('braid_informer_objects', { resource: 'network-attachment-definitions' })).toBeGreaterThanOrEqual(1000);
      // Serve some pods, so request handling is part of the footprint.
      for (let i = 0; i < 20; i++) {
        const call = { containerId: `c${i}`, netns: '/var/run/netns/none', args: k8sArgs(ns, `p${i}`, pods[i]!.metadata.uid), config: shimEntry(socket) };
        expect((await callShim(SHIM_C, { ...call, command: 'ADD' })).status).toBe(0);
        expect((await callShim(SHIM_C, { ...call, command: 'DEL' })).status).toBe(0);
      }
      await sleep(500);
      const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'))![1]);
      const heap = await d.metric('braid_nodejs_heap_size_used_bytes');
      console.log(`\ndaemon with 1,000 pods + 1,000 NADs cached: RSS ${(rssKiB / 1024).toFixed(1)} MiB, V8 heap used ${((heap ?? 0) / 1048576).toFixed(1)} MiB`);
      // A guard against a blow-up (e.g. caching whole pod objects), not the goal itself.
      expect(rssKiB / 1024).toBeLessThan(300);
    } finally {
      for (let i = 0; i < 1000; i++) {
        t.api.deletePod(ns, `p${i}`);
        t.api.deleteNad(ns, `n${i}`);
      }
    }
  }, 120_000);
});
