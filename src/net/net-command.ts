// `braid net`: cnitool-compatible manual driver for a configuration list
// (containernetworking/cni cnitool/cnitool.go): same env vars, same container ID rule.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCommandLine, UsageError } from '../cli/flags.js';
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

Options:
  --cache-dir DIR  result cache directory (default: $CNI_CACHE_DIR, else /var/lib/cni/braid)
  -h, --help       this help

The netns of add and check must exist and be a network namespace; nothing runs otherwise.

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

const USAGE_OF: Record<(typeof VERBS)[number], string> = {
  add: '<network-name-or-file> <netns-path>',
  check: '<network-name-or-file> <netns-path>',
  del: '<network-name-or-file> [netns-path]',
  status: '<network-name-or-file>',
  gc: '<network-name-or-file>',
};

/**
 * The namespace must be a network namespace now: otherwise plugins that set up the host side
 * first (bridge) would change the host before failing. Every namespace file is on nsfs, so it
 * shares the device of this process's own.
 */
function checkNetns(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such network namespace' : `not usable as a network namespace (${code})`}`);
  }
  if (st.dev !== statSync('/proc/self/ns/net').dev) throw new UsageError(`${path}: not a network namespace (e.g. /var/run/netns/NAME or /proc/PID/ns/net)`);
  return path;
}

export async function netMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { 'cache-dir': { type: 'string' } }, { positionals: true });
  if (values.help) {
    process.stdout.write(NET_HELP);
    return 0;
  }
  const cacheDir = (values['cache-dir'] as string | undefined) ?? (env.CNI_CACHE_DIR || '/var/lib/cni/braid');
  const [verb, ref, netnsArg, ...extra] = positionals;
  if (!verb) throw new UsageError(`no verb given (one of ${VERBS.join(', ')})`);
  if (!(VERBS as readonly string[]).includes(verb)) throw new UsageError(`unknown verb ${JSON.stringify(verb)} (one of ${VERBS.join(', ')})`);
  const v = verb as (typeof VERBS)[number];
  const wantsNetns = v === 'add' || v === 'check';
  const takesNetns = wantsNetns || v === 'del';
  if (!ref || (wantsNetns && !netnsArg)) throw new UsageError(`${v} needs ${USAGE_OF[v]}`);
  const stray = takesNetns ? extra[0] : (netnsArg ?? extra[0]);
  if (stray !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(stray)} (usage: braid net ${v} ${USAGE_OF[v]})`);
  if (values['cache-dir'] === '') throw new UsageError('--cache-dir: "": empty path');
  if (netnsArg && wantsNetns) checkNetns(resolve(netnsArg));
  try {
    const out = await runNet(v, ref, netnsArg, env, cacheDir);
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
