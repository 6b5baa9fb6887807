// What the demo needs from the machine: root, iproute2, iptables, ping and the reference CNI
// plugins. Missing Debian packages are installed with apt (as src/build/ensure-deps.sh does
// for `npm run demo`), or the exact command is printed when that is not possible.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const PLUGIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
export const PLUGINS = ['bridge', 'host-local', 'macvlan', 'portmap', 'bandwidth'];

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

export const findPluginDir = (explicit?: string) =>
  explicit ?? PLUGIN_DIRS.find((d) => PLUGINS.every((p) => existsSync(join(d, p))));

function missingPackages(pluginDir: string | undefined): string[] {
  const missing = new Set<string>();
  if (!pluginDir) missing.add('containernetworking-plugins');
  if (!onPath('ip')) missing.add('iproute2');
  if (!onPath('iptables-save')) missing.add('iptables');
  if (!onPath('ping')) missing.add('iputils-ping');
  return [...missing];
}

/** Returns the plugin dir, or throws with what to run. */
export function preflight(explicitPluginDir: string | undefined, say: (msg: string) => void): string {
  if (process.getuid?.() !== 0) throw new Error('the demo creates network namespaces and links: run it as root (sudo npm run demo)');
  if (explicitPluginDir && !PLUGINS.every((p) => existsSync(join(explicitPluginDir, p)))) {
    throw new Error(`--plugins ${explicitPluginDir} lacks one of ${PLUGINS.join(', ')}`);
  }
  let missing = missingPackages(findPluginDir(explicitPluginDir));
  if (missing.length && existsSync('/usr/bin/apt-get')) {
    say(`installing ${missing.join(' ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
    missing = missingPackages(findPluginDir(explicitPluginDir));
  }
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run apt-get update && apt-get install -y ${missing.join(' ')}`);
  return findPluginDir(explicitPluginDir)!;
}
