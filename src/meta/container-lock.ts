// Serialising operations (as libcni runs lists): one operation per container at a time,
// different containers concurrently, GC never alongside ADD/DEL. One-shot calls are separate
// processes, so the locks are files holding "pid starttime"; a lock whose owner is dead (a
// killed braid, a crashed daemon) is stale and reclaimed, so nothing can wedge a pod.
import { closeSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, Code } from '../cni/errors.js';
import { validateContainerId } from '../cni/names.js';
import { ensurePrivateDir } from '../engine/atomic-file.js';
import { log } from '../log.js';

const POLL_MS = 15;
export const DEFAULT_LOCK_WAIT_MS = 10 * 60_000;
const GC_LOCK = '.gc';

function startTime(pid: number): string | undefined {
  try {
    // Field 22 of /proc/<pid>/stat; the comm field may hold spaces, so split after ')'.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19];
  } catch {
    return undefined;
  }
}

const SELF = `${process.pid} ${startTime(process.pid) ?? '?'}`;

/** Alive unless the owner process is gone (or its pid was reused by another process). */
function ownerAlive(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  const [pidText, start] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = startTime(pid);
  return now !== undefined && (start === '?' || now === start);
}

/** Create the lock file, or report who holds it. Reclaims a stale lock once. */
function tryCreate(file: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, SELF);
      closeSync(fd);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (ownerAlive(file)) return false;
      try {
        unlinkSync(file);
      } catch {
        // someone else reclaimed it first
      }
    }
  }
  return false;
}

function release(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lockDir(cniDir: string): string {
  const dir = join(cniDir, 'locks');
  try {
    ensurePrivateDir(cniDir);
    ensurePrivateDir(dir);
  } catch (e) {
    throw new CniError(Code.IOFailure, `failed to create lock directory ${dir}: ${(e as Error).message}`);
  }
  return dir;
}

function timeout(what: string, waitMs: number): CniError {
  return new CniError(Code.TryAgainLater, `${what} is still locked by another operation after ${Math.round(waitMs / 1000)}s; try again later`);
}

export interface LockOptions {
  waitMs?: number;
  /** false: if the lock can't be written at all (unwritable or full disk), run without it. */
  required?: boolean;
}

/** Run fn holding the container's lock, and never while a GC runs. */
export async function withContainerLock<T>(cniDir: string, containerId: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  validateContainerId(containerId);
  const waitMs = opts.waitMs ?? DEFAULT_LOCK_WAIT_MS;
  const unlocked = (e: unknown) => {
    const err = e instanceof CniError ? e : new CniError(Code.IOFailure, `cannot write lock in ${cniDir}/locks: ${(e as Error).message}`);
    if (opts.required !== false) throw err;
    log().warn({ err: err.message }, 'running without the container lock');
    return fn();
  };
  let dir: string;
  try {
    dir = lockDir(cniDir);
  } catch (e) {
    return unlocked(e);
  }
  const file = join(dir, containerId);
  const gcFile = join(dir, GC_LOCK);
  const deadline = Date.now() + waitMs;
  for (;;) {
    let created: boolean;
    try {
      created = tryCreate(file);
    } catch (e) {
      return unlocked(e);
    }
    if (created) {
      // Publish first, then look: a GC that started meanwhile wins and we wait for it.
      if (!ownerAlive(gcFile)) break;
      release(file);
    }
    if (Date.now() > deadline) throw timeout(`container ${containerId}`, waitMs);
    await sleep(POLL_MS);
  }
  try {
    return await fn();
  } finally {
    release(file);
  }
}

/** Run fn with no ADD/DEL/CHECK in flight (GC, libcni's rule). */
export async function withGcLock<T>(cniDir: string, fn: () => Promise<T>, waitMs = DEFAULT_LOCK_WAIT_MS): Promise<T> {
  const dir = lockDir(cniDir);
  const gcFile = join(dir, GC_LOCK);
  const deadline = Date.now() + waitMs;
  while (!tryCreate(gcFile)) {
    if (Date.now() > deadline) throw timeout('GC', waitMs);
    await sleep(POLL_MS);
  }
  try {
    // Wait for operations already holding a container lock to finish.
    while (readdirSync(dir).some((n) => n !== GC_LOCK && !n.startsWith('.') && ownerAlive(join(dir, n)))) {
      if (Date.now() > deadline) throw timeout('GC (operations in flight)', waitMs);
      await sleep(POLL_MS);
    }
    return await fn();
  } finally {
    release(gcFile);
  }
}

