// What braid knows about each reference plugin (containernetworking/plugins), as data:
// whether it creates the interface or needs a prevResult, and whether it takes IPAM.

export type PluginRole = 'interface' | 'chained' | 'ipam';
export type IpamUse = 'required' | 'optional' | 'none' | 'unless-chained';

export interface PluginTraits {
  role: PluginRole;
  ipam: IpamUse;
}

const iface = (ipam: IpamUse): PluginTraits => ({ role: 'interface', ipam });
const chained: PluginTraits = { role: 'chained', ipam: 'none' };
const ipamOnly: PluginTraits = { role: 'ipam', ipam: 'none' };

export const PLUGINS: Record<string, PluginTraits> = {
  bridge: iface('optional'),
  'host-device': iface('optional'),
  ipvlan: iface('unless-chained'), // takes the prevResult's IPs when chained (ipvlan.go cmdAdd)
  macvlan: iface('optional'),
  ptp: iface('required'),
  vlan: iface('required'),
  dummy: iface('required'),
  loopback: iface('none'),
  tap: iface('optional'),
  // Third-party plugins Multus users run most (their schemas record the release described).
  sriov: iface('optional'),
  'ib-sriov': iface('optional'),
  ovs: iface('optional'),
  macvtap: iface('optional'),
  bond: iface('optional'),
  'route-override': chained,
  // Meta plugins: "Required prevResult missing" / "must be called as chained plugin".
  tuning: chained,
  bandwidth: chained,
  firewall: chained,
  portmap: chained,
  sbr: chained,
  vrf: chained,
  // IPAM plugins belong in an ipam section, never in plugins[].type.
  'host-local': ipamOnly,
  static: ipamOnly,
  dhcp: ipamOnly,
  whereabouts: ipamOnly,
};

/** Types whose <type>.schema.json ships in conflist-schemas/ (braid's is generated from zod). */
export const SCHEMA_TYPES = [
  'bridge', 'host-device', 'ipvlan', 'macvlan', 'ptp', 'vlan', 'loopback', 'dummy', 'tap',
  'host-local', 'static', 'dhcp',
  'tuning', 'bandwidth', 'firewall', 'portmap', 'sbr', 'vrf',
  'sriov', 'ib-sriov', 'ovs', 'macvtap', 'bond', 'route-override', 'whereabouts',
  'multus', 'multus-daemon-config',
  'braid',
] as const;

const SCHEMA_TYPE_SET: ReadonlySet<string> = new Set(SCHEMA_TYPES);
export const hasSchemaFile = (type: string) => SCHEMA_TYPE_SET.has(type);

/** Types that share another type's schema: thick Multus's entry is a Multus config. */
const SCHEMA_ALIASES: Record<string, string> = { 'multus-shim': 'multus' };
export const schemaNameOf = (type: string) => (Object.hasOwn(SCHEMA_ALIASES, type) ? SCHEMA_ALIASES[type]! : type);

/** Well-known capability names (CONVENTIONS.md, plus CRI-O's pod annotations). */
export const CAPABILITIES = [
  'portMappings', 'ipRanges', 'bandwidth', 'dns', 'ips', 'mac', 'infinibandGUID', 'deviceID',
  'aliases', 'cgroupPath', 'io.kubernetes.cri.pod-annotations',
] as const;

/** Versions of the CNI specification, oldest first. */
export const SPEC_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/**
 * Third-party plugin types close to a reference type by spelling, so never taken for a typo
 * (kubevirt's macvtap, ipvtap and cnv-bridge, the l2-bridge example, ...).
 */
export const OTHER_KNOWN_TYPES = [
  'macvtap', 'ipvtap', 'cnv-bridge', 'l2-bridge', 'ovs', 'sriov', 'ib-sriov', 'whereabouts', 'flannel', 'calico',
  'calico-ipam', 'cilium-cni', 'multus', 'multus-shim', 'kube-ovn', 'ovn-k8s-cni-overlay', 'antrea', 'weave-net',
  'route-override', 'dnsname', 'isolation', 'iplink', 'mptcp', 'firewalld', 'win-bridge', 'win-overlay', 'k8s-bridge',
];
