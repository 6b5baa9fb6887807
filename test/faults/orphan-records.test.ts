// No orphan records: records of containers that no longer exist don't accumulate, whatever the
// runtime's DEL habit (containerd ignores DEL errors containing "not found"; a crashed runtime
// never sends DEL), and a sweep never touches the records of a sandbox that still exists.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { braidCli, callBraid, k8sArgs } from '../helpers/braid-runner.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';
import { sh } from '../helpers/sh.js';
import { DaemonProcess, killAllDaemons, waitFor } from '../daemon/daemon-harness.js';

const t = useApiWorld();
afterEach(() => killAllDaemons());

let n = 0;
const scenario = (opts: ConstructorParameters<typeof PodScenario>[3] = {}) => new PodScenario(t.world, t.api, 160 + (n++ % 8) * 4, opts);

const records = (s: PodScenario) =>
  ['plans', 'results'].flatMap((d) => (existsSync(join(s.cniDir, d)) ? readdirSync(join(s.cniDir, d)).filter((f) => !f.startsWith('.')).map((f) => `${d}/${f}`) : []));

function configFile(s: PodScenario): string {
  const f = t.world.dir('braid.conf');
  writeFileSync(f, JSON.stringify(s.config));
  return f;
}

const gc = (s: PodScenario, ...flags: string[]) => braidCli(['gc', '--config', configFile(s), ...flags], { CNI_PATH: '/usr/lib/cni' });

describe('failed pod starts leave no records', () => {
  it('100 failed starts (interface "lo"; macvlan master missing), DEL errors ignored or DEL never sent: 0 records', async () => {
    const s = scenario({ annotation: JSON.stringify([{ name: `${t.world.tag}-a`, interface: 'lo' }]) });
    t.api.addNad(s.podNs, `${t.world.tag}-nomaster`, {
      cniVersion: '1.0.0',
      plugins: [{ type: 'macvlan', master: t.world.name('gone'), ipam: { type: 'host-local', dataDir: s.dataDir, ranges: [[{ subnet: `198.18.${s.base + 2}.0/24` }]] } }],
    });
    const other = t.world.name('pod2');
    const uid2 = String((t.api.addPod({ metadata: { name: other, namespace: s.podNs, annotations: { 'k8s.v1.cni.cncf.io/networks': `${t.world.tag}-nomaster` } }, spec: { nodeName: 'node1' } }) as { metadata: { uid?: string } }).metadata.uid);
    let delsSent = 0;
    const start = async (i: number) => {
      // A kubelet retrying a broken pod: a new sandbox (netns, container ID) each time.
      const ns = t.world.netns(`p${i}-`);
      const call = (command: 'ADD' | 'DEL') =>
        callBraid({ command, containerId: `${t.world.tag}c${i}`, netns: ns.path, args: i % 2 ? k8sArgs(s.podNs, other, uid2) : k8sArgs(s.podNs, s.podName, s.podUid), config: s.config });
      const add = await call('ADD');
      expect(add.status).toBe(1);
      if ((i >> 1) % 2 === 0) {
        // containerd: a DEL error containing "not found" is ignored, the sandbox removed anyway.
        const del = await call('DEL');
        delsSent++;
        if (del.status !== 0) expect(String(del.json.msg)).toContain('not found');
      }
      sh('ip', ['netns', 'del', ns.name]);
    };
    // Four pod starts at a time, as a kubelet runs them.
    for (let i = 0; i < 100; i += 4) await Promise.all([0, 1, 2, 3].map((k) => start(i + k)));
    expect(delsSent).toBe(50);
    expect(records(s)).toEqual([]);
    expect(s.leftovers()).toEqual(CLEAN);
  }, 600_000);
});

describe('records of containers that are gone', () => {
  it('DEL never sent, netns gone: braid gc --dry-run lists it and why, the grace period protects it, braid gc tears it down', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    sh('ip', ['netns', 'del', s.ns.name]); // the runtime crashed; its netns went with the node's cleanup
    const dry = await gc(s, '--dry-run', '--grace', '0', '--format', 'json');
    expect(dry.status).toBe(0);
    const listed = JSON.parse(dry.stdout) as { dryRun: boolean; records: Array<Record<string, unknown>> };
    expect(listed.dryRun).toBe(true);
    expect(listed.records).toEqual([
      expect.objectContaining({ record: `plans/${s.containerId}-eth0`, containerId: s.containerId, pod: `${s.podNs}/${s.podName}`, action: 'would remove', reason: expect.stringContaining(`netns ${s.ns.path} is gone`) }),
    ]);
    expect(records(s).length).toBeGreaterThan(0);
    const young = await gc(s, '--grace', '3600');
    expect(young.stdout).toBe('no orphan records\n');
    expect(records(s).length).toBeGreaterThan(0);
    const done = await gc(s, '--grace', '0');
    expect(done.status).toBe(0);
    expect(done.stdout).toContain(`removed: plans/${s.containerId}-eth0`);
    expect(s.leftovers()).toEqual(CLEAN); // reservations, bandwidth ifb, records: all gone
    // The runtime's DEL, should it come after all, still succeeds.
    expect((await s.call('DEL')).status).toBe(0);
  });

  it('containerd ignores a strict DEL failure containing "not found": the record stays until the sweep, which frees the IPs', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    sh('ip', ['link', 'del', t.world.ownLinks().find((l) => l.endsWith('ma'))!]); // macvlan's master unplugged
    const del = await s.call('DEL');
    expect(del.status).toBe(1);
    expect(del.json.msg).toContain('Link not found'); // strict: the macvlan attachment had been added
    sh('ip', ['netns', 'del', s.ns.name]); // ...and containerd removes the sandbox anyway
    expect(records(s)).toContain(`plans/${s.containerId}-eth0`);
    const done = await gc(s, '--grace', '0');
    expect(done.stdout).toContain(`removed: plans/${s.containerId}-eth0`);
    expect(s.leftovers()).toEqual(CLEAN);
    const log = readFileSync(String(s.config.logFile), 'utf8');
    expect(log).toMatch(/"level":50.*"network":"[^"]*-b".*gave up/);
  });

  it('never sweeps a sandbox that may still exist: netns present, or in a directory braid cannot see', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    expect((await gc(s, '--grace', '0')).stdout).toBe('no orphan records\n');
    const planFile = join(s.cniDir, 'plans', `${s.containerId}-eth0`);
    const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(planFile, JSON.stringify({ ...plan, netns: `/run/${t.world.tag}-not-mounted/cni-x` }));
    expect((await gc(s, '--grace', '0')).stdout).toBe('no orphan records\n');
    writeFileSync(planFile, JSON.stringify(plan));
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it("the daemon's periodic sweep removes them too, and counts them", async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    const d = await DaemonProcess.start({ config: configFile(s), socket: t.world.dir('d.sock'), args: ['--sweep-interval', '0.5', '--sweep-grace', '1'], env: { CNI_PATH: '/usr/lib/cni' } });
    await new Promise((r) => setTimeout(r, 1500));
    expect(records(s).length).toBeGreaterThan(0); // netns still there: nothing swept
    sh('ip', ['netns', 'del', s.ns.name]);
    await waitFor('the sweep', () => records(s).length === 0 || undefined, 15_000);
    expect(await d.metric('braid_orphan_records_swept_total')).toBeGreaterThanOrEqual(1);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});
