// SR-IOV users' path: a NAD annotated k8s.v1.cni.cncf.io/resourceName gets the device the
// kubelet allocated to the pod (asked over the PodResources gRPC API, here a stand-in on a unix
// socket), passed as deviceID the way Multus does, and network-status carries device-info.
// The delegate is a recording plugin: no SR-IOV hardware here to show a VF being moved.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useApiWorld } from '../helpers/api-world.js';
import { CLEAN, PodScenario } from '../helpers/pod-scenario.js';
import { startPodResourcesServer, type PodResourcesServer } from '../helpers/pod-resources-server.js';

const t = useApiWorld();
const RECORDER = join(import.meta.dirname, '../fixtures/plugins/recording-plugin');
let kubelet: PodResourcesServer | undefined;
afterEach(async () => {
  await kubelet?.close();
  kubelet = undefined;
});

let n = 0;
function scenario(): { s: PodScenario; record: (ifname: string) => { config: Record<string, any> } } {
  const socket = t.world.dir('kubelet.sock');
  const s = new PodScenario(t.world, t.api, 208 + (n++ % 2) * 4, { annotation: '', config: { podResourcesSocket: socket } });
  const bin = String(s.config.binDir).split(':')[0]!;
  copyFileSync(RECORDER, join(bin, 'recorder'));
  const recordTo = t.world.dir('rec');
  const nad = (name: string, resource: string, plugin: Record<string, unknown>) =>
    t.api.addNad(s.podNs, name, { cniVersion: '1.0.0', plugins: [{ type: 'recorder', recordTo, ...plugin }] }, { 'k8s.v1.cni.cncf.io/resourceName': resource });
  nad(`${t.world.tag}-vf`, 'intel.com/sriov_a', { capabilities: { deviceID: true } });
  nad(`${t.world.tag}-dev`, 'example.com/dev_c', {});
  const pod = t.api.getPod(s.podNs, s.podName)!;
  pod.metadata.annotations = {
    'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: `${t.world.tag}-vf` }, { name: `${t.world.tag}-vf`, interface: 'vf2' }, { name: `${t.world.tag}-dev` }]),
  };
  t.api.updatePod(pod);
  return { s, record: (ifname) => JSON.parse(readFileSync(`${recordTo}-${ifname}.json`, 'utf8')) };
}

const allocation = (s: PodScenario) => [
  // Another pod on the node with the same resource: its devices must not be used.
  { name: 'other', namespace: s.podNs, containers: [{ name: 'c', devices: [{ resource_name: 'intel.com/sriov_a', device_ids: ['0000:3b:02.7'] }] }] },
  {
    name: s.podName,
    namespace: s.podNs,
    containers: [
      { name: 'app', devices: [{ resource_name: 'intel.com/sriov_a', device_ids: ['0000:3b:02.1'] }, { resource_name: 'example.com/dev_c', device_ids: ['dev-c-7'] }] },
      { name: 'sidecar', devices: [{ resource_name: 'intel.com/sriov_a', device_ids: ['0000:3b:02.2'] }] },
    ],
  },
];

describe('k8s.v1.cni.cncf.io/resourceName -> deviceID, from the kubelet PodResources API', () => {
  it("each attachment takes the pod's next device of its resource, as config and runtimeConfig; network-status has device-info", async () => {
    const { s, record } = scenario();
    kubelet = await startPodResourcesServer(String(s.config.podResourcesSocket), allocation(s));
    const add = await s.call('ADD');
    expect(add.status, add.stdout).toBe(0);
    expect(kubelet.calls).toEqual(['List']);

    const net1 = record('net1').config;
    expect(net1.deviceID).toBe('0000:3b:02.1');
    expect(net1.runtimeConfig).toEqual({ deviceID: '0000:3b:02.1' });
    expect(record('vf2').config.deviceID).toBe('0000:3b:02.2');
    const net3 = record('net3').config;
    expect(net3.deviceID).toBe('dev-c-7');
    expect(net3.runtimeConfig).toBeUndefined(); // no deviceID capability declared

    const status = JSON.parse(t.api.getPod(s.podNs, s.podName)!.metadata.annotations!['k8s.v1.cni.cncf.io/network-status']!);
    const byIf = Object.fromEntries(status.map((e: { interface?: string }) => [e.interface, e]));
    expect(byIf.net1['device-info']).toEqual({ type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:3b:02.1' } });
    expect(byIf.vf2['device-info']).toEqual({ type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:3b:02.2' } });
    expect(byIf.net3['device-info']).toBeUndefined(); // not a PCI address: no type to name
    expect((await s.call('DEL')).status).toBe(0);
    expect(s.leftovers()).toEqual(CLEAN);
  });

  it('no kubelet to ask: the ADD fails with code 11 and leaves nothing', async () => {
    const { s } = scenario();
    const add = await s.call('ADD');
    expect(add.json).toMatchObject({ code: 11, msg: expect.stringContaining('PodResources List') });
    expect(s.leftovers()).toEqual(CLEAN);
  });
});
