// The daemon's config file: braid's usual config (a "type": "braid" .conf, or a conflist whose
// braid entry is used), loaded at start and reloaded on change. An invalid edit is logged and
// the running config kept. A directory watch catches atomic replaces and ConfigMap symlink
// swaps that a watch on the file itself would miss; a slow content poll backs it up.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { CniError, Code } from '../cni/errors.js';
import { parseJsonObject } from '../cni/config.js';
import { parseBraidConfig, type BraidConfig } from '../meta/braid-config.js';
import { fromMultusDaemonConfig, isMultusDaemonConfig, reportLines } from '../meta/multus-config.js';

export interface LoadedConfig {
  /** What cniResponse gets as baseConfig. */
  raw: Record<string, unknown>;
  config: BraidConfig;
  warnings: string[];
  text: string;
}

/** The braid entry of a conflist (type braid, else the first), with the list's version and name. */
function braidEntry(obj: Record<string, unknown>, file: string): Record<string, unknown> {
  if (!Array.isArray(obj.plugins)) return obj;
  const plugins = obj.plugins.filter((p): p is Record<string, unknown> => !!p && typeof p === 'object' && !Array.isArray(p));
  const entry = plugins.find((p) => p.type === 'braid') ?? plugins[0];
  if (!entry) throw new CniError(Code.InvalidConfig, `${file}: the configuration list has no plugin entries`);
  return { cniVersion: obj.cniVersion, name: obj.name, ...entry };
}

export function parseDaemonConfig(text: string, file: string): LoadedConfig {
  let raw = braidEntry(parseJsonObject(text, `daemon configuration ${file}`), file);
  // Multus thick's daemon-config.json runs unchanged; each key's fate is logged.
  const multus = isMultusDaemonConfig(raw) ? fromMultusDaemonConfig(raw) : undefined;
  if (multus) raw = multus.config;
  const { config, warnings } = parseBraidConfig(raw);
  return { raw, config, warnings: [...(multus ? reportLines(multus.report) : []), ...warnings], text };
}

export function loadDaemonConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CniError(Code.InvalidConfig, `failed to read daemon configuration ${file}: ${(e as Error).message}`);
  }
  return parseDaemonConfig(text, file);
}

export interface ConfigWatcherOptions {
  file: string;
  current: LoadedConfig;
  /** Called with each changed, valid config; a throw counts as a rejected reload. */
  onChange: (next: LoadedConfig) => Promise<void> | void;
  onInvalid: (err: Error) => void;
  pollMs?: number;
}

export class ConfigWatcher {
  private lastText: string;
  private dirWatch: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();

  constructor(private readonly o: ConfigWatcherOptions) {
    this.lastText = o.current.text;
  }

  start(): void {
    const name = basename(this.o.file);
    try {
      this.dirWatch = watch(dirname(this.o.file), (_event, changed) => {
        // ConfigMap volumes swap a "..data" symlink; any event there may change our file.
        if (changed === null || changed === name || String(changed).startsWith('..')) this.schedule();
      });
      this.dirWatch.on('error', () => undefined);
    } catch {
      // no inotify (or the directory is gone): the poll still works
    }
    this.poll = setInterval(() => this.schedule(), this.o.pollMs ?? 2000);
    this.poll.unref();
  }

  stop(): void {
    this.dirWatch?.close();
    clearInterval(this.poll);
    clearTimeout(this.debounce);
  }

  /** Re-reads now (SIGHUP); resolves when the check is done. */
  check(): Promise<void> {
    this.checking = this.checking.then(() => this.checkOnce());
    return this.checking;
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    // Editors write in steps; read once the burst is over.
    this.debounce = setTimeout(() => void this.check(), 100);
  }

  private async checkOnce(): Promise<void> {
    let text: string;
    try {
      text = readFileSync(this.o.file, 'utf8');
    } catch (e) {
      if (this.lastText !== '') this.o.onInvalid(new Error(`cannot read ${this.o.file}: ${(e as Error).message}`));
      this.lastText = '';
      return;
    }
    if (text === this.lastText) return;
    this.lastText = text;
    try {
      await this.o.onChange(parseDaemonConfig(text, this.o.file));
    } catch (e) {
      this.o.onInvalid(e as Error);
    }
  }
}
