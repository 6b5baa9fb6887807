// Change notification for the conf dir: fs.watch for promptness plus a periodic tick, because
// inotify misses changes on some mounts (NFS, a hostPath replaced under the pod) and the service
// account token rotates without any event in the conf dir.
import { watch, type FSWatcher } from 'node:fs';

export type WakeReason = 'change' | 'tick' | 'stop';

export class DirWatcher {
  private watchers = new Map<string, FSWatcher>();
  private pending: WakeReason | undefined;
  private wake: ((r: WakeReason) => void) | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly dirs: readonly string[],
    private readonly debounceMs = 150,
  ) {
    this.attach();
  }

  /** (Re)attaches to dirs that exist now; a dir created later is picked up on the next wait. */
  private attach(): void {
    for (const dir of this.dirs) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.changed());
        w.on('error', () => {
          w.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        /* missing for now */
      }
    }
  }

  private changed(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.signal('change'), this.debounceMs);
  }

  private signal(r: WakeReason): void {
    if (this.stopped && r !== 'stop') return;
    if (this.wake) {
      const w = this.wake;
      this.wake = undefined;
      w(r);
    } else if (this.pending !== 'stop') this.pending = r;
  }

  /** Resolves on the next change, after `tickMs` without one, or when stopped. */
  next(tickMs: number): Promise<WakeReason> {
    this.attach();
    if (this.pending) {
      const r = this.pending;
      this.pending = undefined;
      return Promise.resolve(r);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.signal('tick'), tickMs);
      this.wake = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
  }

  stop(): void {
    this.stopped = true;
    this.signal('stop');
  }

  close(): void {
    clearTimeout(this.debounce);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
