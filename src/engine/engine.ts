// The libcni equivalent: runs a configuration list's plugins for ADD/DEL/CHECK/STATUS/GC
// exactly as libcni/api.go does, with the result cache in libcni's format.
import { CniError, Code, toCniError } from '../cni/errors.js';
import type { CniArgs } from '../cni/cni-args.js';
import { formatCniArgs } from '../cni/cni-args.js';
import type { NetConfList } from '../cni/config.js';
import { parseResult, toVersion, type Result } from '../cni/result.js';
import { compareVersions } from '../cni/version.js';
import type { Verb } from '../cni/env.js';
import { log } from '../log.js';
import { execPlugin, preloadExec, type PluginExec } from './exec-plugin.js';
import { findPlugin } from './find-plugin.js';
import { buildPluginConfig, describePlugin } from './plugin-config.js';
import * as cache from './result-cache.js';

export interface RuntimeConf {
  containerId: string;
  netns: string;
  ifname: string;
  args: CniArgs;
  capabilityArgs: Record<string, unknown>;
}

export interface EngineOptions {
  /** CNI_PATH directories, then extra bin dirs; only these are searched. */
  path: readonly string[];
  cacheDir: string;
  timeoutMs?: number;
  exec?: PluginExec;
}

export interface GcAttachment {
  containerID: string;
  ifname: string;
}

export class Engine {
  readonly path: readonly string[];
  readonly cacheDir: string;
  private readonly exec: PluginExec;
  private readonly timeoutMs: number | undefined;

  constructor(opts: EngineOptions) {
    this.path = opts.path;
    this.cacheDir = opts.cacheDir;
    this.exec = opts.exec ?? execPlugin;
    this.timeoutMs = opts.timeoutMs;
  }

  /** The same plugin runner over another result cache (another meta-plugin's, e.g. Multus's). */
  withCacheDir(cacheDir: string): Engine {
    return new Engine({ path: this.path, cacheDir, exec: this.exec, ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}) });
  }

  /** Readies the default way of running plugins while the caller waits on something else. */
  warm(): void {
    if (this.exec === execPlugin) preloadExec();
  }

  private async invoke(command: Verb, plugin: Record<string, unknown>, config: Record<string, unknown>, rt?: RuntimeConf) {
    const context = `plugin ${describePlugin(plugin)} failed (${command.toLowerCase()})`;
    try {
      const pluginPath = findPlugin(String(plugin.type), this.path);
      return await this.exec({
        pluginPath,
        command,
        containerId: rt?.containerId,
        netns: rt?.netns,
        ifname: rt?.ifname,
        args: rt ? formatCniArgs(rt.args) : undefined,
        path: this.path,
        stdin: JSON.stringify(config),
        ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}),
      });
    } catch (e) {
      throw toCniError(e).withContext(context);
    }
  }

  /**
   * ADD: plugins in order, prevResult threaded; the final result cached. `afterPlugin(i)` is
   * told when plugin i has succeeded (braid's parallel mode starts work off it).
   */
  async addList(list: NetConfList, rt: RuntimeConf, afterPlugin?: (index: number) => void): Promise<Result> {
    let prev: unknown;
    let result: Result | undefined;
    for (const [index, plugin] of list.plugins.entries()) {
      const conf = buildPluginConfig(plugin, list.name, list.cniVersion, rt.capabilityArgs, prev);
      const out = await this.invoke('ADD', plugin, conf, rt);
      if (out === undefined) {
        throw new CniError(Code.DecodeFailure, `plugin ${describePlugin(plugin)} returned no result for ADD`);
      }
      result = parseResult(out, list.cniVersion, `result of plugin ${describePlugin(plugin)}`);
      prev = toVersion(result, list.cniVersion);
      afterPlugin?.(index);
    }
    cache.writeRecord(this.cacheDir, {
      kind: 'cniCacheV1',
      containerId: rt.containerId,
      config: Buffer.from(listBytes(list)).toString('base64'),
      ifName: rt.ifname,
      networkName: list.name,
      netns: rt.netns,
      cniArgs: rt.args,
      capabilityArgs: rt.capabilityArgs,
      result: prev,
    });
    return result!;
  }

  cachedResult(list: NetConfList, rt: Pick<RuntimeConf, 'containerId' | 'ifname'>): Result | undefined {
    const r = cache.readRecord(this.cacheDir, { network: list.name, containerId: rt.containerId, ifname: rt.ifname });
    if (r.state !== 'ok' || r.record.result === undefined) return undefined;
    try {
      return parseResult(r.record.result, list.cniVersion, 'cached result');
    } catch {
      return undefined;
    }
  }

  /**
   * DEL: reverse order, cached result as prevResult (>= 0.4.0). Every plugin is tried even
   * when one fails, so one broken delegate can't leak the others' state; errors are joined.
   * `beforePlugin(i)` is awaited before plugin i's DEL (braid's parallel mode holds the cluster
   * interface's plugins back until the other networks are gone).
   */
  async delList(list: NetConfList, rt: RuntimeConf, beforePlugin?: (index: number) => Promise<unknown> | undefined): Promise<void> {
    const cached = compareVersions(list.cniVersion, '0.4.0') >= 0 ? this.cachedResult(list, rt) : undefined;
    const prev = cached ? toVersion(cached, list.cniVersion) : undefined;
    const errors: CniError[] = [];
    for (let index = list.plugins.length - 1; index >= 0; index--) {
      const plugin = list.plugins[index]!;
      await beforePlugin?.(index);
      const conf = buildPluginConfig(plugin, list.name, list.cniVersion, rt.capabilityArgs, prev);
      try {
        await this.invoke('DEL', plugin, conf, rt);
      } catch (e) {
        errors.push(toCniError(e));
      }
    }
    if (errors.length) throw joinErrors(errors);
    cache.removeRecord(this.cacheDir, { network: list.name, containerId: rt.containerId, ifname: rt.ifname });
  }

  /**
   * The IPAM plugins of a list, called directly for DEL with their own plugin's config (what
   * the main plugin would have passed them): frees a reservation even when the main plugin
   * cannot load its config. Returns the IPAM types released.
   */
  async releaseIpam(list: NetConfList, rt: RuntimeConf): Promise<string[]> {
    const released: string[] = [];
    const errors: CniError[] = [];
    for (const plugin of [...list.plugins].reverse()) {
      const type = (plugin.ipam as { type?: unknown } | undefined)?.type;
      if (typeof type !== 'string' || type === '') continue;
      try {
        await this.invoke('DEL', { type }, buildPluginConfig(plugin, list.name, list.cniVersion, rt.capabilityArgs), rt);
        released.push(type);
      } catch (e) {
        errors.push(toCniError(e));
      }
    }
    if (errors.length) throw joinErrors(errors);
    return released;
  }

  /** Drops an attachment's result-cache record (one braid gave up tearing down). */
  forgetResult(list: NetConfList, rt: Pick<RuntimeConf, 'containerId' | 'ifname'>): void {
    cache.removeRecord(this.cacheDir, { network: list.name, containerId: rt.containerId, ifname: rt.ifname });
  }

  /** CHECK (>= 0.4.0): in order with the cached result; nothing when disableCheck. */
  async checkList(list: NetConfList, rt: RuntimeConf): Promise<void> {
    if (compareVersions(list.cniVersion, '0.4.0') < 0) {
      throw new CniError(Code.IncompatibleVersion, `configuration version "${list.cniVersion}" does not support the CHECK command`);
    }
    if (list.disableCheck) return;
    const cached = this.cachedResult(list, rt);
    if (!cached) throw new CniError(Code.UnknownContainer, `no cached result for network "${list.name}" container "${rt.containerId}" interface "${rt.ifname}"`);
    const prev = toVersion(cached, list.cniVersion);
    for (const plugin of list.plugins) {
      await this.invoke('CHECK', plugin, buildPluginConfig(plugin, list.name, list.cniVersion, rt.capabilityArgs, prev), rt);
    }
  }

  /** STATUS (1.1.0): every plugin must be ready; older lists have no STATUS and are ready. */
  async statusList(list: NetConfList): Promise<void> {
    if (compareVersions(list.cniVersion, '1.1.0') < 0) return;
    for (const plugin of list.plugins) {
      const { capabilities: _c, ...rest } = plugin;
      await this.invoke('STATUS', plugin, { ...rest, name: list.name, cniVersion: list.cniVersion });
    }
  }

  /** GC (1.1.0, libcni GCNetworkList): DEL stale cached attachments, then GC each plugin. */
  async gcList(list: NetConfList, valid: readonly GcAttachment[]): Promise<void> {
    if (list.disableGC) return;
    const keep = new Set(valid.map((a) => `${a.containerID}\u0000${a.ifname}`));
    const errors: CniError[] = [];
    for (const rec of cache.listRecords(this.cacheDir).records) {
      if (rec.networkName !== list.name || keep.has(`${rec.containerId}\u0000${rec.ifName}`)) continue;
      try {
        await this.delList(list, {
          containerId: rec.containerId,
          netns: rec.netns ?? '',
          ifname: rec.ifName,
          args: rec.cniArgs ?? [],
          capabilityArgs: rec.capabilityArgs ?? {},
        });
      } catch (e) {
        errors.push(toCniError(e));
      }
    }
    if (compareVersions(list.cniVersion, '1.1.0') >= 0) {
      for (const plugin of list.plugins) {
        const { capabilities: _c, ...rest } = plugin;
        const conf = { ...rest, name: list.name, cniVersion: list.cniVersion, 'cni.dev/valid-attachments': valid };
        try {
          await this.invoke('GC', plugin, conf);
        } catch (e) {
          errors.push(toCniError(e));
        }
      }
    }
    if (errors.length) throw joinErrors(errors);
  }
}

export function listBytes(list: NetConfList): string {
  return list.bytes ?? JSON.stringify(list.raw);
}

/** Several failures as one error: the first one's code, every message kept. */
export function joinErrors(errors: CniError[]): CniError {
  if (errors.length === 1) return errors[0]!;
  log().warn({ errors: errors.map((e) => e.message) }, 'multiple failures');
  return new CniError(errors[0]!.code, errors.map((e) => e.message).join('; '));
}
