// Lost records: a container's plan (and result records) deleted or truncated before its DEL.
// With the API up, DEL rebuilds what to tear down from the pod's network-status and the NADs it
// names, and leaves nothing; with the API down, it keeps a record that a later DEL or braid gc
// uses to finish the job. Only this path of DEL calls the API.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { braidCli } from '../helpers/braid-runner.js';
import { ifaceIn } from '../helpers/netns.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';
import { sh } from '../helpers/sh.js';

const t = useApiWorld();

let n = 0;
const scenario = (opts: ConstructorParameters<typeof PodScenario>[3] = {}) => new PodScenario(t.world, t.api, 60 + (n++ % 10) * 4, opts);

const dirFiles = (s: PodScenario, d: string) => (existsSync(join(s.cniDir, d)) ? readdirSync(join(s.cniDir, d)).filter((f) => !f.startsWith('.')) : []);

type Loss = 'plan deleted' | 'plan truncated' | 'plan and results deleted' | 'plan truncated, results deleted';
function lose(s: PodScenario, how: Loss): void {
  const plan = join(s.cniDir, 'plans', `${s.containerId}-eth0`);
  if (how.startsWith('plan deleted') || how === 'plan and results deleted') rmSync(plan);
  if (how.startsWith('plan truncated')) writeFileSync(plan, readFileSync(plan, 'utf8').slice(0, 40));
  if (how.includes('results deleted')) for (const f of dirFiles(s, 'results')) rmSync(join(s.cniDir, 'results', f));
}

/** ADD, lose the records, and DEL while the API server is down. */
async function delWithApiDown(s: PodScenario, how: Loss): Promise<void> {
  expect((await s.call('ADD')).status).toBe(0);
  lose(s, how);
  await t.api.stop();
  try {
    expect((await s.call('DEL')).status).toBe(0);
  } finally {
    await t.api.start();
  }
}

const apiCalls = () => t.api.requests.filter((r) => r.method === 'GET').length;

describe('records lost, API up', () => {
  it.each<Loss>(['plan deleted', 'plan truncated', 'plan and results deleted', 'plan truncated, results deleted'])(
    '%s: DEL tears down all four networks from network-status and the NADs: 0 leaked reservations or links',
    async (how) => {
      const s = scenario();
      expect((await s.call('ADD')).status).toBe(0);
      lose(s, how);
      const del = await s.call('DEL');
      expect(del.status).toBe(0);
      for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
      expect(s.leftovers()).toEqual(CLEAN); // host-local reservations, the bandwidth ifb, records
      expect((await s.call('DEL')).status).toBe(0);
    },
  );

  it('netns already gone when DEL comes: the cluster reservation still shows the records were lost', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    lose(s, 'plan and results deleted');
    sh('ip', ['netns', 'del', s.ns.name]);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('reports the in-pod interfaces no record explains', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    const stray = t.world.name('sx');
    sh('ip', ['link', 'add', stray, 'type', 'veth', 'peer', 'name', t.world.name('sy')]);
    sh('ip', ['link', 'set', stray, 'netns', s.ns.name]);
    lose(s, 'plan and results deleted');
    expect((await s.call('DEL')).status).toBe(0);
    const line = readFileSync(String(s.config.logFile), 'utf8').split('\n').find((l) => l.includes('records are lost'));
    expect(JSON.parse(line!)).toMatchObject({ level: 50, containerId: s.containerId, source: 'network-status annotation', unexplainedInterfaces: [stray] });
    sh('ip', ['-n', s.ns.name, 'link', 'del', stray]);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('an ordinary DEL, and a repeated one, make no API call', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    const before = apiCalls();
    expect((await s.call('DEL')).status).toBe(0);
    expect((await s.call('DEL')).status).toBe(0);
    expect(apiCalls()).toBe(before);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});

describe('records lost, API down', () => {
  it('DEL keeps a record and says so; a later DEL finishes the job once the API is back', async () => {
    const s = scenario();
    await delWithApiDown(s, 'plan and results deleted');
    const kept = JSON.parse(readFileSync(join(s.cniDir, 'plans', `${s.containerId}-eth0`), 'utf8')) as { unfinished?: { reason: string } };
    expect(kept.unfinished?.reason).toMatch(/API unreachable/);
    expect(readFileSync(String(s.config.logFile), 'utf8')).toMatch(/"level":50.*Kept a record/);
    expect(s.leftovers().reservations.length).toBeGreaterThan(0); // the secondaries' IPs: unknowable until the API answers
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('...or braid gc finishes it after the runtime removed the sandbox', async () => {
    const s = scenario();
    await delWithApiDown(s, 'plan truncated, results deleted');
    sh('ip', ['netns', 'del', s.ns.name]);
    const conf = t.world.dir('braid.conf');
    writeFileSync(conf, JSON.stringify(s.config));
    const dry = await braidCli(['gc', '--config', conf, '--dry-run'], { CNI_PATH: '/usr/lib/cni' });
    expect(dry.stdout).toMatch(/would remove: plans\/.*unfinished DEL/);
    const gc = await braidCli(['gc', '--config', conf], { CNI_PATH: '/usr/lib/cni' });
    expect(gc.status).toBe(0);
    expect(gc.stdout).toContain(`removed: plans/${s.containerId}-eth0`);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});
