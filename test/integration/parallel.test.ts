// `parallel: true` starts the secondary networks once the cluster interface is up in
// the pod: after the cluster chain's last plugin that may change the pod, while its trailing
// host-side plugins (portmap, bandwidth, firewall) still run. The order is read off the fake
// plugin's begin/end log; the cluster's host-side plugin is the fake installed as `firewall`.
import { existsSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { podSideEnd } from '../../src/meta/schedule.js';
import { parseConfList } from '../../src/cni/config.js';
import { useApiWorld } from '../helpers/api-world.js';
import { ifaceIn } from '../helpers/netns.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';

const t = useApiWorld();
let n = 0;
const base = () => 120 + (n++ % 4) * 4; // 198.18.120-135.x

/** The fake plugin's log lines for this container: "begin ADD <id> eth0", "ADD <id> net1", ... */
function events(file: string, containerId: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes(` ${containerId} `))
    .map((l) => l.replace(` ${containerId} `, ' '));
}

it('podSideEnd: trailing portmap/bandwidth/firewall are host-side; anything else ends the pod-side part', () => {
  const list = (...types: string[]) => ({ list: parseConfList({ cniVersion: '1.0.0', name: 'n', plugins: types.map((type) => ({ type })) }) });
  expect(podSideEnd(list('bridge', 'portmap'))).toBe(0);
  expect(podSideEnd(list('bridge', 'tuning', 'bandwidth', 'portmap', 'firewall'))).toBe(1);
  expect(podSideEnd(list('bridge', 'portmap', 'tuning'))).toBe(2); // a pod-side plugin after portmap holds everything back
  expect(podSideEnd(list('macvlan'))).toBe(0);
  expect(podSideEnd(list('portmap'))).toBe(0); // a lone host-side plugin still runs first
});

it.each([
  [true, 'before'],
  [false, 'after'],
])('parallel %s: secondaries start %s the cluster host-side plugin ends', async (parallel) => {
  const s = new PodScenario(t.world, t.api, base(), { parallel, clusterHostSide: { add: 'sleep:1500' }, fault: { at: 1, modes: { add: 'sleep:50' } } });
  const log = t.world.dir('fake.log');
  const add = await s.call('ADD', { env: { FAKE_PLUGIN_LOG: log } });
  expect(add.status, add.stdout).toBe(0);
  const ev = events(log, s.containerId);
  const at = (line: string) => {
    const i = ev.indexOf(line);
    expect(i, `${line} in ${JSON.stringify(ev)}`).toBeGreaterThanOrEqual(0);
    return i;
  };
  if (parallel) {
    // net1 ran to its end while the cluster's firewall was still sleeping (which of the two
    // began first is a race between two processes starting at once).
    expect(at('begin ADD net1')).toBeLessThan(at('end ADD eth0'));
    expect(at('end ADD net1')).toBeLessThan(at('end ADD eth0'));
  } else {
    expect(at('end ADD eth0')).toBeLessThan(at('begin ADD net1'));
  }
  // The merged result keeps plan order whatever finished first.
  const names = (add.json.interfaces as Array<{ name: string; sandbox?: string }>).filter((i) => i.sandbox).map((i) => i.name);
  expect(names).toEqual(['eth0', 'net1', 'net2', 'net3']);
  expect((await s.call('DEL')).status).toBe(0);
  expect(s.leftovers()).toEqual(CLEAN);
});

it('parallel: the cluster host-side plugin failing while secondaries run waits for them, then rolls back everything', async () => {
  const s = new PodScenario(t.world, t.api, base(), { parallel: true, clusterHostSide: { add: 'error:11' }, fault: { at: 1, modes: { add: 'sleep:600' } } });
  const log = t.world.dir('fake.log');
  const add = await s.call('ADD', { env: { FAKE_PLUGIN_LOG: log } });
  expect(add.json).toMatchObject({ code: 11, msg: expect.stringContaining(`network ${s.networks[0]}`) });
  const ev = events(log, s.containerId);
  // No DEL of net1 while its ADD was still running; then it was torn down like the rest.
  expect(ev.indexOf('end ADD net1')).toBeGreaterThanOrEqual(0);
  expect(ev.indexOf('end ADD net1')).toBeLessThan(ev.indexOf('DEL net1'));
  for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
  expect(s.leftovers()).toEqual(CLEAN);
});

it('parallel: a cluster pod-side failure starts no secondary at all', async () => {
  const s = new PodScenario(t.world, t.api, base(), { parallel: true, fault: { at: 0, modes: { add: 'error:7' } }, clusterHostSide: { add: 'ok' } });
  const log = t.world.dir('fake.log');
  const add = await s.call('ADD', { env: { FAKE_PLUGIN_LOG: log } });
  expect(add.json.code).toBe(7);
  expect(events(log, s.containerId).filter((l) => /^(begin )?ADD net/.test(l))).toEqual([]);
  expect(s.leftovers()).toEqual(CLEAN);
});

/** Wait until `line` is in the fake plugin's log for this container. */
async function until(file: string, containerId: string, line: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(existsSync(file) && events(file, containerId).includes(line))) {
    if (Date.now() > deadline) throw new Error(`no "${line}" in ${JSON.stringify(events(file, containerId))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it.each([
  [true, 'alongside'],
  [false, 'before'],
])('parallel %s: DEL of the secondaries runs %s the cluster host-side plugin DEL', async (parallel) => {
  const s = new PodScenario(t.world, t.api, base(), { parallel, clusterHostSide: { del: 'sleep:1500' }, fault: { at: 1, modes: { del: 'sleep:300' } } });
  expect((await s.call('ADD')).status).toBe(0);
  const log = t.world.dir('fake.log');
  const del = await s.call('DEL', { env: { FAKE_PLUGIN_LOG: log } });
  expect(del.status, del.stdout).toBe(0);
  const ev = events(log, s.containerId);
  if (parallel) {
    // net1's DEL began and ended while the cluster's host-side plugin was still in its DEL.
    expect(ev.indexOf('end DEL net1')).toBeLessThan(ev.indexOf('end DEL eth0'));
    expect(ev.indexOf('begin DEL eth0')).toBeLessThan(ev.indexOf('end DEL net1'));
  } else {
    expect(ev.indexOf('end DEL net1')).toBeLessThan(ev.indexOf('begin DEL eth0'));
  }
  expect(s.leftovers()).toEqual(CLEAN);
});

it('parallel DEL: the cluster interface stays in the pod until every other network is gone', async () => {
  const s = new PodScenario(t.world, t.api, base(), { parallel: true, fault: { at: 1, modes: { del: 'sleep:1500' } } });
  expect((await s.call('ADD')).status).toBe(0);
  const log = t.world.dir('fake.log');
  const del = s.call('DEL', { env: { FAKE_PLUGIN_LOG: log } });
  await until(log, s.containerId, 'begin DEL net1');
  // net2 and net3 go at once; eth0 waits for net1, whose DEL is still sleeping.
  const deadline = Date.now() + 5000;
  while ((ifaceIn(s.ns.name, 'net2') || ifaceIn(s.ns.name, 'net3')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(ifaceIn(s.ns.name, 'net2')).toBeUndefined();
  expect(ifaceIn(s.ns.name, 'net3')).toBeUndefined();
  expect(events(log, s.containerId)).not.toContain('end DEL net1');
  expect(ifaceIn(s.ns.name, 'eth0')).toBeDefined();
  expect(ifaceIn(s.ns.name, 'net1')).toBeDefined();
  expect((await del).status).toBe(0);
  for (const ifname of ['eth0', 'net1']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
  expect(s.leftovers()).toEqual(CLEAN);
});

it('parallel DEL: one secondary failing still tears down the rest, names the network, and the retry finishes', async () => {
  const s = new PodScenario(t.world, t.api, base(), { parallel: true, fault: { at: 2, modes: { del: 'once:error:11' } } });
  expect((await s.call('ADD')).status).toBe(0);
  const first = await s.call('DEL');
  expect(first.status).not.toBe(0);
  expect(first.json).toMatchObject({ code: 11, msg: expect.stringContaining(`DEL of ${s.networks[2]!.split('/').pop()} (net2)`) });
  // Everything but net2's chain went; the plan stays for the runtime's retry.
  for (const ifname of ['eth0', 'net1', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
  expect((await s.call('DEL')).status).toBe(0);
  expect(s.leftovers()).toEqual(CLEAN);
});

it('parallel: the cluster host-side tail, the critical path, is started before the secondaries', async () => {
  const s = new PodScenario(t.world, t.api, base(), { parallel: true, clusterHostSide: { add: 'ok' } });
  const trace = t.world.dir('trace.jsonl');
  expect((await s.call('ADD', { env: { BRAID_TRACE: trace } })).status).toBe(0);
  const add = readFileSync(trace, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { command: string; marks: Array<[string, number]> }).find((x) => x.command === 'ADD')!;
  const execs = add.marks.map(([m]) => m).filter((m) => m.startsWith('exec '));
  // bridge (cluster), then its tail, then the three secondaries' first plugins.
  expect(execs.slice(0, 2)).toEqual(['exec bridge', 'exec firewall']);
  expect(execs.slice(2, 5).sort()).toEqual(['exec bridge', 'exec bridge', 'exec macvlan']);
  expect((await s.call('DEL')).status).toBe(0);
});

it('parallel GC: a stale pod is torn down like a parallel DEL, leaving nothing', async () => {
  const s = new PodScenario(t.world, t.api, base(), { parallel: true, clusterHostSide: { del: 'sleep:800' }, fault: { at: 1, modes: { del: 'sleep:200' } } });
  expect((await s.call('ADD')).status).toBe(0);
  const log = t.world.dir('fake.log');
  const { callBraid } = await import('../helpers/braid-runner.js');
  const gc = await callBraid({ command: 'GC', env: { FAKE_PLUGIN_LOG: log }, config: { ...s.config, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [] } });
  expect(gc.status, gc.stdout).toBe(0);
  const ev = events(log, s.containerId);
  expect(ev.indexOf('begin DEL eth0')).toBeGreaterThanOrEqual(0);
  expect(ev.indexOf('begin DEL eth0')).toBeLessThan(ev.indexOf('end DEL net1'));
  for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
  expect(s.leftovers()).toEqual(CLEAN);
});
