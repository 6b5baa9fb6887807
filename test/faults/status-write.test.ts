// One-shot network-status writes when the API server fails the PATCH: a short bounded retry
// (3 tries within about 2 s), then an error-level log line; the ADD succeeds either way. The
// PATCH carries the pod's UID as a precondition, and a systemNamespaces pod gets no API call.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { ifaceIn } from '../helpers/netns.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';

const t = useApiWorld();

let n = 0;
const scenario = (opts: ConstructorParameters<typeof PodScenario>[3] = {}) => new PodScenario(t.world, t.api, 60 + (n++ % 7) * 4, opts); // 198.18.60-87.x
const STATUS = 'k8s.v1.cni.cncf.io/network-status';
const patches = () => t.api.requests.filter((r) => r.method === 'PATCH');
const logLines = (s: PodScenario) =>
  readFileSync(String(s.config.logFile), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { level: number; msg: string; tries?: number; reason?: string });

describe('one-shot network-status write', () => {
  it('lands on the third try after two 500s, with the pod UID as precondition', async () => {
    const s = scenario({ config: { logLevel: 'info' } });
    t.api.fault({ method: 'PATCH', status: 500, times: 2 });
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(patches().map((p) => p.status)).toEqual([500, 500, 200]);
    const body = patches()[2]!.body as { metadata: { uid: string; annotations: Record<string, string> } };
    expect(body.metadata.uid).toBe(s.podUid);
    expect(JSON.parse(t.api.getPod(s.podNs, s.podName)!.metadata.annotations![STATUS]!)).toHaveLength(4);
    expect(logLines(s).find((l) => l.msg === 'network-status written after a retry')).toMatchObject({ tries: 3 });
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it.each([
    ['503', { status: 503 }, '503'],
    ['401', { status: 401 }, '401'],
    // A dropped kept-alive connection is also retried once by the transport itself.
    ['a dropped connection', { destroySocket: true }, 'unreachable'],
  ])('gives up after 3 tries within about 2 s on %s, logs it at error level, and the ADD succeeds', async (_, fault, reason) => {
    const s = scenario();
    t.api.fault({ method: 'PATCH', ...fault });
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ifaceIn(s.ns.name, 'net3')).toBeDefined();
    const tries = patches();
    if ('destroySocket' in fault) expect(tries.length).toBeGreaterThanOrEqual(3);
    else expect(tries).toHaveLength(3);
    expect(tries.at(-1)!.time - tries[0]!.time).toBeLessThan(2000);
    expect(t.api.getPod(s.podNs, s.podName)!.metadata.annotations![STATUS]).toBeUndefined();
    const line = logLines(s).find((l) => l.msg.startsWith('network-status NOT written'));
    expect(line).toMatchObject({ level: 50, tries: 3, reason });
    t.api.clearFaults();
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('does not retry when the pod is gone (404)', async () => {
    const s = scenario();
    t.api.fault({ method: 'PATCH', status: 404 });
    expect((await s.call('ADD')).status).toBe(0);
    expect(patches()).toHaveLength(1);
    expect(logLines(s).find((l) => l.msg.startsWith('network-status not written'))).toMatchObject({ reason: 'pod_gone' });
    expect((await s.call('DEL')).status).toBe(0);
  });

  it('makes no API call at all for a pod in systemNamespaces', async () => {
    const s = scenario();
    s.config.systemNamespaces = [s.podNs];
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(ifaceIn(s.ns.name, 'eth0')).toBeDefined();
    expect(ifaceIn(s.ns.name, 'net1')).toBeUndefined(); // the cluster network only
    expect(t.api.requests).toEqual([]);
    expect(t.api.getPod(s.podNs, s.podName)!.metadata.annotations![STATUS]).toBeUndefined();
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});
