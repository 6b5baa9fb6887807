// A pod whose ADD failed can always be deleted: real plugins failing both ADD and DEL (an
// interface named "lo", a macvlan master that does not exist or vanishes mid-ADD), driven the
// way libcni drives braid. After each: the runtime's DEL succeeds, a retried DEL too, nothing
// is left on the host, and the give-up is logged at error level with what could not be cleaned.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { ifaceIn } from '../helpers/netns.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';
import { sh } from '../helpers/sh.js';

const t = useApiWorld();

let n = 0;
const scenario = (opts: ConstructorParameters<typeof PodScenario>[3] = {}) => new PodScenario(t.world, t.api, 120 + (n++ % 16) * 4, opts);

/** Error-level lines (pino level 50) of braid's log. */
function errorLines(s: PodScenario): Array<Record<string, unknown>> {
  const file = String(s.config.logFile);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => Number(l.level) >= 50);
}

const plans = (s: PodScenario) => (existsSync(join(s.cniDir, 'plans')) ? readdirSync(join(s.cniDir, 'plans')) : []);

describe('a failed ADD whose DEL fails too', () => {
  it('interface "lo": ADD fails, no record stays, every DEL succeeds, nothing leaks', async () => {
    const s = scenario({ annotation: JSON.stringify([{ name: `${t.world.tag}-a`, interface: 'lo' }]) });
    const add = await s.call('ADD');
    expect(add.status).toBe(1);
    expect(add.json.msg).toContain('container veth name provided (lo) already exists');
    expect(plans(s)).toEqual([]);
    const gaveUp = errorLines(s).find((l) => String(l.msg).includes('gave up'));
    expect(gaveUp).toMatchObject({ containerId: s.containerId, network: s.networks[1], ifname: 'lo' });
    expect(String(gaveUp!.err)).toContain('failed to delete "lo": operation not supported');
    expect((await s.call('DEL')).status).toBe(0);
    expect((await s.call('DEL')).status).toBe(0);
    expect(ifaceIn(s.ns.name, 'eth0')).toBeUndefined();
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('macvlan master that does not exist: ADD and DEL fail with "Link not found"; the pod is still deletable', async () => {
    const s = scenario({ annotation: `${t.world.tag}-nomaster` });
    t.api.addNad(s.podNs, `${t.world.tag}-nomaster`, {
      cniVersion: '1.0.0',
      plugins: [{ type: 'macvlan', master: t.world.name('gone'), ipam: { type: 'host-local', dataDir: s.dataDir, ranges: [[{ subnet: `198.18.${s.base + 2}.0/24` }]] } }],
    });
    const add = await s.call('ADD');
    expect(add.status).toBe(1);
    expect(add.json.msg).toContain('Link not found');
    expect(plans(s)).toEqual([]);
    expect(errorLines(s).some((l) => String(l.msg).includes('gave up') && String(l.err).includes('Link not found'))).toBe(true);
    for (let i = 0; i < 3; i++) expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('a chain naming a plugin that is not installed: ADD and DEL fail to find it; its IPAM is still released, the pod still deletable', async () => {
    const s = scenario({ annotation: `${t.world.tag}-noplugin` });
    t.api.addNad(s.podNs, `${t.world.tag}-noplugin`, {
      cniVersion: '1.0.0',
      plugins: [
        { type: 'bridge', bridge: t.world.name('np'), ipam: { type: 'host-local', dataDir: s.dataDir, ranges: [[{ subnet: `198.18.${s.base + 1}.0/24` }]] } },
        { type: 'no-such-plugin' },
      ],
    });
    const add = await s.call('ADD');
    expect(add.status).toBe(1);
    expect(add.json.msg).toContain('no-such-plugin');
    expect(plans(s)).toEqual([]);
    const gaveUp = errorLines(s).find((l) => String(l.msg).includes('gave up'));
    expect(gaveUp).toMatchObject({ network: `${s.podNs}/${t.world.tag}-noplugin`, ifname: 'net1', released: ['IP reservation (host-local DEL)'] });
    for (let i = 0; i < 2; i++) expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('the cluster network itself broken (macvlan, no master): ADD fails, DEL and its retries succeed', async () => {
    const s = scenario();
    const clusterFile = join(t.world.dir('net.d'), '10-cluster.conflist');
    const cluster = {
      cniVersion: '1.0.0',
      name: s.networks[0],
      plugins: [{ type: 'macvlan', master: t.world.name('gone'), ipam: { type: 'host-local', dataDir: s.dataDir, ranges: [[{ subnet: `198.18.${s.base}.0/24` }]] } }],
    };
    sh('sh', ['-c', `cat > ${clusterFile} <<'X'\n${JSON.stringify(cluster)}\nX`]);
    const add = await s.call('ADD');
    expect(add.status).toBe(1);
    expect(add.json.msg).toContain('Link not found');
    expect(plans(s)).toEqual([]);
    // No plan now: the DEL from config fails the same way, and is given up on too.
    for (let i = 0; i < 2; i++) expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('macvlan master vanishing mid-ADD: its DEL fails, the IPAM DEL frees the reservation anyway', async () => {
    const s = scenario({ fault: { at: 2, modes: { add: 'hang' } }, config: { delegateTimeout: 3 } });
    const adding = s.call('ADD');
    // Wait for macvlan's host-local reservation, then take the master away (a NIC unplugged).
    const ipamDir = join(s.dataDir, s.networks[2]!.split('/')[1]!);
    const deadline = Date.now() + 10_000;
    while (!(existsSync(ipamDir) && readdirSync(ipamDir).some((f) => /^198\./.test(f))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(ipamDir)).toBe(true);
    const master = t.world.ownLinks().find((l) => l.endsWith('ma'))!;
    sh('ip', ['link', 'del', master]);
    const add = await adding;
    expect(add.status).toBe(1);
    const gaveUp = errorLines(s).find((l) => String(l.msg).includes('gave up'));
    expect(gaveUp).toMatchObject({ network: s.networks[2], ifname: 'net2' });
    expect(String(gaveUp!.err)).toContain('Link not found');
    expect(gaveUp!.released).toEqual(['IP reservation (host-local DEL)']);
    expect(plans(s)).toEqual([]);
    expect((await s.call('DEL')).status).toBe(0);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});
