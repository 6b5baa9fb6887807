// Semantic layer, per network: what the schemas cannot say. The name rule, versions, the shape
// of the chain, IPAM presence, per-plugin rules the plugins enforce only at ADD time.
import { validateNetworkName } from '../cni/names.js';
import { compareVersions, parseSemver } from '../cni/version.js';
import { isObject, type NetworkInput } from './classify.js';
import { suggest } from './did-you-mean.js';
import type { FindingSink, Scope } from './finding.js';
import { parseIP } from './ip-utils.js';
import { checkIpam, type Pool } from './ipam-checks.js';
import { escapeSegment, fieldPath } from './json-pointer.js';
import { CAPABILITIES, PLUGINS, SPEC_VERSIONS } from './plugin-catalog.js';
import { pluginsOf, type PluginAt } from './schema-layer.js';
import { checkPluginRules, type RuleContext } from './plugin-rules.js';

export interface NetworkFacts {
  net: NetworkInput;
  name: string | undefined;
  version: string | undefined; // the version plugins will be called with
  pools: Pool[];
}

const KNOWN = new Set<string>(SPEC_VERSIONS);

export function checkSemantics(net: NetworkInput, sink: FindingSink, ctx: RuleContext): NetworkFacts {
  const scope = net.scope;
  const raw = net.raw;
  if (typeof raw.name === 'string' && !net.nameInjected) {
    try {
      validateNetworkName(raw.name);
    } catch (e) {
      sink.at(scope, 'BRD301', '/name', `network ${(e as Error).message}`, 'e.g. "braid-bridge0": letters, digits, "_", "." and "-", starting with a letter or digit');
    }
  }
  const version = checkVersions(net, sink);
  const plugins = pluginsOf(net);
  checkChain(net, plugins, sink);
  const pools: Pool[] = [];
  for (const p of plugins) {
    checkCapabilities(p, scope, sink);
    checkPluginRules(p, scope, sink, ctx);
    checkIpam(p, scope, sink, pools);
    checkDns(p, scope, sink);
    if (net.isList && p.rel !== '') {
      for (const k of ['cniVersion', 'name'] as const) {
        if (typeof p.conf[k] === 'string' && typeof raw[k] === 'string' && p.conf[k] !== raw[k]) {
          sink.at(scope, 'BRD304', `${p.rel}/${k}`, `${fieldPath(`${p.rel}/${k}`)} ${JSON.stringify(p.conf[k])} differs from the list's ${k} ${JSON.stringify(raw[k])}; the runtime replaces it with the list's`, `remove ${k} from the plugin`);
        }
      }
    }
  }
  return { net, name: typeof raw.name === 'string' ? raw.name : undefined, version, pools };
}

function checkVersions(net: NetworkInput, sink: FindingSink): string | undefined {
  const { raw, scope } = net;
  const declared = typeof raw.cniVersion === 'string' ? raw.cniVersion : undefined;
  const list = Array.isArray(raw.cniVersions) ? raw.cniVersions.filter((v): v is string => typeof v === 'string') : [];
  if (declared !== undefined && parseSemver(declared) && !KNOWN.has(declared) && list.length === 0) {
    const near = nearestVersions(declared);
    sink.at(scope, 'BRD302', '/cniVersion', `cniVersion ${JSON.stringify(declared)} is not a CNI specification version; the nearest are ${near.map((v) => JSON.stringify(v)).join(' and ')}`, `known versions: ${SPEC_VERSIONS.join(', ')}`);
  }
  const daemonConf = raw.type === 'braid' && raw.name === undefined && raw.cniVersion === undefined;
  // A list without a name fails libcni's ConfListFromBytes (the envelope schema says so); a .conf does not.
  if (!net.isList && raw.name === undefined && !daemonConf) {
    sink.at(scope, 'BRD212', '/name', 'the configuration has no name: libcni accepts a single-plugin config without one, but the spec requires it, and runtimes, Multus\'s cache and host-local\'s lease directory key the network by it', 'add "name": a unique network name on the host');
  }
  if (raw.cniVersion === undefined && list.length === 0 && !daemonConf) {
    sink.at(
      scope,
      'BRD211',
      '/cniVersion',
      `${net.nad ? 'spec.config' : 'the configuration'} has no cniVersion: libcni accepts that, and plugins then speak spec 0.1.0, the oldest result format`,
      'write the version your plugins support, e.g. "cniVersion": "1.0.0"',
    );
  }
  if (list.length > 0) {
    const usable = list.filter((v) => KNOWN.has(v));
    if (usable.length === 0 && !(declared && KNOWN.has(declared))) {
      sink.at(scope, 'BRD302', '/cniVersions', `none of cniVersions ${JSON.stringify(list)} is a CNI specification version; known: ${SPEC_VERSIONS.join(', ')}`);
    }
    if (declared !== undefined && !list.includes(declared)) {
      sink.at(scope, 'BRD303', '/cniVersion', `cniVersion ${JSON.stringify(declared)} is not listed in cniVersions ${JSON.stringify(list)}`, 'list every version the configuration supports in cniVersions, cniVersion included');
    }
  }
  const candidates = [...list, ...(declared ? [declared] : [])].filter((v) => KNOWN.has(v));
  const version = candidates.sort((a, b) => SPEC_VERSIONS.indexOf(a as never) - SPEC_VERSIONS.indexOf(b as never)).at(-1);
  if (net.isList && version && SPEC_VERSIONS.indexOf(version as never) < SPEC_VERSIONS.indexOf('0.3.0')) {
    sink.at(scope, 'BRD303', '/cniVersion', `cniVersion ${JSON.stringify(version)} predates configuration lists (0.3.0); runtimes reject this list`, 'use "1.0.0"');
  }
  return version ?? declared;
}

/** The known spec versions just below and just above one that does not exist. */
function nearestVersions(v: string): string[] {
  const below = SPEC_VERSIONS.filter((k) => compareVersions(k, v) < 0).at(-1);
  const above = SPEC_VERSIONS.find((k) => compareVersions(k, v) > 0);
  return [below, above].filter((x): x is (typeof SPEC_VERSIONS)[number] => x !== undefined);
}

function checkChain(net: NetworkInput, plugins: readonly PluginAt[], sink: FindingSink): void {
  const scope = net.scope;
  let creators = 0;
  plugins.forEach((p, index) => {
    const traits = p.type ? PLUGINS[p.type] : undefined;
    if (!traits || !p.type) return;
    const where = `${p.rel === '' ? 'the configuration' : fieldPath(p.rel)} (${p.type})`;
    const hasIpam = isObject(p.conf.ipam) && typeof p.conf.ipam.type === 'string' && p.conf.ipam.type !== '';
    const ipamType = hasIpam ? String((p.conf.ipam as { type: string }).type) : '';
    if (hasIpam && PLUGINS[ipamType] && PLUGINS[ipamType].role !== 'ipam') {
      sink.at(scope, 'BRD306', `${p.rel}/ipam/type`, `${where}: ipam type ${JSON.stringify(ipamType)} is a network plugin, not an IPAM plugin`, 'use host-local, static or dhcp');
    }
    if (traits.role === 'ipam') {
      sink.at(scope, 'BRD306', `${p.rel}/type`, `${where}: ${JSON.stringify(p.type)} is an IPAM plugin, not a network plugin`, `move it into an ipam section: "ipam": {"type": ${JSON.stringify(p.type)}, ...} of the plugin that creates the interface`);
      return;
    }
    if (traits.role === 'chained' && index === 0 && p.conf.prevResult === undefined) {
      sink.at(
        scope,
        'BRD305',
        `${p.rel}/type`,
        `${where} comes first, but it needs the result of an earlier plugin (prevResult) and creates no interface`,
        'put a plugin that creates the interface (bridge, macvlan, ipvlan, ptp, host-device, vlan) first and chain this one after it',
      );
    }
    if (traits.role === 'interface') {
      creators++;
      if (creators === 2 && p.type !== 'ipvlan') {
        sink.at(scope, 'BRD309', `${p.rel}/type`, `${where} is a second interface-creating plugin in the list; only the last result reaches the runtime`, 'use one network (NetworkAttachmentDefinition) per interface');
      }
    }
    const needs = traits.ipam === 'required' || (traits.ipam === 'unless-chained' && index === 0);
    if (needs && !hasIpam) {
      sink.at(scope, 'BRD307', `${p.rel}/ipam`, `${where} needs an ipam section: without one it has no address to assign and ADD fails`, 'add e.g. "ipam": {"type": "host-local", "ranges": [[{"subnet": "198.18.0.0/24"}]]}');
    }
    if (traits.ipam === 'none' && hasIpam) {
      sink.at(scope, 'BRD308', `${p.rel}/ipam`, `${where} does not use an ipam section; it is ignored`, 'move the ipam section to the plugin that creates the interface');
    }
  });
}

function checkCapabilities(p: PluginAt, scope: Scope, sink: FindingSink): void {
  if (!isObject(p.conf.capabilities)) return;
  for (const cap of Object.keys(p.conf.capabilities)) {
    if ((CAPABILITIES as readonly string[]).includes(cap) || cap.includes('/')) continue; // reverse-DNS names are extensions
    const s = suggest(cap, CAPABILITIES);
    const at = `${p.rel}/capabilities/${escapeSegment(cap)}`;
    sink.at(scope, 'BRD323', at, `capability ${JSON.stringify(cap)} in ${fieldPath(`${p.rel}/capabilities`)} is not a well-known capability; no runtime passes it`, s ? `did you mean ${JSON.stringify(s.word)}?` : `well-known: ${CAPABILITIES.join(', ')}`);
  }
}

function checkDns(p: PluginAt, scope: Scope, sink: FindingSink): void {
  const dns = p.conf.dns;
  if (!isObject(dns) || !Array.isArray(dns.nameservers)) return;
  dns.nameservers.forEach((ns, i) => {
    if (typeof ns === 'string' && !parseIP(ns)) sink.at(scope, 'BRD310', `${p.rel}/dns/nameservers/${i}`, `${fieldPath(`${p.rel}/dns/nameservers/${i}`)} ${JSON.stringify(ns)} is not an IP address`);
  });
}
