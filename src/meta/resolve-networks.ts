// Resolving network references (NPWG v1.3 §4.2): a NAD's spec.config, else a file in
// confDir whose network name matches (conflist first); with no API, confDir is the catalogue.
import { isAbsolute } from 'node:path';
import { statSync } from 'node:fs';
import { CniError, Code } from '../cni/errors.js';
import { parseAnyConfig, parseJsonObject, type NetConfList } from '../cni/config.js';
import { loadConfListByName, readConfigFile } from '../engine/conf-files.js';
import { findDefaultNetwork } from '../install/default-network.js';
import type { KubeApi } from '../k8s/kube-api.js';
import { nameProblem } from './network-selection.js';
import { RESOURCE_NAME_ANNOTATION } from './device-info.js';
import type { ResolvedNetwork } from './plan.js';
import type { BraidConfig } from './braid-config.js';

export interface ResolveContext {
  api: KubeApi | undefined;
  config: BraidConfig;
  podNamespace: string | undefined;
  /** Per-call memo: each distinct NAD is fetched once. */
  nadMemo: Map<string, Promise<ResolvedNetwork>>;
}

function checkIsolation(ctx: ResolveContext, namespace: string, ref: string, extraAllowed: string[] = []): void {
  if (!ctx.config.namespaceIsolation || ctx.podNamespace === undefined) return;
  const allowed = new Set([ctx.podNamespace, ...ctx.config.globalNamespaces, ...extraAllowed]);
  if (!allowed.has(namespace)) {
    throw new CniError(
      Code.InvalidConfig,
      `namespaceIsolation: pod in namespace "${ctx.podNamespace}" may not use network ${ref} from namespace "${namespace}" (allowed: ${[...allowed].join(', ')})`,
    );
  }
}

function fromNadConfig(nadName: string, configText: string, ref: string): NetConfList {
  const obj = parseJsonObject(configText, `spec.config of NetworkAttachmentDefinition ${ref}`);
  // NPWG §4.2: a config without a name takes the NAD's name (the one we asked for: the API's
  // answer is unchecked JSON, and its metadata may be missing).
  if (typeof obj.name !== 'string' || obj.name === '') obj.name = nadName;
  const list = parseAnyConfig(obj, `spec.config of NetworkAttachmentDefinition ${ref}`);
  list.bytes = JSON.stringify(list.raw);
  return list;
}

function fromConfDir(ctx: ResolveContext, name: string): NetConfList | undefined {
  return loadConfListByName(ctx.config.confDir, name);
}

/** A network by NAD namespace/name (API first, then confDir). */
export function resolveNad(ctx: ResolveContext, namespace: string, name: string): Promise<ResolvedNetwork> {
  const key = `${namespace}/${name}`;
  const memo = ctx.nadMemo.get(key);
  if (memo) return memo;
  const p = (async (): Promise<ResolvedNetwork> => {
    // Names reach file lookups: refuse anything that isn't a plain DNS name (no '/', '..').
    const bad = nameProblem(name) ?? nameProblem(namespace, 'namespace');
    if (bad) throw new CniError(Code.InvalidConfig, `network reference ${JSON.stringify(key)}: ${bad}`);
    if (ctx.api) {
      const nad = await ctx.api.getNad(namespace, name);
      if (nad) {
        const config = (nad.spec as { config?: unknown } | undefined)?.config;
        const resource = (nad.metadata as { annotations?: Record<string, unknown> } | undefined)?.annotations?.[RESOURCE_NAME_ANNOTATION];
        const device = typeof resource === 'string' && resource !== '' ? { resourceName: resource } : {};
        if (typeof config === 'string' && config.trim() !== '') return { displayName: key, list: fromNadConfig(name, config, key), ...device };
        const file = fromConfDir(ctx, name);
        if (file) return { displayName: key, list: file, ...device };
        throw new CniError(Code.InvalidConfig, `NetworkAttachmentDefinition ${key} has no spec.config and no config named "${name}" exists in ${ctx.config.confDir}`);
      }
    }
    const file = fromConfDir(ctx, name);
    if (file) return { displayName: key, list: file };
    throw new CniError(
      Code.InvalidConfig,
      ctx.api
        ? `network ${key} not found: no NetworkAttachmentDefinition ${key} and no config named "${name}" in ${ctx.config.confDir}`
        : `network "${name}" not found in ${ctx.config.confDir} (no Kubernetes API configured)`,
    );
  })();
  ctx.nadMemo.set(key, p);
  return p;
}

/** A reference into multusNamespace (clusterNetwork, defaultNetworks, the default-network annotation). */
export function resolveInMultusNamespace(ctx: ResolveContext, ref: string): Promise<ResolvedNetwork> {
  const [ns, name] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : [ctx.config.multusNamespace, ref];
  checkIsolation(ctx, ns, ref, [ctx.config.multusNamespace]);
  return resolveNad(ctx, ns, name);
}

export function resolveSelection(ctx: ResolveContext, namespace: string, name: string): Promise<ResolvedNetwork> {
  checkIsolation(ctx, namespace, `${namespace}/${name}`);
  return resolveNad(ctx, namespace, name);
}

const inline = (obj: Record<string, unknown>, what: string): ResolvedNetwork => {
  const list = parseAnyConfig(obj, what);
  list.bytes = JSON.stringify(list.raw);
  return { displayName: list.name, list };
};

/** The cluster network: clusterNetwork (path, directory, NAD or inline) or delegates[0]. */
export async function resolveClusterNetwork(ctx: ResolveContext): Promise<ResolvedNetwork> {
  const cn = ctx.config.clusterNetwork;
  if (cn === undefined) return inline(ctx.config.delegates![0] as Record<string, unknown>, 'delegates[0]');
  if (typeof cn === 'object') return inline(cn as Record<string, unknown>, 'clusterNetwork');
  if (isAbsolute(cn)) {
    let isDir = false;
    try {
      isDir = statSync(cn).isDirectory();
    } catch (e) {
      throw new CniError(Code.InvalidConfig, `clusterNetwork ${cn}: ${(e as Error).message}`);
    }
    if (isDir) {
      // The runtime's own rule, as braid install applies it: one lexical order over
      // .conf/.conflist/.json, the first that loads and is not a meta-plugin entry.
      const { found, skipped } = findDefaultNetwork(cn);
      if (!found) {
        const why = skipped.length ? ` (skipped: ${skipped.map((s) => `${s.file}: ${s.reason}`).join('; ')})` : '';
        throw new CniError(Code.InvalidConfig, `clusterNetwork directory ${cn} holds no valid network configuration${why}`);
      }
      return { displayName: found.list.name, list: found.list };
    }
    const list = readConfigFile(cn);
    return { displayName: list.name, list };
  }
  return resolveInMultusNamespace(ctx, cn);
}

/** Static networks for every pod: defaultNetworks (NADs) and, Multus-style, delegates[1..]. */
export async function resolveDefaultNetworks(ctx: ResolveContext): Promise<ResolvedNetwork[]> {
  const fromNads = await Promise.all(ctx.config.defaultNetworks.map((n) => resolveInMultusNamespace(ctx, n)));
  const extra =
    ctx.config.clusterNetwork === undefined
      ? (ctx.config.delegates ?? []).slice(1).map((d, i) => inline(d as Record<string, unknown>, `delegates[${i + 1}]`))
      : [];
  return [...fromNads, ...extra];
}

