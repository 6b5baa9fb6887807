// Concurrency control for the daemon: a semaphore around delegate execs (a node reboot with
// 100 pods must not start 400 plugin processes at once), and the operation locks libcni's
// contract asks for (as libcni runs lists): one operation at a time per container, different
// containers concurrently, GC never concurrent with ADD/DEL/CHECK.
import type { PluginExec } from '../engine/exec-plugin.js';

export type Release = () => void;

function once(fn: () => void): Release {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/** FIFO counting semaphore. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`semaphore limit must be a positive integer, got ${limit}`);
  }

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  async acquire(): Promise<Release> {
    if (this.active < this.limit) this.active++;
    // A releaser hands its slot straight to the next waiter, so `active` stays counted.
    else await new Promise<void>((resolve) => this.waiters.push(resolve));
    return once(() => {
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    });
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** A PluginExec that waits for a semaphore slot; the wait is not part of the delegate's time. */
export function limitExec(exec: PluginExec, sem: Semaphore): PluginExec {
  return (req) => sem.run(() => exec(req));
}

/** One holder per key; waiters in arrival order. Entries vanish when the last holder leaves. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  get size(): number {
    return this.tails.size;
  }

  async acquire(key: string): Promise<Release> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    return once(() => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
  }
}

/**
 * Readers/writer lock. A queued writer blocks new readers (GC is not starved by a stream of
 * ADDs); readers queued behind a writer all go when it leaves (ADDs are not starved by GCs).
 */
export class RwLock {
  private readers = 0;
  private writer = false;
  private readonly readQ: Array<() => void> = [];
  private readonly writeQ: Array<() => void> = [];

  async shared(): Promise<Release> {
    if (!this.writer && this.writeQ.length === 0) this.readers++;
    else await new Promise<void>((resolve) => this.readQ.push(resolve));
    return once(() => {
      this.readers--;
      this.drain(false);
    });
  }

  async exclusive(): Promise<Release> {
    if (!this.writer && this.readers === 0 && this.writeQ.length === 0) this.writer = true;
    else await new Promise<void>((resolve) => this.writeQ.push(resolve));
    return once(() => {
      this.writer = false;
      this.drain(true);
    });
  }

  private drain(preferReaders: boolean): void {
    if (this.writer) return;
    if (this.readQ.length && (preferReaders || this.writeQ.length === 0)) {
      while (this.readQ.length) {
        this.readers++;
        this.readQ.shift()!();
      }
      return;
    }
    if (this.writeQ.length && this.readers === 0) {
      this.writer = true;
      this.writeQ.shift()!();
    }
  }
}

/** Which lock a CNI verb takes. VERSION and STATUS read nothing that ADD/DEL/GC change. */
export function lockKind(verb: string | undefined): 'container' | 'exclusive' | 'none' {
  if (verb === 'ADD' || verb === 'DEL' || verb === 'CHECK') return 'container';
  if (verb === 'GC') return 'exclusive';
  return 'none';
}

/** The daemon's operation locks: per container (then shared), or exclusive for GC. */
export class OperationLocks {
  private readonly containers = new KeyedMutex();
  private readonly gc = new RwLock();

  async run<T>(verb: string | undefined, containerId: string | undefined, fn: () => Promise<T>): Promise<T> {
    const kind = lockKind(verb);
    const releases: Release[] = [];
    try {
      // The container lock first: queued operations on a busy container hold no shared slot.
      if (kind === 'container') {
        if (containerId) releases.push(await this.containers.acquire(containerId));
        releases.push(await this.gc.shared());
      } else if (kind === 'exclusive') releases.push(await this.gc.exclusive());
      return await fn();
    } finally {
      for (const r of releases.reverse()) r();
    }
  }

  /** Containers with an operation running or queued. */
  get busyContainers(): number {
    return this.containers.size;
  }
}
