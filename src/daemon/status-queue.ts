// The daemon's network-status writes: tried once as the ADD finishes, then, if the API server
// failed, retried in the background with capped, jittered backoff until the PATCH lands or the
// pod is gone. One pending write per pod: a newer status replaces an older one, the DEL of the
// container that produced it cancels it, and writes to one pod never overtake each other.
// Writes in the background are also kept on disk, so a restarted daemon carries on with them.
import { log } from '../log.js';
import type { KubeApi } from '../k8s/kube-api.js';
import { attemptStatusWrite, backoffDelay, podKey, type Attempt, type StatusWrite, type StatusWriter } from '../meta/status-write.js';
import type { Backoff } from './informer.js';
import type { PendingStore } from './status-store.js';

/** How a status write ended (or why it stopped being pending). */
export type StatusResult = 'written' | 'written_late' | 'pod_gone' | 'pod_recreated' | 'rejected' | 'superseded' | 'cancelled' | 'abandoned';

export interface StatusQueueOptions {
  /** The API of the moment, so retries use reloaded credentials and config. */
  api: () => KubeApi | undefined;
  backoff: Backoff;
  onResult: (result: StatusResult) => void;
  onFailedAttempt: (reason: string) => void;
  store?: PendingStore | undefined;
}

interface Entry {
  write: StatusWrite;
  failures: number;
  firstFailure: number;
  timer: NodeJS.Timeout | undefined;
  /** On disk (in the background, or left by a previous daemon): landing now is landing late. */
  saved: boolean;
}

export class StatusQueue implements StatusWriter {
  private readonly pending = new Map<string, Entry>();
  /** The attempt in flight per pod, so a newer write waits for an older one to land first. */
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** Set by a failed attempt, cleared by a successful one: while set, ADDs don't wait for a PATCH. */
  private apiFailing = false;
  private stopped = false;

  constructor(private readonly o: StatusQueueOptions) {}

  get size(): number {
    return this.pending.size;
  }

  async submit(write: StatusWrite): Promise<void> {
    if (this.stopped) return;
    const key = podKey(write);
    const older = this.pending.get(key);
    if (older) this.remove(key, older, 'superseded');
    const entry: Entry = { write, failures: 0, firstFailure: Date.now(), timer: undefined, saved: false };
    this.pending.set(key, entry);
    // While the API is failing, a PATCH now would most likely fail too and could hold the
    // pod's ADD for the whole apiTimeout: queue it for the background at once.
    if (this.apiFailing) return this.schedule(key, entry, this.o.backoff.initialMs);
    await this.attempt(key, entry);
  }

  /** Takes over the writes a previous daemon left pending; returns how many. */
  resume(): number {
    const left = this.o.store?.load() ?? [];
    for (const write of left) {
      const key = podKey(write);
      const entry: Entry = { write, failures: 0, firstFailure: Date.now(), timer: undefined, saved: true };
      const older = this.pending.get(key);
      if (older) this.remove(key, older, 'superseded');
      this.pending.set(key, entry);
      this.schedule(key, entry, 0);
    }
    if (left.length) log().info({ writes: left.length }, 'resuming network-status writes a previous daemon left pending');
    return left.length;
  }

  /** The DEL of a container: its pending write is pointless now. */
  cancel(containerId: string, ifname: string): void {
    for (const [key, e] of this.pending) {
      if (e.write.containerId === containerId && e.write.ifname === ifname) {
        log().info({ pod: key, containerId }, 'pending network-status write cancelled by the container DEL');
        this.remove(key, e, 'cancelled');
      }
    }
  }

  /** The daemon stops: what is still pending stays on disk for the next daemon, and is said so. */
  stop(): void {
    this.stopped = true;
    for (const [key, e] of this.pending) {
      clearTimeout(e.timer);
      if (!e.saved) this.o.store?.save(e.write);
      log()[this.o.store ? 'warn' : 'error'](
        { pod: key, failedAttempts: e.failures },
        this.o.store
          ? 'network-status not written yet as the daemon stops: the next daemon resumes it'
          : 'network-status NOT written: the daemon stopped before the Kubernetes API took it',
      );
      this.pending.delete(key);
      this.o.onResult('abandoned');
    }
  }

  private remove(key: string, e: Entry, result: StatusResult): void {
    clearTimeout(e.timer);
    if (e.saved) this.o.store?.remove(e.write);
    if (this.pending.get(key) === e) this.pending.delete(key);
    this.o.onResult(result);
  }

  private schedule(key: string, e: Entry, delayMs: number): void {
    if (!e.saved && this.o.store) {
      this.o.store.save(e.write);
      e.saved = true;
    }
    clearTimeout(e.timer);
    e.timer = setTimeout(() => void this.attempt(key, e), delayMs);
    e.timer.unref?.();
  }

  private async attempt(key: string, e: Entry): Promise<void> {
    for (let busy = this.inflight.get(key); busy; busy = this.inflight.get(key)) await busy.catch(() => undefined);
    if (this.stopped || this.pending.get(key) !== e) return; // replaced or cancelled meanwhile
    // No shortcut through the informer cache: a lagging cache may still hold the old pod, so
    // only the API server's answer to the UID precondition says the pod was recreated.
    const api = this.o.api();
    const running = api ? attemptStatusWrite(api, e.write) : Promise.resolve<Attempt>({ outcome: 'retry', reason: 'no_api', error: 'no Kubernetes API configured' });
    this.inflight.set(key, running);
    let a: Attempt;
    try {
      a = await running;
    } finally {
      this.inflight.delete(key);
    }
    if (this.pending.get(key) !== e) return; // a newer write or a DEL came while this one ran
    this.settle(key, e, a);
  }

  private settle(key: string, e: Entry, a: Attempt): void {
    if (a.outcome === 'written') {
      this.apiFailing = false;
      const late = e.failures > 0 || e.saved;
      if (late) {
        log().info({ pod: key, failedAttempts: e.failures, lateMs: Date.now() - e.firstFailure }, 'network-status written after the Kubernetes API recovered');
      }
      this.remove(key, e, late ? 'written_late' : 'written');
      return;
    }
    if (a.outcome === 'drop') {
      const level = a.reason === 'rejected' ? 'error' : 'info';
      log()[level]({ pod: key, reason: a.reason, err: a.error, failedAttempts: e.failures }, 'network-status write dropped');
      this.remove(key, e, a.reason);
      return;
    }
    this.apiFailing = true;
    this.o.onFailedAttempt(a.reason);
    e.failures++;
    const delay = backoffDelay(e.failures, this.o.backoff.initialMs, this.o.backoff.maxMs);
    // The first failure of a write is worth a warning; its retries are not, until one lands.
    log()[e.failures === 1 ? 'warn' : 'debug']({ pod: key, reason: a.reason, err: a.error, failedAttempts: e.failures, retryInMs: delay }, 'network-status write failed; retrying in the background');
    this.schedule(key, e, delay);
  }
}
