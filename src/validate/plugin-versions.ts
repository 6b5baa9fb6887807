// Rules that depend on the release of containernetworking/plugins the configs will run with.
// The version comes from --plugins-version (or the rule config), else from the binaries of
// --cni-path when asked, else the newest release these rules know: a config is judged for the
// plugins current at the time, not for whatever the machine running the linter has installed.
import { spawn } from 'node:child_process';
import { compareVersions, parseSemver } from '../cni/version.js';

/** The newest containernetworking/plugins release whose behaviour these rules describe. */
export const NEWEST_PLUGINS = '1.8.0';

export interface PluginsVersion {
  version: string;
  /** Where it came from, for messages: "--plugins-version", "/usr/lib/cni/bridge", "default". */
  source: string;
  /** Only an upper bound is known (a binary without a build version): "before X". */
  before?: string;
}

export const normalizePluginsVersion = (v: string): string | undefined => {
  const t = v.trim().replace(/^v/, '');
  const full = /^\d+\.\d+$/.test(t) ? `${t}.0` : t;
  return parseSemver(full) ? full : undefined;
};

/** True when the plugins are known to be older than `min`. */
export function olderThan(pv: PluginsVersion, min: string): boolean {
  if (pv.before) return compareVersions(pv.before, min) <= 0;
  return compareVersions(pv.version, min) < 0;
}

export const describeVersion = (pv: PluginsVersion) =>
  pv.before ? `plugins before ${pv.before} (${pv.source})` : `plugins ${pv.version} (${pv.source === 'default' ? 'the default; set --plugins-version' : pv.source})`;

/**
 * A plugin binary's release: its about text ("CNI bridge plugin v1.8.0", printed without
 * CNI_COMMAND), else, when the build has no version (Debian's "version unknown"), an upper
 * bound from its VERSION answer: no spec 1.1.0 means a release before 1.5.0.
 */
export function probePluginsVersion(path: string, supported: readonly string[] | undefined): Promise<PluginsVersion | undefined> {
  return new Promise((resolvePromise) => {
    let text = '';
    let child;
    try {
      child = spawn(path, [], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
    } catch {
      resolvePromise(undefined);
      return;
    }
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', () => resolvePromise(undefined));
    child.on('close', () => {
      const m = /plugin v?(\d+\.\d+\.\d+)/.exec(text);
      if (m) resolvePromise({ version: m[1]!, source: path });
      else if (supported && !supported.includes('1.1.0')) resolvePromise({ version: '1.4.0', before: '1.5.0', source: `${path}, no spec 1.1.0` });
      else resolvePromise(undefined);
    });
  });
}
