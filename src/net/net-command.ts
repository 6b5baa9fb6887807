// `braid net`: cnitool-compatible manual driver for a configuration list
// (containernetworking/cni cnitool/cnitool.go): same env vars, same container ID rule.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CniError, Code, toCniError } from '../cni/errors.js';
import { parseCniArgs } from '../cni/cni-args.js';
import { parseConfigBytes, type NetConfList } from '../cni/config.js';
import { validateContainerId, validateInterfaceName } from '../cni/names.js';
import { toVersion } from '../cni/result.js';
import { Engine, type RuntimeConf } from '../engine/engine.js';
import { loadConfListByName, readConfigFile } from '../engine/conf-files.js';
import { configBytes, readRecord } from '../engine/result-cache.js';

export const NET_HELP = `braid net: run a CNI network configuration list by hand (cnitool-compatible)

Usage:
  braid net add    <network-name-or-file> <netns-path>
  braid net check  <network-name-or-file> <netns-path>
  braid net del    <network-name-or-file> [netns-path]
  braid net status <network-name-or-file>
  braid net gc     <network-name-or-file>

A name is looked up in NETCONFPATH (default /etc/cni/net.d; .conflist first, then .conf/.json).
Environment (as cnitool):
  CNI_PATH         plugin directories, ':'-separated (required)
  CNI_IFNAME       interface name in the namespace (default eth0)
  CNI_CONTAINERID  container ID (default: cnitool-<sha512(netns)[:20 hex]>)
  CNI_ARGS         extra K=V;K2=V2 arguments for the plugins
  CAP_ARGS         capability arguments as JSON, e.g. {"portMappings":[...],"bandwidth":{...}}
  CNI_CACHE_DIR    result cache directory (default /var/lib/cni/braid); or --cache-dir DIR
  CNI_VALID_ATTACHMENTS  for gc: JSON list of {"containerID","ifname"} to keep (default none)

DEL replays the cached config of the ADD byte for byte when a cache record exists.
Prints the result JSON on success; on failure prints the CNI error JSON and exits 1.
`;

const VERBS = ['add', 'check', 'del', 'status', 'gc'] as const;

function loadList(ref: string, netdir: string): NetConfList {
  if (ref.includes('/') || existsSync(ref)) return readConfigFile(resolve(ref));
  const list = loadConfListByName(netdir, ref);
  if (!list) throw new CniError(Code.InvalidConfig, `no network configuration named ${JSON.stringify(ref)} in ${netdir}`);
  return list;
}

/** cnitool derives the container ID from the netns path so add and del agree. */
export const containerIdForNetns = (netns: string) =>
  `cnitool-${createHash('sha512').update(netns).digest('hex').slice(0, 20)}`;

function parseCapArgs(raw: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw new CniError(Code.InvalidEnv, `CAP_ARGS must be a JSON object, got ${JSON.stringify(raw.slice(0, 100))}`);
}

export async function netMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const args = [...argv];
  let cacheDir = env.CNI_CACHE_DIR || '/var/lib/cni/braid';
  const ci = args.indexOf('--cache-dir');
  if (ci >= 0) {
    cacheDir = args[ci + 1] ?? '';
    args.splice(ci, 2);
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(NET_HELP);
    return 0;
  }
  const [verb, ref, netnsArg] = args;
  if (!verb || !(VERBS as readonly string[]).includes(verb) || !ref || ((verb === 'add' || verb === 'check') && !netnsArg)) {
    process.stderr.write(NET_HELP);
    return 2;
  }
  try {
    const out = await runNet(verb as (typeof VERBS)[number], ref, netnsArg, env, cacheDir);
    if (out !== undefined) process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
    return 0;
  } catch (e) {
    process.stdout.write(`${JSON.stringify(toCniError(e).toJSON('1.1.0'), null, 4)}\n`);
    return 1;
  }
}

async function runNet(verb: (typeof VERBS)[number], ref: string, netnsArg: string | undefined, env: NodeJS.ProcessEnv, cacheDir: string) {
  const path = (env.CNI_PATH ?? '').split(':').filter(Boolean);
  if (path.length === 0) throw new CniError(Code.InvalidEnv, 'CNI_PATH is required');
  const engine = new Engine({ path, cacheDir });
  let list = loadList(ref, env.NETCONFPATH || '/etc/cni/net.d');
  if (verb === 'status') return void (await engine.statusList(list));
  if (verb === 'gc') {
    const valid = env.CNI_VALID_ATTACHMENTS ? JSON.parse(env.CNI_VALID_ATTACHMENTS) : [];
    return void (await engine.gcList(list, valid));
  }
  const netns = netnsArg ? resolve(netnsArg) : '';
  const rt: RuntimeConf = {
    containerId: validateContainerId(env.CNI_CONTAINERID || containerIdForNetns(netns)),
    netns,
    ifname: validateInterfaceName(env.CNI_IFNAME || 'eth0'),
    args: parseCniArgs(env.CNI_ARGS),
    capabilityArgs: parseCapArgs(env.CAP_ARGS),
  };
  if (verb === 'add') return toVersion(await engine.addList(list, rt), list.cniVersion);
  if (verb === 'check') return void (await engine.checkList(list, rt));
  // DEL replays exactly what ADD used: the cached list bytes and capability args.
  const cached = readRecord(cacheDir, { network: list.name, containerId: rt.containerId, ifname: rt.ifname });
  if (cached.state === 'ok') {
    list = parseConfigBytes(configBytes(cached.record), 'cached network config');
    if (!env.CAP_ARGS && cached.record.capabilityArgs) rt.capabilityArgs = cached.record.capabilityArgs;
    if (!rt.netns && cached.record.netns) rt.netns = cached.record.netns;
  }
  await engine.delList(list, rt);
  return undefined;
}
