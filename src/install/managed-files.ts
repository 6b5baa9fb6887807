// The only files braid install writes: each replaced atomically (write beside, rename) and only
// when its content would change, so a second run is a no-op and a runtime never sees half a file.
import { chmodSync, mkdirSync, readFileSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../engine/atomic-file.js';

export interface ManagedFile {
  path: string;
  content: string | Buffer;
  mode: number;
  /** Holds credentials: --dry-run names it without printing it. */
  secret?: boolean;
}

function readOrUndefined(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

export const sameContent = (path: string, content: string | Buffer) => {
  const current = readOrUndefined(path);
  return current !== undefined && current.equals(typeof content === 'string' ? Buffer.from(content) : content);
};

/** Writes the file unless it already holds exactly this content (and mode); true when written. */
export function applyFile(f: ManagedFile): boolean {
  if (sameContent(f.path, f.content)) {
    if ((statSync(f.path).mode & 0o777) !== f.mode) chmodSync(f.path, f.mode);
    return false;
  }
  mkdirSync(dirname(f.path), { recursive: true, mode: 0o755 });
  writeFileAtomic(f.path, f.content, { mode: f.mode, durable: true });
  chmodSync(f.path, f.mode); // the umask may have narrowed the create mode
  return true;
}

/**
 * Removes the file only while it still holds what braid wrote: a file someone else put there
 * since (another installer, an operator) is not braid's to delete. True when removed.
 */
export function removeIfOurs(f: Pick<ManagedFile, 'path' | 'content'>): boolean {
  if (!sameContent(f.path, f.content)) return false;
  unlinkSync(f.path);
  return true;
}

/** Drops a directory braid created for its files once it is empty; anything inside keeps it. */
export function removeDirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* not empty or already gone */
  }
}
