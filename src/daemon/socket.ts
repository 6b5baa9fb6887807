// The daemon's unix socket: mode 0600 from the first moment (bound under a 0177 umask, then
// renamed into place, which also replaces a stale socket atomically), never stolen from a live
// daemon, and removed at exit only if it is still ours (a successor may have replaced it).
import { chmodSync, existsSync, lstatSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { dirname, join } from 'node:path';

export const DEFAULT_SOCKET = '/run/braid/braid.sock';

export interface SocketHandle {
  path: string;
  ino: number;
}

/** true when something accepts connections on path (another daemon). */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(true); // accepted into a backlog that nobody drains: still someone's socket
    }, 1000);
    s.on('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') resolve(false);
      else reject(new Error(`cannot probe socket ${path}: ${e.code ?? e.message}`));
    });
  });
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir loops forever on a path under /proc,
 * where mkdir answers ENOENT. New directories are 0700.
 */
function makeDirs(dir: string): void {
  if (existsSync(dir)) return;
  makeDirs(dirname(dir));
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new Error(`cannot create ${dir} for the socket: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function listenOnSocket(server: Server, path: string): Promise<SocketHandle> {
  const dir = dirname(path);
  makeDirs(dir);
  if (existsSync(path)) {
    if (!lstatSync(path).isSocket()) throw new Error(`${path} exists and is not a socket`);
    if (await isLive(path)) throw new Error(`another process (a braid daemon?) is serving ${path}`);
  }
  // Short, so a socket path near the 107-byte limit still leaves room for it.
  const tmp = join(dir, `.${process.pid}.s`);
  if (existsSync(tmp)) unlinkSync(tmp);
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(tmp, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return { path, ino: statSync(path).ino };
}

export function removeSocket(h: SocketHandle): void {
  try {
    if (statSync(h.path).ino === h.ino) unlinkSync(h.path);
  } catch {
    // already gone
  }
}
