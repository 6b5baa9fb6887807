// braid as the meta-plugin: a pod selecting three NADs through the real binary,
// the real reference plugins and a loopback API server.
import { describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { ifaceIn, ipv4Of, nsRoutes } from '../helpers/netns.js';
import { CLEAN, PodScenario, type ScenarioOptions } from '../helpers/pod-scenario.js';

const t = useApiWorld();

const scenario = (base: number, opts: ScenarioOptions = {}) => new PodScenario(t.world, t.api, base, opts);
const call = (s: PodScenario, command: 'ADD' | 'DEL' | 'CHECK') => s.call(command);
const leftovers = (s: PodScenario) => s.leftovers();

describe.each([false, true])('a pod selecting three NADs (parallel: %s)', (parallel) => {
  it('ADD gives eth0, net1, net2, net3; network-status lists four; DEL with the API down leaves nothing', async () => {
    const base = parallel ? 50 : 44;
    const s = scenario(base, { parallel });
    const add = await call(s, 'ADD');
    expect(add.status, add.stdout + add.stderr).toBe(0);

    for (const [i, ifname] of ['eth0', 'net1', 'net2', 'net3'].entries()) {
      expect(ipv4Of(s.ns.name, ifname)).toEqual([`198.18.${base + i}.2/24`]);
    }
    const r = add.json;
    expect(r.cniVersion).toBe('1.0.0');
    const sandboxIfs = r.interfaces.filter((i: any) => i.sandbox).map((i: any) => i.name);
    expect(sandboxIfs).toEqual(['eth0', 'net1', 'net2', 'net3']);
    for (const ip of r.ips) {
      const iface = r.interfaces[ip.interface];
      const idx = ['eth0', 'net1', 'net2', 'net3'].indexOf(iface.name);
      expect(iface.sandbox).toBe(s.ns.path);
      expect(ip.address).toBe(`198.18.${base + idx}.2/24`);
    }
    expect(r.routes.filter((rt: any) => rt.dst === '0.0.0.0/0')).toHaveLength(1);
    expect(nsRoutes(s.ns.name).filter((rt) => rt.dst === 'default')).toHaveLength(1);

    const status = JSON.parse(t.api.getPod(s.podNs, s.podName)!.metadata.annotations!['k8s.v1.cni.cncf.io/network-status']!);
    expect(status.map((e: any) => [e.name, e.interface, e.default === true])).toEqual([
      [s.networks[0], 'eth0', true],
      [s.networks[1], 'net1', false],
      [s.networks[2], 'net2', false],
      [s.networks[3], 'net3', false],
    ]);
    expect(status[2].ips).toEqual([`198.18.${base + 2}.2`]);

    // One pod GET, one GET per distinct NAD, one status PATCH; nothing else.
    expect(t.api.count({ method: 'GET', pathPrefix: '/api/v1/namespaces/' })).toBe(1);
    expect(t.api.count({ method: 'GET', pathPrefix: '/apis/k8s.cni.cncf.io/' })).toBe(3);
    expect(t.api.count({ method: 'PATCH' })).toBe(1);
    expect(t.api.requests).toHaveLength(5);

    const check = await call(s, 'CHECK');
    expect(check.status, check.stdout).toBe(0);

    t.api.stop();
    try {
      t.api.reset();
      const del = await call(s, 'DEL');
      expect(del.status, del.stdout).toBe(0);
      expect(t.api.requests).toHaveLength(0);
    } finally {
      await t.api.start();
    }
    for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
    expect(leftovers(s)).toEqual(CLEAN);
    expect((await call(s, 'DEL')).status).toBe(0); // a second DEL is fine
  });
});

describe('a failure at each position rolls back everything', () => {
  it.each([0, 1, 2, 3])('failing network at position %i', async (pos) => {
    const s = scenario(56 + pos * 4, { fault: { at: pos, modes: { add: 'error:7' } } });
    const add = await call(s, 'ADD');
    expect(add.status).not.toBe(0);
    expect(add.json.code).toBe(7);
    expect(add.json.msg).toContain(`network ${s.networks[pos]}`);
    expect(add.json.msg).toContain('plugin fake failed (add): injected failure');
    // Nothing left even before the runtime's DEL.
    for (const ifname of ['eth0', 'net1', 'net2', 'net3']) expect(ifaceIn(s.ns.name, ifname)).toBeUndefined();
    expect(leftovers(s)).toEqual(CLEAN);
    expect((await call(s, 'DEL')).status).toBe(0);
  });
});

describe('invalid annotations fail ADD with code 7 and a precise message', () => {
  it.each([
    ['[{"name": "x", "interface": "averyveryverylongname"}]', /interface.*averyveryverylongname/],
    ['[{"namespace": "a"}]', /name/],
    ['a,,b', /networks\[1\]/],
    ['[{"name": "x", "ips": ["not-an-ip"]}]', /not-an-ip/],
    ['[{"name":"a","default-route":["198.18.0.1"]},{"name":"b","default-route":["198.18.0.1"]}]', /default-route/],
    ['[{"name": "../../etc"}]', /\.\.\/\.\.\/etc/],
    ['[{"name":"x","ips":["198.18.0.5/24"],"ipam-claim-reference":"c"}]', /ipam-claim-reference/],
  ])('%s', async (annotation, msg) => {
    const s = scenario(72, { annotation });
    const add = await call(s, 'ADD');
    expect(add.status).not.toBe(0);
    expect(add.json.code).toBe(7);
    expect(add.json.msg).toMatch(msg);
    expect(ifaceIn(s.ns.name, 'eth0')).toBeUndefined();
    expect(leftovers(s).records).toEqual([]);
  });
});
