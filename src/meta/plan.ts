// Planning, pure: the ordered attachments of a pod. Cluster network first on
// CNI_IFNAME, then default networks, then selections; position N gets net<N> unless it names
// an interface (Multus's numbering, so names don't change when switching).
import { CniError, Code } from '../cni/errors.js';
import { parseConfList, type NetConfList } from '../cni/config.js';
import { validateInterfaceName } from '../cni/names.js';
import type { NetworkSelection } from './network-selection.js';
import { requestArgsCni, type AddressRequest } from './requested-addresses.js';
import { withDeviceId, type DeviceAllocator } from './device-info.js';

export interface ResolvedNetwork {
  /** "ns/name" for a NAD, the network name for a file or inline config. */
  displayName: string;
  list: NetConfList;
  /** The NAD's k8s.v1.cni.cncf.io/resourceName: it needs one of the pod's devices. */
  resourceName?: string;
}

export interface Attachment {
  network: string;
  ifname: string;
  list: NetConfList;
  capabilityArgs: Record<string, unknown>;
  isCluster: boolean;
  wantsDefaultRoute?: boolean;
  defaultRouteGateways?: string[];
  /** The selection's ips/mac: sent as CNI_ARGS on ADD and checked in its result. */
  requested?: AddressRequest;
  /** The device the kubelet allocated for the NAD's resourceName (or the selection's deviceID). */
  deviceID?: string;
}

export interface PlanInput {
  cluster: ResolvedNetwork;
  defaults: ResolvedNetwork[];
  selections: Array<{ selection: NetworkSelection; network: ResolvedNetwork }>;
  ifname: string;
  /** The runtime's own capability args: only the cluster network gets them (NPWG §4.1.2.1). */
  runtimeCapabilityArgs: Record<string, unknown>;
  /** NPWG v1.3's rule: refuse ips/mac/... up front when no plugin declares the capability. */
  strictCapabilities?: boolean;
  /** The pod's device-plugin devices, for NADs with a resourceName. */
  devices?: DeviceAllocator;
}

// NPWG selection keys and the capability each becomes in runtimeConfig.
const SELECTION_CAPABILITIES: Array<[keyof NetworkSelection, string]> = [
  ['ips', 'ips'],
  ['mac', 'mac'],
  ['portMappings', 'portMappings'],
  ['bandwidth', 'bandwidth'],
  ['infinibandGuid', 'infinibandGUID'],
];

const declares = (list: NetConfList, cap: string) =>
  list.plugins.some((p) => (p.capabilities as Record<string, unknown> | undefined)?.[cap] === true);

/** cni-args land in every plugin's args.cni, overriding the NAD's own values (NPWG §4.1.2.1.4). */
function withCniArgs(list: NetConfList, cniArgs: Record<string, unknown> | undefined): NetConfList {
  if (!cniArgs || Object.keys(cniArgs).length === 0) return list;
  const plugins = list.plugins.map((p) => {
    const args = (p.args && typeof p.args === 'object' ? p.args : {}) as Record<string, unknown>;
    const cni = (args.cni && typeof args.cni === 'object' ? args.cni : {}) as Record<string, unknown>;
    return { ...p, args: { ...args, cni: { ...cni, ...cniArgs } } };
  });
  const raw = { ...list.raw, plugins };
  return { ...parseConfList(raw), bytes: JSON.stringify(raw) };
}

// ips/mac also travel in args.cni and CNI_ARGS and are checked after ADD, so without strict mode
// an undeclared one is still sent (Multus); the others have no second channel and are only passed on.
function selectionCapabilities(sel: NetworkSelection, network: ResolvedNetwork, strict: boolean): Record<string, unknown> {
  const caps: Record<string, unknown> = {};
  for (const [key, cap] of SELECTION_CAPABILITIES) {
    const value = sel[key];
    if (value === undefined) continue;
    if (!declares(network.list, cap) && (strict || (key !== 'ips' && key !== 'mac'))) {
      throw new CniError(
        Code.InvalidConfig,
        `network ${network.displayName}: ${sel.source} asks for ${String(key)} but no plugin in its config declares the "${cap}" capability`,
      );
    }
    caps[cap] = value;
  }
  return caps;
}

export function planAttachments(input: PlanInput): Attachment[] {
  const plan: Attachment[] = [
    {
      network: input.cluster.displayName,
      ifname: input.ifname,
      list: input.cluster.list,
      capabilityArgs: input.runtimeCapabilityArgs,
      isCluster: true,
    },
  ];
  // Multus hands out a resource's devices in attachment order, one each.
  const device = (net: ResolvedNetwork) => (net.resourceName ? input.devices?.take(net.resourceName) : undefined);
  const withDevice = (list: NetConfList, id: string | undefined) => (id ? withDeviceId(list, id) : list);
  for (const net of input.defaults) {
    const id = device(net);
    plan.push({
      network: net.displayName,
      ifname: `net${plan.length}`,
      list: withDevice(net.list, id),
      capabilityArgs: id ? { deviceID: id } : {},
      isCluster: false,
      ...(id ? { deviceID: id } : {}),
    });
  }
  const defaultRouteAsks = input.selections.filter((s) => s.selection.defaultRoute !== undefined);
  if (defaultRouteAsks.length > 1) {
    throw new CniError(Code.InvalidConfig, `only one network may request default-route; ${defaultRouteAsks.map((s) => s.selection.source).join(' and ')} both do`);
  }
  for (const { selection, network } of input.selections) {
    const ifname = selection.interface ?? `net${plan.length}`;
    validateInterfaceName(ifname, `${selection.source}.interface`, Code.InvalidConfig);
    const requested: AddressRequest = {
      ...(selection.ips !== undefined ? { ips: selection.ips } : {}),
      ...(selection.mac !== undefined ? { mac: selection.mac } : {}),
    };
    const asked = Object.keys(requested).length > 0;
    // A device for the NAD's resourceName wins over the selection's own deviceID (Multus).
    const allocated = device(network);
    const deviceID = allocated ?? selection.deviceID;
    plan.push({
      network: network.displayName,
      ifname,
      // The selection's own cni-args win over the ips/mac copies.
      list: withDevice(withCniArgs(network.list, asked || selection.cniArgs ? { ...requestArgsCni(requested), ...selection.cniArgs } : undefined), allocated),
      capabilityArgs: { ...selectionCapabilities(selection, network, input.strictCapabilities === true), ...(deviceID ? { deviceID } : {}) },
      isCluster: false,
      ...(selection.defaultRoute !== undefined ? { wantsDefaultRoute: true, defaultRouteGateways: selection.defaultRoute } : {}),
      ...(asked ? { requested } : {}),
      ...(deviceID ? { deviceID } : {}),
    });
  }
  const seen = new Map<string, string>();
  for (const a of plan) {
    const other = seen.get(a.ifname);
    if (other) throw new CniError(Code.InvalidConfig, `interface name "${a.ifname}" is used by both ${other} and ${a.network}`);
    seen.set(a.ifname, a.network);
  }
  return plan;
}
