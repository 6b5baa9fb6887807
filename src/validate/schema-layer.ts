// Schema layer: the envelope and each plugin (and its ipam section) against conflist-schemas/.
// A type without a schema is a warning, or an error when it is a typo of a reference plugin.
import type { ValidateFunction } from 'ajv';
import { mapErrors } from './ajv-errors.js';
import { isObject, type Json, type NetworkInput, type OtherConfig } from './classify.js';
import { editDistance, suggest } from './did-you-mean.js';
import type { FindingSink, Scope } from './finding.js';
import { OTHER_KNOWN_TYPES, PLUGINS, schemaNameOf } from './plugin-catalog.js';
import { ENVELOPE_LIST, ENVELOPE_SINGLE, type SchemaRegistry } from './schema-registry.js';

/** A plugin object of a network and where it sits. */
export interface PluginAt {
  conf: Json;
  rel: string; // pointer relative to the network config: "/plugins/2" or "" for a single conf
  type: string | undefined;
}

export function pluginsOf(net: NetworkInput): PluginAt[] {
  if (!net.isList) return [{ conf: net.raw, rel: '', type: typeof net.raw.type === 'string' ? net.raw.type : undefined }];
  const plugins = Array.isArray(net.raw.plugins) ? net.raw.plugins : [];
  return plugins.flatMap((p, i) => (isObject(p) ? [{ conf: p, rel: `/plugins/${i}`, type: typeof p.type === 'string' ? p.type : undefined }] : []));
}

const ipamTypeOf = (p: PluginAt) => (isObject(p.conf.ipam) && typeof p.conf.ipam.type === 'string' ? p.conf.ipam.type : undefined);

/** Every schema name these networks need, so they compile once up front. */
export function schemasNeeded(nets: readonly NetworkInput[]): Set<string> {
  const names = new Set<string>();
  for (const net of nets) {
    names.add(net.isList ? ENVELOPE_LIST : ENVELOPE_SINGLE);
    for (const p of pluginsOf(net)) {
      if (p.type) names.add(schemaNameOf(p.type));
      const it = ipamTypeOf(p);
      if (it) names.add(it);
    }
  }
  return names;
}

/** Run one validator over data at rel, each finding once. */
function runner(scope: Scope, sink: FindingSink) {
  const seen = new Set<string>();
  return (validate: ValidateFunction | null, data: unknown, rel: string) => {
    if (!validate || validate(data)) return;
    for (const f of mapErrors(validate.errors ?? [], rel)) {
      const key = `${f.code}${f.pointer}`;
      if (seen.has(key)) continue;
      seen.add(key);
      sink.at(scope, f.code, f.pointer, f.message, f.hint);
    }
  };
}

/** A config that is no network (Multus's daemon config): its own schema only. */
export function checkOtherSchema(o: OtherConfig, registry: SchemaRegistry, sink: FindingSink): void {
  runner(o.scope, sink)(registry.get(o.schema), o.raw, '');
}

export function checkSchemas(net: NetworkInput, registry: SchemaRegistry, sink: FindingSink): void {
  const run = runner(net.scope, sink);
  // braid's daemon config (braid daemon --config) is no CNI netconf: no name, no cniVersion.
  const daemonConf = net.raw.type === 'braid' && net.raw.name === undefined && net.raw.cniVersion === undefined;
  if (!daemonConf) run(registry.get(net.isList ? ENVELOPE_LIST : ENVELOPE_SINGLE), net.raw, '');
  for (const p of pluginsOf(net)) {
    if (!p.type || PLUGINS[p.type]?.role === 'ipam') continue; // an IPAM type here: BRD306
    const v = registry.get(schemaNameOf(p.type));
    if (v) run(v, p.conf, p.rel);
    else unknownType(p.type, 'plugin', `${p.rel}/type`, net.scope, sink);
    const it = ipamTypeOf(p);
    if (!it || (PLUGINS[it] && PLUGINS[it].role !== 'ipam')) continue; // a network plugin as ipam: BRD306
    const iv = registry.get(it);
    if (iv) run(iv, p.conf.ipam, `${p.rel}/ipam`);
    else unknownType(it, 'ipam', `${p.rel}/ipam/type`, net.scope, sink);
  }
}

const TYPES_BY_KIND = {
  plugin: Object.entries(PLUGINS).filter(([, t]) => t.role !== 'ipam').map(([k]) => k),
  ipam: Object.entries(PLUGINS).filter(([, t]) => t.role === 'ipam').map(([k]) => k),
};

/** A type without a schema: a typo of a reference plugin (an error: no such binary), or unchecked. */
function unknownType(type: string, kind: 'plugin' | 'ipam', rel: string, scope: Scope, sink: FindingSink): void {
  if (!OTHER_KNOWN_TYPES.includes(type) && !Object.hasOwn(PLUGINS, type)) {
    const s = suggest(type, TYPES_BY_KIND[kind]);
    const close = s && (s.caseOnly || editDistance(type.toLowerCase(), s.word) <= (type.length >= 9 ? 2 : 1));
    if (s && close) {
      sink.at(scope, 'BRD210', rel, `${kind} type ${JSON.stringify(type)} is not a plugin binary name; the runtime will not find it`, `did you mean ${JSON.stringify(s.word)}?`);
      return;
    }
  }
  sink.at(scope, 'BRD208', rel, `${kind} type ${JSON.stringify(type)} has no schema in conflist-schemas/; its keys were not checked`, 'a third-party plugin: its own documentation is the reference');
}
