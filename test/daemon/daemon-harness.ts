// Runs `dist/braid daemon` for a test and talks to it the way the shims and Prometheus do.
// Every daemon started here is killed by killAllDaemons() (call it in afterEach), so a failing
// test never leaves one behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';
import { BRAID, callBraid, type CniCall, type CniOutcome } from '../helpers/braid-runner.js';

export const SHIM_C = join(import.meta.dirname, '../../dist/braid-shim');
export const SHIM_NODE = join(import.meta.dirname, '../../dist/braid-shim-node');
export const SHIMS = [
  ['C', SHIM_C],
  ['Node.js', SHIM_NODE],
] as const;

export function assertDaemonBuilt(): void {
  for (const f of [BRAID, SHIM_C, SHIM_NODE]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first`);
  const head = readFileSync(SHIM_C).subarray(0, 4);
  if (!head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) console.warn('dist/braid-shim is not native (no C compiler at build time?)');
}

/** One loopback API server per test file, with the built daemon and shims checked first. */
export function useDaemonApi(): { api: FakeApiServer } {
  const t = {} as { api: FakeApiServer };
  beforeAll(async () => {
    assertDaemonBuilt();
    t.api = await startFakeApiServer();
  });
  afterAll(() => t.api.close());
  return t;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function httpOverSocket(socketPath: string, path: string, opts: { method?: string; body?: string; timeoutMs?: number } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: opts.method ?? 'GET', headers: opts.body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`GET ${path} over ${socketPath} timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined;
    try {
      v = await probe();
    } catch {
      v = undefined;
    }
    if (v !== undefined && v !== (false as unknown)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const running = new Set<DaemonProcess>();

export interface DaemonStart {
  config: string;
  socket: string;
  args?: string[];
  env?: Record<string, string>;
  /** Wait for /readyz (default) or only for the socket to answer /healthz. */
  wait?: 'ready' | 'listening' | 'none';
}

export class DaemonProcess {
  stdout = '';
  stderr = '';
  exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    readonly socket: string,
  ) {
    proc.stdout!.on('data', (d) => (this.stdout += d));
    proc.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) =>
      proc.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? null : -1);
        running.delete(this);
        resolve(this.exitCode);
      }),
    );
  }

  static async start(o: DaemonStart): Promise<DaemonProcess> {
    const proc = spawn(BRAID, ['daemon', '--config', o.config, '--socket', o.socket, ...(o.args ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NAME: 'node1', ...o.env },
    });
    const d = new DaemonProcess(proc, o.socket);
    running.add(d);
    if ((o.wait ?? 'ready') !== 'none') await d.waitFor(o.wait === 'listening' ? '/healthz' : '/readyz');
    return d;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  async waitFor(path: '/healthz' | '/readyz', timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `daemon ${path}`,
      async () => {
        if (!this.alive) throw new Error(`daemon exited (${this.exitCode}) before ${path}:\n${this.stderr}`);
        return (await httpOverSocket(this.socket, path)).status === 200 || undefined;
      },
      timeoutMs,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\ndaemon stderr:\n${this.stderr}`);
    });
  }

  get(path: string): Promise<HttpAnswer> {
    return httpOverSocket(this.socket, path);
  }

  /** A metric's value from /metrics (first series matching the labels). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    const text = (await this.get('/metrics')).body;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
    }
    return undefined;
  }

  async terminate(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    if (!this.alive) return this.exitCode ?? null;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }

  async kill(): Promise<void> {
    if (this.alive) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

export async function killAllDaemons(): Promise<void> {
  await Promise.all([...running].map((d) => d.kill()));
}

/** A CNI call through a shim binary (same checks as one-shot calls: one JSON line at most). */
export const callShim = (shim: string, call: CniCall): Promise<CniOutcome> => callBraid(call, shim);

export const shimEntry = (socket: string, cniVersion = '1.0.0') => ({ cniVersion, name: 'braid', type: 'braid-shim', daemonSocket: socket });

/** Largest number of "begin" lines without their "end" at any point of a fake-plugin log. */
export function maxConcurrent(logText: string, filter: (line: string) => boolean = () => true): number {
  let now = 0;
  let max = 0;
  for (const line of logText.split('\n').filter(filter)) {
    if (line.startsWith('begin ')) max = Math.max(max, ++now);
    else if (line.startsWith('end ')) now--;
  }
  return max;
}
