// braid inspect through dist/braid: the records of a real pod with four networks next to its
// netns and the host, first when they agree, then after the node drifted from them.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { braidCli } from '../helpers/braid-runner.js';
import { bandwidthIfbName, ipv4Of } from '../helpers/netns.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';
import { sh } from '../helpers/sh.js';

const t = useApiWorld();

let n = 0;
const scenario = () => new PodScenario(t.world, t.api, 20 + (n++ % 8) * 4);

function inspect(s: PodScenario, ...args: string[]) {
  const conf = t.world.dir('braid.conf');
  writeFileSync(conf, JSON.stringify(s.config));
  return braidCli(['inspect', '--config', conf, ...args]);
}

describe('braid inspect', () => {
  it('a healthy pod: every attachment, its IPs recorded and in the pod, its reservations and ifb; no differences', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    const r = await inspect(s, '--format', 'json');
    expect(r.status).toBe(0);
    const { containers } = JSON.parse(r.stdout) as { containers: any[] };
    expect(containers).toHaveLength(1);
    const c = containers[0];
    expect(c).toMatchObject({ containerId: s.containerId, pod: `${s.podNs}/${s.podName}`, netns: s.ns.path, netnsExists: true, differences: [] });
    expect(c.attachments.map((a: any) => [a.network, a.ifname, a.state])).toEqual(s.networks.map((net, i) => [net, ['eth0', 'net1', 'net2', 'net3'][i], 'added']));
    for (const a of c.attachments) {
      expect(a.recorded.ips).toEqual(ipv4Of(s.ns.name, a.ifname));
      expect(a.inPod.ips).toEqual(a.recorded.ips);
      expect(a.reservations).toEqual(a.recorded.ips.map((ip: string) => ip.split('/')[0]));
    }
    expect(c.attachments[3].hostLinks).toEqual([{ name: bandwidthIfbName(s.networks[3]!.split('/')[1]!, s.containerId), exists: true }]);
    // By pod and by container ID, in text.
    for (const which of [`${s.podNs}/${s.podName}`, s.containerId]) {
      const text = await inspect(s, which);
      expect(text.stdout).toContain(`container ${s.containerId}  pod ${s.podNs}/${s.podName}`);
      expect(text.stdout).toContain('differences: none');
      expect(text.stdout).toMatch(/net2 +\S+ +added +198\.18\./);
    }
    const none = await inspect(s, 'nosuchcontainer');
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no records of nosuchcontainer');
    expect((await s.call('DEL')).status).toBe(0);
    expect((await inspect(s)).stdout).toBe('no records\n');
  });

  it('a node that drifted: a lost interface, a stray one, a lost reservation, then the netns gone', async () => {
    const s = scenario();
    expect((await s.call('ADD')).status).toBe(0);
    sh('ip', ['-n', s.ns.name, 'link', 'del', 'net1']);
    const stray = t.world.name('sx');
    sh('ip', ['link', 'add', stray, 'type', 'veth', 'peer', 'name', t.world.name('sy')]);
    sh('ip', ['link', 'set', stray, 'netns', s.ns.name]);
    const net3Dir = join(s.dataDir, s.networks[3]!.split('/')[1]!);
    const reservation = readdirSync(net3Dir).find((f) => f.startsWith('198.'))!;
    rmSync(join(net3Dir, reservation));
    const { containers } = JSON.parse((await inspect(s, '--format', 'json')).stdout) as { containers: any[] };
    expect(containers[0].differences).toEqual([
      `${s.networks[1]} (net1): recorded as added, but no net1 in the pod`,
      `${s.networks[3]} (net3): ${containers[0].attachments[3].recorded.ips[0]} is recorded, but host-local holds no reservation for it`,
      `${stray} is in the pod, but no record explains it`,
    ]);
    const text = await inspect(s);
    console.log('INSPECT-OUT\n' + text.stdout);
    expect(text.stdout).toContain(`- ${stray} is in the pod, but no record explains it`);
    sh('ip', ['netns', 'del', s.ns.name]);
    const gone = JSON.parse((await inspect(s, '--format', 'json')).stdout) as { containers: any[] };
    expect(gone.containers[0].netnsExists).toBe(false);
    expect(gone.containers[0].differences).toContain(`netns ${s.ns.path} is gone: these records are orphans (braid gc removes them)`);
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });
});
