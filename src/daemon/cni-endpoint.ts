// POST /cni: one CNI request from the shim, answered by cniResponse exactly as one-shot mode
// would, under the operation locks, counted for /metrics and for graceful shutdown.
import { callerVersion, cniResponse, type CniResponse } from '../cli/cni-edge.js';
import { parseCniArgs, podIdentity } from '../cni/cni-args.js';
import { CniError, Code } from '../cni/errors.js';
import type { PluginExec } from '../engine/exec-plugin.js';
import { log } from '../log.js';
import { flushTrace, mark } from '../trace.js';
import type { InformerCache } from './informer-cache.js';
import type { OperationLocks } from './limiter.js';
import type { DaemonMetrics } from './metrics.js';
import type { StatusQueue } from './status-queue.js';

/** The only variables a shim forwards; anything else in the request is refused. */
export const CNI_VARS = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'] as const;

export interface ShimRequest {
  env: Record<string, string>;
  stdin: Buffer;
}

export function parseShimRequest(body: Buffer): ShimRequest {
  let obj: unknown;
  try {
    obj = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new CniError(Code.Internal, `braid daemon: malformed request from the shim: ${(e as Error).message}`);
  }
  const { env, stdin } = (obj ?? {}) as { env?: unknown; stdin?: unknown };
  if (!env || typeof env !== 'object' || Array.isArray(env) || typeof stdin !== 'string') {
    throw new CniError(Code.Internal, 'braid daemon: malformed request from the shim: expected {"env": {...}, "stdin": "..."}');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!(CNI_VARS as readonly string[]).includes(k) || typeof v !== 'string') {
      throw new CniError(Code.Internal, `braid daemon: malformed request from the shim: env key ${JSON.stringify(k)} is not a forwarded CNI variable`);
    }
    out[k] = v;
  }
  return { env: out, stdin: Buffer.from(stdin, 'utf8') };
}

export interface CniEndpointDeps {
  /** The config and API of the moment; a reload never changes a request already running. */
  snapshot(): { baseConfig: Record<string, unknown>; cache: InformerCache | undefined };
  exec: PluginExec;
  locks: OperationLocks;
  metrics: DaemonMetrics;
  statusQueue?: StatusQueue;
}

const errorAnswer = (e: CniError, stdin?: Buffer): CniResponse => ({ exitCode: 1, stdout: `${JSON.stringify(e.toJSON(callerVersion(stdin)))}\n` });

function podUid(env: Record<string, string>): string | undefined {
  try {
    return podIdentity(parseCniArgs(env.CNI_ARGS)).uid;
  } catch {
    return undefined; // cniResponse reports the bad CNI_ARGS
  }
}

export class CniEndpoint {
  private readonly active = new Set<Promise<CniResponse>>();
  private closing = false;

  constructor(private readonly deps: CniEndpointDeps) {}

  get inflight(): number {
    return this.active.size;
  }

  async handle(body: Buffer): Promise<CniResponse> {
    const started = performance.now();
    mark('request');
    let req: ShimRequest;
    try {
      req = parseShimRequest(body);
    } catch (e) {
      const r = errorAnswer(e as CniError);
      this.deps.metrics.observeCni('invalid', r.exitCode, r.stdout, 0);
      return r;
    }
    const verb = req.env.CNI_COMMAND ?? '';
    if (this.closing) {
      const r = errorAnswer(new CniError(Code.TryAgainLater, 'braid daemon is shutting down; try again later'), req.stdin);
      this.deps.metrics.observeCni(verb, r.exitCode, r.stdout, 0);
      return r;
    }
    const p = this.serve(req);
    this.active.add(p);
    const gauge = this.deps.metrics.inflight.labels({ verb });
    gauge.inc();
    try {
      const r = await p;
      mark('answered');
      flushTrace(verb);
      this.deps.metrics.observeCni(verb, r.exitCode, r.stdout, (performance.now() - started) / 1000);
      log().info(
        { verb, containerId: req.env.CNI_CONTAINERID, ifname: req.env.CNI_IFNAME, exitCode: r.exitCode, ms: Math.round(performance.now() - started) },
        'CNI request served',
      );
      return r;
    } finally {
      gauge.dec();
      this.active.delete(p);
    }
  }

  private serve(req: ShimRequest): Promise<CniResponse> {
    const { baseConfig, cache } = this.deps.snapshot();
    const queue = this.deps.statusQueue;
    return this.deps.locks.run(req.env.CNI_COMMAND, req.env.CNI_CONTAINERID, () => {
      // The container's network-status is moot once it is being deleted.
      if (req.env.CNI_COMMAND === 'DEL' && queue) queue.cancel(req.env.CNI_CONTAINERID ?? '', req.env.CNI_IFNAME ?? '');
      return cniResponse(req.env, req.stdin, {
        baseConfig,
        ...(cache ? { api: cache.forRequest(podUid(req.env)), statusWriter: queue } : {}),
        exec: this.deps.exec,
        keepLogger: true,
        onGiveUp: this.deps.metrics.observeGiveUp,
      });
    });
  }

  /** New requests get code 11 from now on (the runtime retries against the next daemon). */
  beginShutdown(): void {
    this.closing = true;
  }

  /** Resolves true when every in-flight request finished, false on timeout. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = (async () => {
      while (this.active.size) await Promise.allSettled([...this.active]);
      return true as const;
    })();
    try {
      return await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
