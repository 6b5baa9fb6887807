// How braid starts delegates when braid-spawner sits beside it (src/spawner/braid-spawner.c):
// one small long-lived process that forks and execs plugins on braid's behalf, for the daemon
// and for one-shot calls alike. A fork from the daemon copies ~100 MB worth of page tables and
// stops its event loop for 2-4 ms per plugin (a one-shot braid: ~2 ms); from the spawner it
// costs ~0.1 ms. The spawner itself is started with a plain child_process.spawn: loading execa
// just for that would cost a one-shot call ~4 ms. The plugin run's semantics (env, stdin,
// timeout kill of the process group, output limit, errno of a failed exec for the
// text-file-busy retry) are the execa path's: both feed makePluginExec.
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import { tryAgainLater } from '../cni/errors.js';
import { log } from '../log.js';
import type { RawRun, Runner } from './exec-plugin.js';

const byNumber = (m: Record<string, number>) => new Map(Object.entries(m).map(([k, v]) => [v, k]));
const SIGNALS = byNumber(constants.signals as Record<string, number>);
const ERRNOS = byNumber(constants.errno as Record<string, number>);

interface Pending {
  path: string;
  resolve(r: RawRun): void;
  reject(e: Error): void;
}

interface Proc {
  stdin: Writable;
  pid: number | undefined;
  pending: Map<number, Pending>;
  /** Keeps this process alive while runs are pending; idle, the spawner does not hold it open. */
  hold(on: boolean): void;
}

type Handle = { ref?(): void; unref?(): void };

export class Spawner {
  private proc: Proc | undefined;
  private nextId = 1;
  private closing: Promise<void> | undefined;
  /** Spawner processes started so far (1 unless one died). */
  starts = 0;

  constructor(readonly binary: string) {}

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts the process ahead of the first run (overlapping, e.g., an ADD's API wait). */
  warm(): void {
    this.proc ??= this.start();
  }

  readonly run: Runner = (path, env, stdin) => {
    const proc = this.proc ?? this.start();
    const id = this.nextId;
    this.nextId = (this.nextId % 0xffffffff) + 1;
    const envList = Object.entries(env)
      .filter((kv): kv is [string, string] => kv[1] !== undefined)
      .map(([k, v]) => `${k}=${v}`);
    const done = new Promise<RawRun>((resolve, reject) => proc.pending.set(id, { path, resolve, reject }));
    if (proc.pending.size === 1) proc.hold(true);
    proc.stdin.write(encodeRun(id, path, envList, stdin));
    return {
      done,
      kill: () => {
        if (proc.pending.has(id)) proc.stdin.write(killFrame(id));
      },
    };
  };

  /** Ends the spawner's input: it answers what is running, then exits. */
  async close(): Promise<void> {
    // Referenced again: an idle spawner is unref'd, and then nothing would keep this process's
    // loop alive until the spawner's exit is seen and reaped.
    this.proc?.hold(true);
    this.proc?.stdin.end();
    await this.closing;
  }

  private start(): Proc {
    this.starts++;
    // Not killed with braid: on EOF it lets running plugins finish (a half-run delegate leaves a
    // half-configured pod), and kills them only after a grace period.
    const sub = spawn(this.binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const handles = [sub, sub.stdin, sub.stdout] as Handle[];
    const proc: Proc = {
      stdin: sub.stdin,
      pid: sub.pid,
      pending: new Map(),
      hold: (on) => handles.forEach((h) => (on ? h.ref?.() : h.unref?.())),
    };
    proc.hold(false);
    this.proc = proc;
    let buf: Buffer = Buffer.alloc(0);
    sub.stdout.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let off = 0;
      while (buf.length - off >= 4) {
        const len = buf.readUInt32LE(off);
        if (buf.length - off - 4 < len) break;
        this.answer(proc, buf.subarray(off + 4, off + 4 + len));
        off += 4 + len;
      }
      buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
    });
    sub.stdin.on('error', () => undefined); // a dead spawner shows as its exit, below
    let failed: Error | undefined;
    sub.on('error', (e) => (failed = e)); // could not be started; 'close' follows
    this.closing = new Promise<void>((resolve) => sub.on('close', (code, signal) => {
      if (this.proc === proc) this.proc = undefined;
      const how = failed ? `could not start (${failed.message})` : signal ? `killed by ${signal}` : `exited with status ${code}`;
      if (proc.pending.size) log().error({ binary: this.binary, pid: proc.pid, running: proc.pending.size }, `braid-spawner ${how} with plugins running`);
      for (const p of proc.pending.values()) p.reject(tryAgainLater(`braid-spawner ${how} while plugin ${p.path} ran; its outcome is unknown`));
      proc.pending.clear();
      resolve();
    }));
    return proc;
  }

  private answer(proc: Proc, f: Buffer): void {
    const id = f.readUInt32LE(0);
    const kind = String.fromCharCode(f[4]!);
    const code = f.readUInt32LE(5);
    const cpuMs = f.readUInt32LE(13) / 1000;
    const outLen = f.readUInt32LE(17);
    const stdout = f.toString('utf8', 21, 21 + outLen);
    const errLen = f.readUInt32LE(21 + outLen);
    const stderr = f.toString('utf8', 25 + outLen, 25 + outLen + errLen);
    const p = proc.pending.get(id);
    if (!p) return;
    proc.pending.delete(id);
    if (!proc.pending.size) proc.hold(false);
    if (kind === 'X') p.resolve({ stdout, stderr, exitCode: code, cpuMs });
    else if (kind === 'S') p.resolve({ stdout, stderr, signal: SIGNALS.get(code) ?? `signal ${code}`, cpuMs });
    else if (kind === 'O') p.resolve({ stdout: '', stderr, overflow: true, cpuMs });
    else p.resolve({ stdout: '', stderr: '', spawnError: ERRNOS.get(code) ?? `errno ${code}` });
  }
}

/** braid-spawner beside the running braid bundle (dist/ in a build, the CNI bin dir on a node). */
export function spawnerBeside(script = process.argv[1] ?? ''): string {
  let self = script;
  try {
    self = realpathSync(script);
  } catch {
    // not a file (an eval'd script): look beside the path as given
  }
  return join(dirname(self), 'braid-spawner');
}

/**
 * A spawner for `binary`, ready to run plugins; undefined (braid then forks with execa itself)
 * when there is no executable binary, as on a node built without a C compiler.
 */
export function loadSpawner(binary: string): Spawner | undefined {
  try {
    accessSync(binary, fsConstants.X_OK);
  } catch {
    return undefined;
  }
  return new Spawner(binary);
}

/** A frame's head: its length (all but these 4 bytes), the run id, the op. */
function writeHead(b: Buffer, id: number, op: 'R' | 'K'): void {
  b.writeUInt32LE(b.length - 4, 0);
  b.writeUInt32LE(id, 4);
  b.write(op, 8, 'latin1');
}

function killFrame(id: number): Buffer {
  const b = Buffer.alloc(9);
  writeHead(b, id, 'K');
  return b;
}

/** A run request, written into one buffer: it is built for every plugin run. */
function encodeRun(id: number, path: string, env: string[], stdin: string): Buffer {
  const strings = [path, ...env, stdin];
  let size = 4 + 4 + 1 + 4; // frame length, id, op, env count
  for (const s of strings) size += 4 + Buffer.byteLength(s);
  const b = Buffer.allocUnsafe(size);
  writeHead(b, id, 'R');
  let off = 9;
  const put = (s: string) => {
    const n = b.write(s, off + 4, 'utf8');
    b.writeUInt32LE(n, off);
    off += 4 + n;
  };
  put(path);
  b.writeUInt32LE(env.length, off);
  off += 4;
  for (const s of env) put(s);
  put(stdin);
  return b;
}
