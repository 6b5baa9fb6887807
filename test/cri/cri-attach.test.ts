// Pods created over CRI by a real containerd, braid installed by `braid install` as the first
// CNI config of containerd's conf dir, one-shot and daemon (braid-shim) mode. The networks come
// from the pod's annotations as containerd hands them over (io.kubernetes.cri.pod-annotations)
// and from local files (no Kubernetes API): what lands in the sandbox's netns, what containerd
// reports, traffic over each secondary network, and nothing left after stop + remove.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { libcniCacheFiles } from '../../src/cri/private-containerd.js';
import { CONTAINERD_SKIP, NOTHING_LEFT, ipv4In, pingFrom, podAddrs, useCriNode } from '../helpers/containerd.js';

const NETWORKS = 'k8s.v1.cni.cncf.io/networks';

describe.skipIf(!!CONTAINERD_SKIP).each([
  ['one-shot', 'oneshot', 160],
  ['daemon', 'daemon', 164],
] as const)('containerd CRI, braid %s, file-only networks', (_label, mode, base) => {
  const t = useCriNode({ mode, subnetBase: base });

  it('attaches two secondary networks from the runtime annotations, pods talk over each, stop + remove leave nothing', async () => {
    const { node, world } = t;
    const master = world.veth('m').a;
    const br = `${world.tag}-br`;
    const mv = `${world.tag}-mv`;
    node.addNetworkFile(br, [{ type: 'bridge', bridge: world.name('s0'), ipam: node.ipam(1) }]);
    node.addNetworkFile(mv, [{ type: 'macvlan', master, mode: 'bridge', ipam: node.ipam(2) }]);

    // braid install wrote the entry containerd loads first, in front of the cluster network.
    const entry = JSON.parse(readFileSync(join(node.ctd.cniConfDir, '00-braid.conflist'), 'utf8'));
    expect(entry.plugins[0].type).toBe(mode === 'daemon' ? 'braid-shim' : 'braid');
    expect(entry.plugins[0].capabilities['io.kubernetes.cri.pod-annotations']).toBe(true);

    const annotations = { [NETWORKS]: JSON.stringify([{ name: br }, { name: mv, interface: 'mv0' }]) };
    const a = await node.runPod('web-a', { annotations });
    const b = await node.runPod('web-b', { annotations });

    for (const [pod, host] of [[a, 2], [b, 3]] as const) {
      expect(pod.status.status.state).toBe('SANDBOX_READY');
      expect(pod.netnsPath.startsWith(node.ctd.netnsDir)).toBe(true);
      expect(podAddrs(pod.netnsPath).map((i) => i.ifname).sort()).toEqual(['eth0', 'lo', 'mv0', 'net1']);
      const eth0 = ipv4In(pod.netnsPath, 'eth0');
      expect(eth0).toEqual([`198.19.${base}.${host}/24`]);
      expect(ipv4In(pod.netnsPath, 'net1')).toEqual([`198.19.${base + 1}.${host}/24`]);
      expect(ipv4In(pod.netnsPath, 'mv0')).toEqual([`198.19.${base + 2}.${host}/24`]);
      // containerd's view of the merged result: the pod IP is eth0's; its stored CNI result has all three.
      expect(pod.status.status.network?.ip).toBe(`198.19.${base}.${host}`);
      expect(pod.status.status.network?.additional_ips).toEqual([]);
      const cni = JSON.parse(pod.status.info.info!).cniResult;
      const ipsOf = (ifname: string) => (cni.Interfaces[ifname]?.IPConfigs ?? []).map((c: { IP: string }) => c.IP);
      expect(ipsOf('eth0')).toEqual([`198.19.${base}.${host}`]);
      expect(ipsOf('net1')).toEqual([`198.19.${base + 1}.${host}`]);
      expect(ipsOf('mv0')).toEqual([`198.19.${base + 2}.${host}`]);
      // The merged result exactly as braid printed it to containerd (libcni's cache of the ADD).
      const [cached] = libcniCacheFiles([pod.id]);
      const merged = JSON.parse(readFileSync(cached!, 'utf8')).result;
      expect(merged.cniVersion).toBe('1.0.0');
      expect(merged.interfaces.filter((i: { sandbox?: string }) => i.sandbox).map((i: { name: string; sandbox: string }) => [i.name, i.sandbox])).toEqual(
        ['eth0', 'net1', 'mv0'].map((n) => [n, pod.netnsPath]),
      );
      expect(merged.ips.map((i: { address: string }) => i.address)).toEqual([0, 1, 2].map((n) => `198.19.${base + n}.${host}/24`));
    }

    // Traffic between the two pods over each secondary network (and the cluster network).
    for (const net of [0, 1, 2]) {
      const p = pingFrom(a.netnsPath, `198.19.${base + net}.3`);
      expect(p.ok, p.out).toBe(true);
    }

    const ips = [0, 1, 2].flatMap((n) => [`198.19.${base + n}.2`, `198.19.${base + n}.3`]);
    await node.removePod(a.id);
    await node.removePod(b.id);
    expect(await node.listPods()).toEqual([]);
    expect(node.leftovers([a.id, b.id], ips)).toEqual(NOTHING_LEFT);
    if (node.daemon) {
      // containerd called DEL on stop and again on remove; every one of them succeeded.
      const dels = (await node.daemon.get('/metrics')).body.split('\n').filter((l) => l.startsWith('braid_cni_requests_total{') && l.includes('verb="DEL"'));
      expect(dels.map((l) => [l.match(/result="(\w+)"/)?.[1], Number(l.split(' ').pop())])).toEqual([['ok', 4]]);
    }
  });
});
