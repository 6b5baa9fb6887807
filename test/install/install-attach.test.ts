// The entry braid install writes is what a runtime loads first, and it attaches a pod through
// braid: libcni's view (firstConfigIn, parseConfigBytes) and a real ADD/DEL in a namespace.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { parseCniArgs } from '../../src/cni/cni-args.js';
import { parseConfigBytes } from '../../src/cni/config.js';
import { configFiles, firstConfigIn } from '../../src/engine/conf-files.js';
import { Engine, type RuntimeConf } from '../../src/engine/engine.js';
import { k8sArgs } from '../helpers/braid-runner.js';
import { CNI_BIN, NO_TRACES, ipv4Of, traces } from '../helpers/netns.js';
import { runInstall } from './install-helpers.js';

const t = useApiWorld();

it('installs an entry that libcni loads first and that attaches a pod through braid', async () => {
  const conf = t.world.dir('net.d');
  const bin = t.world.dir('bin');
  const dataDir = t.world.dir('ipam');
  const cniDir = t.world.dir('braid');
  const cacheDir = t.world.dir('cache');
  const ipam = (octet: number) => ({ type: 'host-local', dataDir, ranges: [[{ subnet: `198.18.${octet}.0/24` }]] });
  const cluster = t.world.name('cl');
  mkdirSync(conf, { recursive: true });
  writeFileSync(
    join(conf, '10-cluster.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: cluster,
      plugins: [
        { type: 'bridge', bridge: t.world.name('c0'), isGateway: true, ipam: { ...ipam(230), routes: [{ dst: '0.0.0.0/0' }] } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  const podNs = t.world.name('ns');
  const nad = `${t.world.tag}-side`;
  t.api.addNad(podNs, nad, { cniVersion: '1.0.0', plugins: [{ type: 'bridge', bridge: t.world.name('s0'), ipam: ipam(231) }] });
  const pod = t.api.addPod({ metadata: { name: 'web', namespace: podNs, annotations: { 'k8s.v1.cni.cncf.io/networks': nad } }, spec: { nodeName: 'node1' } });
  const kubeconfig = t.api.writeKubeconfig(t.world.dir('kubeconfig'));

  const out = await runInstall([
    '--one-shot', '--cni-conf-dir', conf, '--cni-bin-dir', bin, '--kubeconfig', kubeconfig,
    '--cni-dir', cniDir, '--networks-dir', t.world.dir('networks'), '--log-file', t.world.dir('braid.log'),
  ]);
  expect(out.status, out.stderr).toBe(0);

  // What a runtime does: the first config of the conf dir is braid's.
  const entryFile = join(conf, '00-braid.conflist');
  expect(configFiles(conf)[0]).toBe(entryFile);
  const first = firstConfigIn(conf)!;
  expect(first.file).toBe(entryFile);
  const list = parseConfigBytes(readFileSync(entryFile, 'utf8'), entryFile);
  expect(list.name).toBe('braid-cni-network');
  expect(list.plugins.map((p) => p.type)).toEqual(['braid']);

  const ns = t.world.netns('pod');
  const engine = new Engine({ path: [bin, CNI_BIN], cacheDir });
  const rt: RuntimeConf = {
    containerId: `ctr${t.world.tag}`,
    netns: ns.path,
    ifname: 'eth0',
    args: parseCniArgs(k8sArgs(podNs, 'web', (pod as { metadata: { uid: string } }).metadata.uid)),
    capabilityArgs: { portMappings: [{ hostPort: 18181, containerPort: 80, protocol: 'tcp' }] },
  };
  t.world.onCleanup(() => engine.delList(list, rt));
  const result = await engine.addList(list, rt);
  expect((result.interfaces ?? []).filter((i) => i.sandbox).map((i) => i.name)).toEqual(['eth0', 'net1']);
  expect(ipv4Of(ns.name, 'eth0')).toEqual(['198.18.230.2/24']);
  expect(ipv4Of(ns.name, 'net1')).toEqual(['198.18.231.2/24']);
  const status = JSON.parse(t.api.getPod(podNs, 'web')!.metadata.annotations!['k8s.v1.cni.cncf.io/network-status']!);
  expect(status.map((s: { name: string; interface: string }) => [s.name, s.interface])).toEqual([
    [cluster, 'eth0'],
    [`${podNs}/${nad}`, 'net1'],
  ]);

  await engine.delList(list, rt);
  const left = traces({ tag: t.world.tag, containerIds: [rt.containerId], ips: ['198.18.230.2', '198.18.231.2'], dataDirs: [dataDir], ignoreLinks: t.world.ownLinks() });
  expect(left).toEqual(NO_TRACES);
});
