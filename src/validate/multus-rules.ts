// Multus's own configs, by Multus's rules: a thin 00-multus.conf needs a cluster network
// (LoadNetConf: "at least one delegate/clusterNetwork must be specified"); keys braid cannot
// carry over when it runs from the file are reported, so a migration loses nothing silently.
import { MULTUS_KEYS } from '../meta/multus-config.js';
import { isObject, type Json } from './classify.js';
import type { FindingSink, Scope } from './finding.js';
import { escapeSegment } from './json-pointer.js';

const UNSUPPORTED = new Map(MULTUS_KEYS.filter((k) => k.status === 'unsupported').map((k) => [k.key.toLowerCase(), k]));

export function checkMultusConfig(raw: Json, scope: Scope, sink: FindingSink, thick: boolean): void {
  if (!thick && raw.type === 'multus') {
    const delegates = Array.isArray(raw.delegates) ? raw.delegates.filter(isObject) : [];
    const cluster = typeof raw.clusterNetwork === 'string' && raw.clusterNetwork !== '';
    if (delegates.length === 0 && !cluster) {
      sink.at(scope, 'BRD213', '/clusterNetwork', 'a Multus config needs a cluster network: Multus refuses it without delegates or clusterNetwork ("at least one delegate/clusterNetwork must be specified")', 'add "clusterNetwork": "<NAD name, file or directory>", or a "delegates" list');
    }
  }
  for (const key of Object.keys(raw)) {
    const k = UNSUPPORTED.get(key.toLowerCase());
    if (k) sink.at(scope, 'BRD214', `/${escapeSegment(key)}`, `Multus key ${JSON.stringify(key)} works under Multus, but braid does not support it when it runs from this file: ${k.braid}`);
  }
}
