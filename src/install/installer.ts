// What braid install does, given its options: copy the binaries, wait for the node's default
// network, write the entry and kubeconfig, and (--watch) keep them in step until stopped.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildEntry, renderJson } from './braid-entry.js';
import { BRAID_ENTRY_FILE, findDefaultNetwork, multusEntries, type DefaultNetwork } from './default-network.js';
import { multusKeysFrom, type InstallOptions } from './install-options.js';
import { reportLines } from '../meta/multus-config.js';
import { resolveKubeconfig, SERVICE_ACCOUNT_DIR } from './kubeconfig.js';
import { applyFile, removeDirIfEmpty, removeIfOurs, sameContent, type ManagedFile } from './managed-files.js';
import { DirWatcher } from './watch.js';

export type Say = (msg: string) => void;

export interface InstallerIo {
  binaries: Array<{ src: string; dest: string }>;
  env: NodeJS.ProcessEnv;
  /** Progress and warnings (stderr). */
  say: Say;
  /** --dry-run output (stdout). */
  print: (text: string) => void;
}

const WAIT_TICK_MS = 1000;
const WATCH_TICK_MS = 5000;

export class Installer {
  readonly entryPath: string;
  readonly kubeconfigPath: string;
  private readonly watcher: DirWatcher;
  /** Last content written (or found already in place) per managed path: what cleanup may remove. */
  private readonly owned = new Map<string, string>();
  private readonly warned = new Set<string>();
  private lastDefault: string | undefined;
  /** --from-multus: the Multus file's settings for braid's entry. */
  private readonly carried: Record<string, unknown> | undefined;

  constructor(
    private readonly o: InstallOptions,
    private readonly io: InstallerIo,
  ) {
    this.entryPath = join(o.confDir, BRAID_ENTRY_FILE);
    this.kubeconfigPath = join(o.confDir, 'braid.d', 'braid.kubeconfig');
    this.watcher = new DirWatcher([o.confDir]);
    if (o.fromMultus) {
      const { keys, report } = multusKeysFrom(o.fromMultus);
      this.carried = keys;
      for (const line of reportLines(report)) io.say(`${o.fromMultus}: ${line}`);
    }
  }


  stop(): void {
    this.watcher.stop();
  }

  async run(): Promise<number> {
    try {
      return await this.runInner();
    } finally {
      this.watcher.close();
    }
  }

  private async runInner(): Promise<number> {
    const o = this.o;
    if (o.dryRun) return this.dryRun();
    this.copyBinaries(true);
    let net = this.defaultNetwork();
    if (!net) {
      net = await this.waitForDefaultNetwork();
      if (!net) return o.watch ? this.finish() : 1;
    }
    await this.reconcile(net);
    if (!o.watch) return 0;
    this.io.say(`watching ${o.confDir} for changes`);
    for (;;) {
      const why = await this.watcher.next(WATCH_TICK_MS);
      if (why === 'stop') return this.finish();
      try {
        this.copyBinaries(false);
        const now = this.defaultNetwork();
        if (now) await this.reconcile(now);
        else this.withdraw();
      } catch (e) {
        this.io.say(`update failed, will retry: ${(e as Error).message}`);
      }
    }
  }

  private finish(): number {
    if (this.o.cleanupOnExit) this.cleanup();
    return 0;
  }

  /** At start every binary is compared byte for byte; later only a missing or resized one is redone. */
  private copyBinaries(full: boolean): void {
    for (const { src, dest } of this.io.binaries) {
      if (!full && statSync(dest, { throwIfNoEntry: false })?.size === statSync(src).size) continue;
      const written = applyFile({ path: dest, content: readFileSync(src), mode: 0o755 });
      this.io.say(written ? `installed ${src} as ${dest}` : `${dest} is up to date`);
    }
  }

  private defaultNetwork(): DefaultNetwork | undefined {
    const { found, skipped } = findDefaultNetwork(this.o.confDir);
    for (const s of skipped) {
      const key = `${s.file}\0${s.reason}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      this.io.say(`skipping ${s.file}: ${s.reason}`);
    }
    return found && this.pastMultus() ? found : undefined;
  }

  /**
   * Multus's entry on an undrained node: never overtaken silently. `wait` holds braid's entry back
   * while it is there; `takeover` goes ahead and says what that means for the pods already running.
   */
  private pastMultus(): boolean {
    const multus = multusEntries(this.o.confDir);
    if (multus.length === 0) return true;
    if (this.o.ifMultus === 'wait') {
      this.warnOnce(`Multus's entry ${multus.join(', ')} is in ${this.o.confDir}: braid writes no entry while it is there (--if-multus wait)`);
      return false;
    }
    this.warnOnce(
      `taking over from Multus (${multus.join(', ')}): ${BRAID_ENTRY_FILE} sorts first, so the runtime sends new pods to braid; ` +
        `pods Multus attached are deleted by braid from Multus's cache (multusCniDir, /var/lib/cni/multus). Use --if-multus wait to hold back`,
    );
    return true;
  }

  private async waitForDefaultNetwork(): Promise<DefaultNetwork | undefined> {
    const { confDir, waitTimeoutS } = this.o;
    const deadline = waitTimeoutS > 0 ? Date.now() + waitTimeoutS * 1000 : Infinity;
    const missing = !statSync(confDir, { throwIfNoEntry: false })?.isDirectory();
    const what = missing ? `${confDir} does not exist yet` : `no default network config in ${confDir} yet`;
    this.io.say(`${what}; waiting${waitTimeoutS > 0 ? ` up to ${waitTimeoutS} s` : ''} for one to appear`);
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const still = statSync(confDir, { throwIfNoEntry: false })?.isDirectory() ? '' : ` (${confDir} still does not exist: is --cni-conf-dir right?)`;
        throw new Error(`no default network config appeared in ${confDir} within ${waitTimeoutS} s${still}; install your cluster network (e.g. flannel, calico) first`);
      }
      if ((await this.watcher.next(Math.min(WAIT_TICK_MS, left))) === 'stop') {
        this.io.say('stopped while waiting for a default network');
        return undefined;
      }
      const net = this.defaultNetwork();
      if (net) return net;
    }
  }

  private async desiredFiles(net: DefaultNetwork): Promise<ManagedFile[]> {
    const o = this.o;
    const kc = await resolveKubeconfig({
      kubeconfigFile: o.kubeconfig,
      serviceAccountDir: this.io.env.BRAID_SA_DIR || SERVICE_ACCOUNT_DIR,
      env: this.io.env,
    });
    if (!kc) {
      this.warnOnce(
        `no kubeconfig (no --kubeconfig, not in a pod): braid will not read pods or NetworkAttachmentDefinitions from the API; ` +
          `pod annotations the runtime passes (io.kubernetes.cri.pod-annotations) still select networks from ${o.networksDir}`,
      );
    }
    const entry = buildEntry(net, {
      binDir: o.binDir,
      networksDir: o.networksDir,
      cniDir: o.cniDir,
      logFile: o.logFile,
      logLevel: o.logLevel,
      kubeconfigPath: kc ? this.kubeconfigPath : undefined,
      daemonSocket: o.daemon ? o.daemonSocket : undefined,
      carried: this.carried,
    });
    // The kubeconfig first: the entry that names it must never be visible before it exists.
    return [
      ...(kc ? [{ path: this.kubeconfigPath, content: kc.content, mode: 0o600, secret: true }] : []),
      { path: this.entryPath, content: renderJson(entry), mode: 0o644 },
    ];
  }

  private async reconcile(net: DefaultNetwork): Promise<void> {
    if (this.lastDefault !== net.file) {
      this.io.say(`default network: ${net.file} (${net.list.name}, cniVersion ${net.list.declaredVersion})`);
      this.lastDefault = net.file;
    }
    for (const f of await this.desiredFiles(net)) {
      const written = applyFile(f);
      this.owned.set(f.path, String(f.content));
      if (written) this.io.say(`wrote ${f.path}`);
      else if (!this.o.watch) this.io.say(`${f.path} is up to date`);
    }
  }

  /** No default network any more: a braid entry would route pods into a network that isn't there. */
  private withdraw(): void {
    const content = this.owned.get(this.entryPath);
    if (content === undefined) return;
    if (removeIfOurs({ path: this.entryPath, content })) this.io.say(`no default network in ${this.o.confDir}: removed ${this.entryPath} until one appears`);
    this.owned.delete(this.entryPath);
    this.lastDefault = undefined;
  }

  /** --cleanup-on-exit: exactly the files this run owns, entry first, while they are still ours. */
  private cleanup(): void {
    for (const path of [this.entryPath, this.kubeconfigPath]) {
      const content = this.owned.get(path);
      if (content === undefined) continue;
      try {
        if (removeIfOurs({ path, content })) this.io.say(`removed ${path}`);
        else this.io.say(`left ${path}: changed by someone else since braid wrote it`);
      } catch (e) {
        this.io.say(`failed to remove ${path}: ${(e as Error).message}`);
      }
    }
    removeDirIfEmpty(join(this.o.confDir, 'braid.d'));
  }

  private warnOnce(msg: string): void {
    if (this.warned.has(msg)) return;
    this.warned.add(msg);
    this.io.say(msg);
  }

  private async dryRun(): Promise<number> {
    const { print } = this.io;
    for (const { src, dest } of this.io.binaries) {
      const same = sameContent(dest, readFileSync(src));
      print(`# ${same ? 'unchanged' : 'would copy'}: ${src} -> ${dest}\n`);
    }
    const net = this.defaultNetwork();
    if (!net) {
      throw new Error(`no default network config in ${this.o.confDir} yet; braid install would wait for one (--wait-timeout ${this.o.waitTimeoutS})`);
    }
    print(`# default network: ${net.file}\n`);
    for (const f of await this.desiredFiles(net)) {
      const state = sameContent(f.path, f.content) ? 'unchanged' : 'would write';
      const mode = `0${f.mode.toString(8)}`;
      if (f.secret) print(`# ${state}: ${f.path} (mode ${mode}; ${Buffer.byteLength(f.content)} bytes of credentials, not shown)\n`);
      else print(`# ${state}: ${f.path} (mode ${mode})\n${String(f.content)}`);
    }
    return 0;
  }
}
