// Every finding code braid validate can emit, as data: the code is stable, its default
// severity follows what happens at ADD (error: ADD fails or a setting is silently lost;
// warning: works, but probably not as meant; info: worth knowing), and a rule config can
// override it. The README's validate section mirrors this table.
export type Severity = 'error' | 'warning' | 'info';
export type Layer = 'syntax' | 'schema' | 'semantic' | 'binary' | 'annotation';

export interface CodeInfo {
  severity: Severity;
  layer: Layer;
  summary: string;
}

const e = (layer: Layer, summary: string): CodeInfo => ({ severity: 'error', layer, summary });
const w = (layer: Layer, summary: string): CodeInfo => ({ severity: 'warning', layer, summary });
const i = (layer: Layer, summary: string): CodeInfo => ({ severity: 'info', layer, summary });

export const CODES = {
  // Syntax: the bytes do not parse.
  BRD101: e('syntax', 'JSON syntax error'),
  BRD102: e('syntax', 'YAML syntax error'),
  BRD103: e('syntax', 'NetworkAttachmentDefinition spec.config is not valid JSON'),
  BRD104: w('syntax', 'document is not a CNI config, NetworkAttachmentDefinition or pod; skipped'),
  BRD105: w('syntax', 'no configuration files found under a directory'),
  BRD106: e('syntax', 'file cannot be read'),
  BRD107: e('syntax', 'file is a template (Go template actions or placeholders) to render first'),
  BRD108: e('syntax', 'duplicate key with another value: the earlier setting is silently lost'),
  BRD109: w('syntax', 'duplicate key repeating the same value'),
  BRD110: e('syntax', 'no document found in the input'),

  // Schema: conflist-schemas/*.schema.json.
  BRD201: e('schema', 'required field missing'),
  BRD202: e('schema', 'value has the wrong type'),
  BRD203: e('schema', 'value is not one of the allowed values'),
  BRD204: e('schema', 'value out of range or malformed'),
  BRD205: w('schema', 'unknown key (the plugin ignores it)'),
  BRD206: e('schema', 'unknown key that is a typo of a known key (the setting is silently lost)'),
  BRD207: w('schema', 'key differs from a known key only in letter case'),
  BRD208: i('schema', 'plugin type has no schema; its keys were not checked'),
  BRD209: e('schema', 'other schema violation'),
  BRD210: e('schema', 'plugin, IPAM or Kubernetes kind that is a typo of a known one'),
  BRD211: w('schema', 'cniVersion missing: plugins then assume 0.1.0'),
  BRD213: e('semantic', 'Multus config without delegates or clusterNetwork (Multus refuses it)'),
  BRD214: i('schema', 'Multus key braid does not support when it runs from the file'),
  BRD212: w('schema', 'single-plugin config without a name (libcni accepts it; what keys networks by name does not)'),

  // Semantics: what the schema cannot say.
  BRD301: e('semantic', 'invalid network name'),
  BRD302: e('semantic', 'cniVersion is not a known CNI specification version'),
  BRD303: w('semantic', 'cniVersion and cniVersions disagree, or a version cannot be used for a list'),
  BRD304: w('semantic', "a plugin's own cniVersion or name differs from the list's (the runtime overrides it)"),
  BRD305: e('semantic', 'first plugin of the list does not create an interface'),
  BRD306: e('semantic', 'an IPAM plugin used as a plugin type, or a network plugin as an ipam type'),
  BRD307: e('semantic', 'plugin needs an ipam section and has none'),
  BRD308: e('semantic', 'plugin does not use an ipam section but has one'),
  BRD309: w('semantic', 'more than one interface-creating plugin in one list'),
  BRD310: e('semantic', 'IP address or CIDR does not parse'),
  BRD311: e('semantic', 'subnet has host bits set'),
  BRD312: e('semantic', 'subnet too small to allocate from'),
  BRD313: e('semantic', 'address outside its subnet'),
  BRD314: e('semantic', 'rangeStart is after rangeEnd'),
  BRD315: e('semantic', 'IP ranges overlap'),
  BRD316: e('semantic', 'address family mismatch'),
  BRD317: e('semantic', 'host-local IPAM has no ranges'),
  BRD318: i('semantic', 'static IPAM has no addresses: they must come from the pod'),
  BRD320: e('semantic', 'bandwidth rate without burst, or burst without rate'),
  BRD321: e('semantic', 'bandwidth shapedSubnets and unshapedSubnets are exclusive'),
  BRD322: e('semantic', 'plugin needs a capability it does not declare'),
  BRD323: w('semantic', 'unknown capability name'),
  BRD324: e('semantic', 'conflicting plugin options'),
  BRD325: e('semantic', 'host-device names no device'),
  BRD326: e('semantic', 'invalid MAC address'),
  BRD327: e('semantic', 'invalid interface name'),
  BRD328: e('semantic', 'tuning sysctl outside net.*'),
  BRD329: e('semantic', 'route gateway in a different address family than its destination'),
  BRD330: e('semantic', 'duplicate network name in one directory, or duplicate NetworkAttachmentDefinition'),
  BRD331: w('semantic', 'network name also used by a file in another directory'),
  BRD332: w('semantic', 'subnet overlaps a subnet of another network'),
  BRD333: e('semantic', 'invalid NetworkAttachmentDefinition name'),
  BRD334: w('semantic', 'NetworkAttachmentDefinition name and spec.config name differ'),
  BRD335: w('semantic', 'NetworkAttachmentDefinition has no spec.config and no file given defines it'),
  BRD336: e('semantic', 'interface named by the config does not exist on this node'),
  BRD337: e('semantic', 'setting the plugins release validated for refuses on ADD (it needs a newer release)'),

  // Binaries: --cni-path / CNI_PATH (libcni ValidateNetworkList).
  BRD401: e('binary', 'plugin binary not found in the CNI path'),
  BRD402: e('binary', 'plugin binary is not executable'),
  BRD403: e('binary', 'plugin binary does not support the configuration cniVersion'),
  BRD404: e('binary', 'plugin binary did not answer VERSION'),

  // Annotations: the multi-network standard (NPWG v1.3) and Multus extensions.
  BRD501: e('annotation', 'invalid k8s.v1.cni.cncf.io/networks annotation'),
  BRD502: e('annotation', 'annotation references a network that is not among the files given'),
  BRD503: e('annotation', 'invalid interface name in an annotation'),
  BRD504: e('annotation', 'invalid IP address in an annotation'),
  BRD505: e('annotation', 'invalid MAC address in an annotation'),
  BRD506: e('annotation', 'invalid port mapping in an annotation'),
  BRD507: e('annotation', 'two attachments use the same interface name'),
  BRD508: e('annotation', 'more than one attachment sets default-route'),
  BRD509: e('annotation', 'invalid v1.multus-cni.io/default-network annotation'),
  BRD510: e('annotation', 'invalid cni (CNI-Genie) annotation'),
  BRD511: e('annotation', 'attachment asks for a capability no plugin of the network declares'),
  BRD514: w('annotation', 'attachment asks for ips or mac, but no plugin of the network declares the capability (passed in CNI_ARGS, checked after ADD)'),
  BRD512: e('annotation', 'annotation key that is a typo of a network annotation (it is ignored)'),
  BRD513: e('annotation', 'network annotation on a workload instead of its pod template (pods never see it)'),
} as const satisfies Record<string, CodeInfo>;

export type FindingCode = keyof typeof CODES;

/** Short table for `braid validate --help`. */
export function codesHelp(): string {
  const byLayer = new Map<Layer, string[]>();
  for (const [code, info] of Object.entries(CODES) as [FindingCode, CodeInfo][]) {
    const lines = byLayer.get(info.layer) ?? [];
    lines.push(`  ${code} ${info.severity[0]!.toUpperCase()}  ${info.summary}`);
    byLayer.set(info.layer, lines);
  }
  return [...byLayer].map(([layer, lines]) => `${layer}:\n${lines.join('\n')}`).join('\n');
}
