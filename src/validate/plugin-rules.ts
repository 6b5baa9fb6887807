// Per-plugin rules each reference plugin enforces only when ADD runs (loadNetConf and friends),
// and the field checks they share. Keyed by plugin type, as data.
import { interfaceNameProblem } from '../cni/names.js';
import { isObject, type Json } from './classify.js';
import type { FindingSink, Scope } from './finding.js';
import { isMac, parseCidr } from './ip-utils.js';
import { escapeSegment, fieldPath } from './json-pointer.js';
import type { PluginAt } from './schema-layer.js';
import { describeVersion, olderThan, type PluginsVersion } from './plugin-versions.js';

/** What rules may know beyond the config: the plugins release, and this node's links when asked. */
export interface RuleContext {
  pluginsVersion: PluginsVersion;
  /** Names in /sys/class/net of the machine validated for (only with --node). */
  hostLinks?: ReadonlySet<string>;
}

type Rule = (p: PluginAt, scope: Scope, sink: FindingSink, ctx: RuleContext) => void;

const declares = (p: PluginAt, cap: string) => isObject(p.conf.capabilities) && p.conf.capabilities[cap] === true;
/** runtimeConfig key, matched case-insensitively as Go's encoding/json does. */
function runtimeValue(p: PluginAt, key: string): { key: string; value: unknown } | undefined {
  if (!isObject(p.conf.runtimeConfig)) return undefined;
  const k = Object.keys(p.conf.runtimeConfig).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : { key: k, value: p.conf.runtimeConfig[k] };
}
const positive = (v: unknown) => typeof v === 'number' && v > 0;
/** "plugins[2] (portmap)", or just the type for a single-plugin conf. */
export const pluginLabel = (p: PluginAt) => (p.rel === '' ? String(p.type) : `${fieldPath(p.rel)} (${p.type})`);

const RULES: Record<string, Rule> = {
  bridge(p, scope, sink, ctx) {
    const c = p.conf;
    checkIfName(c.bridge, `${p.rel}/bridge`, scope, sink);
    // Since plugins 1.8.0, vlan with vlanTrunk is the trunk's native (untagged) VLAN; before, ADD refused it.
    if (positive(c.vlan) && Array.isArray(c.vlanTrunk) && c.vlanTrunk.length > 0 && olderThan(ctx.pluginsVersion, '1.8.0')) {
      sink.at(scope, 'BRD337', `${p.rel}/vlanTrunk`, `${pluginLabel(p)}: vlan ${c.vlan} with vlanTrunk needs plugins 1.8.0 or later (native VLAN of the trunk); ${describeVersion(ctx.pluginsVersion)} refuse it on ADD ("cannot set vlan and vlanTrunk at the same time")`, 'upgrade the plugins, or make the port an access port (vlan) or a trunk (vlanTrunk)');
    }
    if (c.hairpinMode === true && c.promiscMode === true) {
      sink.at(scope, 'BRD324', `${p.rel}/promiscMode`, 'hairpinMode and promiscMode cannot both be true', 'the bridge plugin refuses this combination on ADD');
    }
    if (c.disableContainerInterface === true && isObject(c.ipam) && c.ipam.type) {
      sink.at(scope, 'BRD324', `${p.rel}/disableContainerInterface`, 'disableContainerInterface cannot be used with an ipam section', 'remove the ipam section, or keep the interface up');
    }
    if (Array.isArray(c.vlanTrunk)) {
      c.vlanTrunk.forEach((t, i) => {
        if (!isObject(t)) return;
        const at = `${p.rel}/vlanTrunk/${i}`;
        if ((t.minID === undefined) !== (t.maxID === undefined)) {
          sink.at(scope, 'BRD324', `${at}/${t.minID === undefined ? 'minID' : 'maxID'}`, `${fieldPath(at)}: minID and maxID must be given together`);
        } else if (typeof t.minID === 'number' && typeof t.maxID === 'number' && t.minID > t.maxID) {
          sink.at(scope, 'BRD324', `${at}/minID`, `${fieldPath(at)}: minID ${t.minID} is greater than maxID ${t.maxID}`);
        }
      });
    }
  },
  macvlan(p, scope, sink, ctx) {
    checkMaster(p, scope, sink, ctx);
    checkMac(p.conf.mac, `${p.rel}/mac`, scope, sink);
  },
  ipvlan: checkMaster,
  vlan: checkMaster,
  vrf(p, scope, sink) {
    checkIfName(p.conf.vrfname, `${p.rel}/vrfname`, scope, sink);
  },
  'host-device'(p, scope, sink, ctx) {
    const c = p.conf;
    checkIfName(c.device, `${p.rel}/device`, scope, sink);
    checkHostLink(c.device, `${p.rel}/device`, p, scope, sink, ctx);
    checkMac(c.hwaddr, `${p.rel}/hwaddr`, scope, sink);
    const named = ['device', 'hwaddr', 'kernelpath', 'pciBusID'].some((k) => typeof c[k] === 'string' && c[k] !== '');
    if (!named && !declares(p, 'deviceID') && !runtimeValue(p, 'deviceID')) {
      sink.at(scope, 'BRD325', `${p.rel}/device`, `${pluginLabel(p)} names no device: set one of device, hwaddr, kernelpath or pciBusID`, 'or declare "capabilities": {"deviceID": true} when a device plugin supplies it');
    }
  },
  tuning(p, scope, sink) {
    checkMac(p.conf.mac, `${p.rel}/mac`, scope, sink);
    if (!isObject(p.conf.sysctl)) return;
    for (const key of Object.keys(p.conf.sysctl)) {
      // tuning.go: the key becomes a path under /proc/sys and must stay inside /proc/sys/net/.
      const path = `/proc/sys/${key.replace(/\./g, '/')}`.split('/').reduce<string[]>((acc, seg) => (seg === '..' ? acc.slice(0, -1) : seg && seg !== '.' ? [...acc, seg] : acc), []);
      if (path[0] !== 'proc' || path[1] !== 'sys' || path[2] !== 'net' || path.length < 4) {
        sink.at(scope, 'BRD328', `${p.rel}/sysctl/${escapeSegment(key)}`, `sysctl ${JSON.stringify(key)} is not a network sysctl (net.*); tuning refuses it`, 'e.g. "net.ipv4.conf.IFNAME.arp_notify"');
      }
    }
  },
  portmap(p, scope, sink) {
    const c = p.conf;
    const rt = runtimeValue(p, 'portMappings');
    if (!declares(p, 'portMappings') && !(rt && Array.isArray(rt.value) && rt.value.length > 0)) {
      sink.at(scope, 'BRD322', `${p.rel}/capabilities/portMappings`, `${pluginLabel(p)} does not declare the "portMappings" capability: the runtime passes it no mappings and it does nothing`, 'add "capabilities": {"portMappings": true}');
    }
    if (c.markMasqBit !== undefined && c.externalSetMarkChain !== undefined) {
      sink.at(scope, 'BRD324', `${p.rel}/externalSetMarkChain`, 'markMasqBit and externalSetMarkChain cannot both be set', 'portmap refuses this combination; keep one');
    }
  },
  bandwidth(p, scope, sink) {
    const c = p.conf;
    checkRates(c, p.rel, scope, sink);
    const rt = runtimeValue(p, 'bandwidth');
    if (rt && isObject(rt.value)) checkRates(rt.value, `${p.rel}/runtimeConfig/${escapeSegment(rt.key)}`, scope, sink);
    const staticRates = ['ingressRate', 'egressRate', 'ingressBurst', 'egressBurst'].some((k) => positive(c[k]));
    if (!staticRates && !declares(p, 'bandwidth') && !rt) {
      sink.at(scope, 'BRD322', `${p.rel}/capabilities/bandwidth`, `${pluginLabel(p)} sets no rates and does not declare the "bandwidth" capability: it shapes nothing`, 'add "capabilities": {"bandwidth": true}, or static ingressRate/ingressBurst, egressRate/egressBurst');
    }
    const shaped = Array.isArray(c.shapedSubnets) && c.shapedSubnets.length > 0;
    const unshaped = Array.isArray(c.unshapedSubnets) && c.unshapedSubnets.length > 0;
    if (shaped && unshaped) sink.at(scope, 'BRD321', `${p.rel}/shapedSubnets`, 'shapedSubnets and unshapedSubnets cannot both be set', 'keep one of them');
    checkCidrList(c.shapedSubnets, `${p.rel}/shapedSubnets`, scope, sink);
    checkCidrList(c.unshapedSubnets, `${p.rel}/unshapedSubnets`, scope, sink);
  },
};

/** bandwidth main.go validateRateAndBurst: a rate needs a burst and a burst a rate. */
function checkRates(o: Json, rel: string, scope: Scope, sink: FindingSink): void {
  for (const dir of ['ingress', 'egress']) {
    const rate = o[`${dir}Rate`];
    const burst = o[`${dir}Burst`];
    if (positive(rate) && !positive(burst)) {
      sink.at(scope, 'BRD320', `${rel}/${dir}Burst`, `${fieldPath(`${rel}/${dir}Rate`)} is ${rate} but ${dir}Burst is ${burst === undefined ? 'missing' : burst}: a rate needs a burst`, `add "${dir}Burst" (bits), e.g. the rate in bits per second divided by 10`);
    } else if (positive(burst) && !positive(rate)) {
      sink.at(scope, 'BRD320', `${rel}/${dir}Rate`, `${fieldPath(`${rel}/${dir}Burst`)} is ${burst} but ${dir}Rate is ${rate === undefined ? 'missing' : rate}: a burst needs a rate`, `add "${dir}Rate" (bits per second)`);
    }
  }
}

export function checkPluginRules(p: PluginAt, scope: Scope, sink: FindingSink, ctx: RuleContext): void {
  if (p.type && Object.hasOwn(RULES, p.type)) RULES[p.type]!(p, scope, sink, ctx);
}

/** macvlan, ipvlan, vlan: the master is a host link; ADD (and every DEL) fails with "Link not found" without it. */
function checkMaster(p: PluginAt, scope: Scope, sink: FindingSink, ctx: RuleContext): void {
  checkIfName(p.conf.master, `${p.rel}/master`, scope, sink);
  checkHostLink(p.conf.master, `${p.rel}/master`, p, scope, sink, ctx);
}

function checkHostLink(value: unknown, rel: string, p: PluginAt, scope: Scope, sink: FindingSink, ctx: RuleContext): void {
  if (!ctx.hostLinks || typeof value !== 'string' || value === '' || ctx.hostLinks.has(value) || interfaceNameProblem(value)) return;
  sink.at(scope, 'BRD336', rel, `${pluginLabel(p)}: ${fieldPath(rel)} ${JSON.stringify(value)} is not a link on this node (/sys/class/net); ADD fails with "Link not found", and so does every DEL of the pod`, 'create the link on every node, or name one that exists');
}

/** Interface name rule for names the config gives (bridge, master, vrfname, device). */
export function checkIfName(value: unknown, rel: string, scope: Scope, sink: FindingSink): void {
  if (typeof value !== 'string' || value === '') return;
  const problem = interfaceNameProblem(value);
  // the schemas' maxLength already reports a name that is too long
  if (problem && !problem.startsWith('exceeds')) sink.at(scope, 'BRD327', rel, `${fieldPath(rel)}: interface name ${JSON.stringify(value)} ${problem}`);
}

export function checkMac(value: unknown, rel: string, scope: Scope, sink: FindingSink): void {
  if (typeof value !== 'string' || value === '' || isMac(value)) return;
  sink.at(scope, 'BRD326', rel, `${fieldPath(rel)} ${JSON.stringify(value)} is not a MAC address`, 'write six hex octets separated by colons, e.g. "02:00:00:00:00:01"');
}

export function checkCidrList(value: unknown, rel: string, scope: Scope, sink: FindingSink): void {
  if (!Array.isArray(value)) return;
  value.forEach((v, i) => {
    if (typeof v === 'string' && !parseCidr(v)) sink.at(scope, 'BRD310', `${rel}/${i}`, `${fieldPath(`${rel}/${i}`)} ${JSON.stringify(v)} is not a subnet in CIDR notation`);
  });
}
