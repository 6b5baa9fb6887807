// SR-IOV and other device-plugin networks, as Multus handles them: a NAD annotated
// k8s.v1.cni.cncf.io/resourceName takes the next device ID the kubelet allocated to the pod for
// that resource (in the kubelet's order, one per attachment), passed to the delegate as
// "deviceID" in its first plugin's config (Multus's delegateAddDeviceID/addDeviceIDInConfList)
// and as runtimeConfig.deviceID to plugins declaring the capability. The attachment's
// network-status then carries device-info (NPWG v1.3, device-info-spec v1.1.0).
import { parseConfList, type NetConfList } from '../cni/config.js';

export const RESOURCE_NAME_ANNOTATION = 'k8s.v1.cni.cncf.io/resourceName';

/** Hands out device IDs per resource, in order; undefined once a resource's IDs run out. */
export class DeviceAllocator {
  private readonly next = new Map<string, number>();
  constructor(private readonly devices: Map<string, string[]>) {}

  take(resourceName: string): string | undefined {
    const i = this.next.get(resourceName) ?? 0;
    const id = this.devices.get(resourceName)?.[i];
    if (id !== undefined) this.next.set(resourceName, i + 1);
    return id;
  }
}

/** The list with "deviceID" set in its first plugin, as Multus injects it. */
export function withDeviceId(list: NetConfList, deviceID: string): NetConfList {
  const [first, ...rest] = list.plugins;
  const raw = { ...list.raw, plugins: [{ ...first, deviceID }, ...rest] };
  return { ...parseConfList(raw), bytes: JSON.stringify(raw) };
}

const PCI_ADDRESS = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;

/**
 * device-info for network-status (device-info-spec): a PCI address (what the SR-IOV device plugin
 * allocates) becomes {"type": "pci", ...}; another kind of device ID has no type braid can name.
 */
export function deviceInfoFor(deviceID: string): Record<string, unknown> | undefined {
  return PCI_ADDRESS.test(deviceID) ? { type: 'pci', version: '1.1.0', pci: { 'pci-address': deviceID } } : undefined;
}
