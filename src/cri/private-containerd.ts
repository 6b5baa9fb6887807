// A private containerd with its CRI plugin, owning everything under one directory: config,
// root, state, sockets, runc state, pod network namespaces and CNI dirs. Several can run on one
// machine at once (tests in parallel, the demo, the benchmark) without touching the system's
// containerd. destroy() removes all of it, whatever state a failed run left behind.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CriClient } from './cri-client.js';
import { PAUSE_IMAGE, pauseImageTar } from './pause-image.js';

export const CRI_NAMESPACE = 'k8s.io';

export interface ContainerdOptions {
  /** Everything lives under this directory (created if missing). */
  dir: string;
  /** The CRI plugin's CNI dirs; default <dir>/net.d and <dir>/bin. */
  cniConfDir?: string;
  cniBinDir?: string;
  /** Log level of containerd itself (its log goes to <dir>/containerd.log). */
  logLevel?: string;
}

/** Why containerd can't be used on this machine, or undefined when it can. */
export function containerdMissing(): string | undefined {
  for (const bin of ['containerd', 'ctr', 'runc', 'containerd-shim-runc-v2']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed (apt-get install containerd runc)`;
  }
  if (process.getuid?.() !== 0) return 'containerd needs root';
  return undefined;
}

function renderConfig(d: { root: string; state: string; socket: string; runcRoot: string; confDir: string; binDir: string }): string {
  const q = JSON.stringify;
  return `version = 2
root = ${q(d.root)}
state = ${q(d.state)}
disabled_plugins = []

[grpc]
  address = ${q(d.socket)}

[ttrpc]
  address = ${q(`${d.socket}.ttrpc`)}

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(PAUSE_IMAGE)}
  # runc can't set the -998 oom_score_adj of a sandbox on machines like this one.
  restrict_oom_score_adj = true
  # Pod network namespaces stay under this instance's state dir, not /var/run/netns.
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  # Port 0: several instances on one machine must not fight over the streaming port.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # runc's own state dir: private too, so teardown finds exactly this instance's containers.
        Root = ${q(d.runcRoot)}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(d.binDir)}
    conf_dir = ${q(d.confDir)}
    max_conf_num = 1
`;
}

export class PrivateContainerd {
  readonly socket: string;
  readonly root: string;
  readonly state: string;
  readonly runcRoot: string;
  readonly cniConfDir: string;
  readonly cniBinDir: string;
  readonly configFile: string;
  readonly logFile: string;
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ContainerdOptions) {
    const d = opts.dir;
    this.socket = join(d, 'containerd.sock');
    this.root = join(d, 'root');
    this.state = join(d, 'state');
    this.runcRoot = join(d, 'runc');
    this.cniConfDir = opts.cniConfDir ?? join(d, 'net.d');
    this.cniBinDir = opts.cniBinDir ?? join(d, 'bin');
    this.configFile = join(d, 'config.toml');
    this.logFile = join(d, 'containerd.log');
    for (const p of [d, this.root, this.state, this.runcRoot, this.cniConfDir, this.cniBinDir]) mkdirSync(p, { recursive: true });
    writeFileSync(this.configFile, renderConfig({ root: this.root, state: this.state, socket: this.socket, runcRoot: this.runcRoot, confDir: this.cniConfDir, binDir: this.cniBinDir }));
  }

  /** Where the CRI plugin mounts pod network namespaces (netns_mounts_under_state_dir). */
  get netnsDir(): string {
    return join(this.state, 'io.containerd.grpc.v1.cri', 'netns');
  }

  /** containerd's pid while it runs (started here or adopted). */
  get pid(): number | undefined {
    return this.proc?.exitCode === null ? this.proc.pid : this.orphanPid();
  }

  /**
   * Starts containerd and waits until its CRI service answers. An instance already running on
   * this config (left by a killed process) is adopted instead: destroy() then ends it too.
   */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.proc?.exitCode === null) return;
    let proc: ChildProcess | undefined;
    if (this.orphanPid() === undefined) {
      const log = openSync(this.logFile, 'a');
      proc = spawn('containerd', ['--config', this.configFile, '--log-level', this.opts.logLevel ?? 'info'], { stdio: ['ignore', log, log] });
      closeSync(log);
      this.proc = proc;
      const p = proc;
      this.exited = new Promise((resolve) => p.once('exit', () => resolve()));
    }
    const cri = new CriClient(this.socket, 2_000);
    try {
      const end = Date.now() + timeoutMs;
      for (;;) {
        if (proc && proc.exitCode !== null) throw new Error(`containerd exited with ${proc.exitCode} at start; its log: ${this.logTail()}`);
        try {
          await cri.version();
          return;
        } catch (e) {
          if (Date.now() > end) throw new Error(`containerd's CRI service did not answer within ${timeoutMs} ms (${(e as Error).message}); its log: ${this.logTail()}`);
          await sleep(100);
        }
      }
    } finally {
      cri.close();
    }
  }

  /** Stops containerd only (SIGTERM, then SIGKILL): pods, shims and namespaces stay up. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode) return;
    proc.kill(signal);
    const killed = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!killed) {
      proc.kill('SIGKILL');
      await this.exited;
    }
  }

  /** `ctr` against this instance, in the CRI namespace. */
  ctr(args: string[]): string {
    return execFileSync('ctr', ['-a', this.socket, '-n', CRI_NAMESPACE, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Builds (or reuses) the pause image tarball and imports it as the sandbox image. */
  importPauseImage(cacheDir?: string): void {
    this.ctr(['images', 'import', '--snapshotter', 'overlayfs', pauseImageTar(cacheDir)]);
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * Removes everything this instance made, even after a crash: containerd, its pod processes
   * (through runc's private state), the shims, the shims' sockets, every mount under the dir
   * (pod netns, rootfs, shm), then the dir itself.
   */
  async destroy(): Promise<void> {
    await this.stop('SIGTERM', 5_000);
    const orphan = this.orphanPid();
    if (orphan !== undefined) process.kill(orphan, 'SIGKILL');
    const shimSockets = this.shimSocketPaths();
    for (const id of this.runcContainers()) {
      spawnSync('runc', ['--root', join(this.runcRoot, CRI_NAMESPACE), 'delete', '--force', id], { stdio: 'ignore' });
    }
    for (const pid of this.shimPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const s of shimSockets) rmSync(s, { force: true });
    for (const m of mountsUnder(this.opts.dir)) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    rmSync(this.opts.dir, { recursive: true, force: true });
  }

  private runcContainers(): string[] {
    const r = spawnSync('runc', ['--root', join(this.runcRoot, CRI_NAMESPACE), 'list', '-q'], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
  }

  /** A containerd running on this config that this object did not start. */
  private orphanPid(): number | undefined {
    const own = this.proc?.pid;
    return pidsWithArgs((argv) => argv[0]?.endsWith('containerd') === true && argv[argv.indexOf('--config') + 1] === this.configFile).find((p) => p !== own);
  }

  /** containerd-shim-runc-v2 processes serving this instance (their -address is our socket). */
  private shimPids(): number[] {
    return pidsWithArgs((argv) => argv[0]?.endsWith('containerd-shim-runc-v2') === true && argv[argv.indexOf('-address') + 1] === this.socket);
  }

  /** The sockets shims made in /run/containerd/s, named in each task bundle's address file. */
  private shimSocketPaths(): string[] {
    const tasks = join(this.state, 'io.containerd.runtime.v2.task', CRI_NAMESPACE);
    const out: string[] = [];
    if (!existsSync(tasks)) return out;
    for (const id of readdirSync(tasks)) {
      try {
        const addr = readFileSync(join(tasks, id, 'address'), 'utf8').trim();
        if (addr.startsWith('unix://')) out.push(addr.slice('unix://'.length));
      } catch {
        // no address file: the shim never started
      }
    }
    return out;
  }
}

/** Mount points at or below dir, deepest first (so nested mounts go before their parents). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(prefix)))
    .map((m) => m.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
}

/** Where libcni inside containerd caches each attachment (config, args, the result braid printed). */
export const LIBCNI_RESULTS = '/var/lib/cni/results';

/** libcni cache files containerd keeps for these sandboxes (none once each had its DEL). */
export function libcniCacheFiles(sandboxIds: string[]): string[] {
  let names: string[];
  try {
    names = readdirSync(LIBCNI_RESULTS);
  } catch {
    return [];
  }
  return names.filter((n) => sandboxIds.some((id) => id && n.includes(id))).map((n) => join(LIBCNI_RESULTS, n));
}

/** Processes whose argv (from /proc) matches. */
function pidsWithArgs(match: (argv: string[]) => boolean): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (match(readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'))) pids.push(Number(p));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
