// For a pod with four networks, a delegate fault at every position and every verb.
// After each: the right code, one JSON document on stdout (callBraid checks), and nothing left
// on the host once the runtime's DEL has gone through.
import { describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { TestWorld, ifaceIn } from '../helpers/netns.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';

const t = useApiWorld();

const POSITIONS = [0, 1, 2, 3];
// fault mode -> expected code (the delegate's own when it gave one, else 999)
const ADD_FAULTS: Array<[string, number]> = [
  ['error:7', 7],
  ['error:11', 11],
  ['garbage', 999],
  ['silent', 999],
  ['crash', 999],
  ['hang', 999],
];
const base = (i: number) => 100 + (i % 24) * 4; // 198.18.100-195.x: distinct per case in this file

let n = 0;
describe.each(POSITIONS)('network at position %i', (at) => {
  it.each(ADD_FAULTS)('ADD fault %s -> code %i, rollback complete, DEL leaves nothing', async (mode, code) => {
    const s = new PodScenario(t.world, t.api, base(n++), { fault: { at, modes: { add: mode } }, config: { delegateTimeout: 1 } });
    const add = await s.call('ADD');
    expect(add.status).toBe(1);
    expect(add.json).toMatchObject({ cniVersion: '1.0.0', code });
    expect(add.json.msg).toContain(`network ${s.networks[at]}`);
    expect(add.json.msg).toContain('plugin fake failed (add)');
    for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
    expect(s.leftovers()).toEqual(CLEAN); // rolled back before the runtime's DEL
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it.each([
    ['once:error:11', 11],
    ['once:crash', 999],
    ['once:hang', 999],
  ])('DEL fault %s -> reported (code %i), not swallowed; the retry cleans everything', async (mode, code) => {
    const s = new PodScenario(t.world, t.api, base(n++), { fault: { at, modes: { del: mode } }, config: { delegateTimeout: 1 } });
    expect((await s.call('ADD')).status).toBe(0);
    const del = await s.call('DEL');
    expect(del.status).toBe(1);
    expect(del.json.code).toBe(code);
    // Every other attachment was still torn down in that first DEL.
    for (const [i, ifname] of ['eth0', 'net1', 'net2', 'net3'].entries()) if (i !== at) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it.each([
    ['error:7', 7],
    ['crash', 999],
  ])('CHECK fault %s -> code %i, pod untouched', async (mode, code) => {
    const s = new PodScenario(t.world, t.api, base(n++), { fault: { at, modes: { check: mode } } });
    expect((await s.call('ADD')).status).toBe(0);
    const check = await s.call('CHECK');
    expect(check.status).toBe(1);
    expect(check.json.code).toBe(code);
    expect(check.json.msg).toContain(`network ${s.networks[at]}`);
    for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeDefined();
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});

it('parallel attachments: a failure among concurrent ones still rolls back everything', async () => {
  for (const at of [1, 3]) {
    const s = new PodScenario(t.world, t.api, 196 + (at === 1 ? 0 : 0), { parallel: true, fault: { at, modes: { add: 'error:7' } } });
    const add = await s.call('ADD');
    expect(add.json.code).toBe(7);
    expect(s.leftovers()).toEqual(CLEAN);
    await t.world.cleanup();
    t.world = new TestWorld();
  }
});
