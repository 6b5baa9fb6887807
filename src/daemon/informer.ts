// One resource's list+watch cache on client-node 1.4's ListWatch, which stays stopped after a
// list or watch error: this one restarts itself with jittered exponential backoff, slims every
// object as it arrives, reports its requests for /metrics, and knows whether it is healthy (its
// last list or watch attempt worked) for /readyz.
import { STATUS_CODES } from 'node:http';
import { createInterface } from 'node:readline';
import { KubeConfig, ListWatch, Watch, type KubernetesListObject } from '@kubernetes/client-node';
import type { ApiRequester } from '../k8s/api-request.js';
import { log } from '../log.js';
import { kubeList } from './kube-list.js';
import type { ApiObserver, ApiResource } from './metrics.js';
import type { Slim } from './slim-objects.js';

const OBJECT_EVENTS = new Set(['ADDED', 'MODIFIED', 'DELETED']);
const EARLY_CLOSE_MS = 1000;

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export interface InformerOptions {
  /** braid's own requests, with the credentials as they are on disk at each request. */
  requester: ApiRequester;
  resource: ApiResource;
  path: string;
  fieldSelector?: string | undefined;
  accept?: string | undefined;
  slim: (o: unknown) => Slim;
  observe: ApiObserver;
  listTimeoutMs: number;
  backoff: Backoff;
  onRestart: (resource: ApiResource) => void;
  onRelist?: ((resource: ApiResource) => void) | undefined;
}

/** A list or watch failure in a few words, for logs, /readyz and a metric label. */
export function failureReason(err: unknown): string {
  const e = err as { statusCode?: number; code?: number | string; message?: string } | undefined;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.code === 'number' ? e.code : undefined;
  if (status) return `${status} ${STATUS_CODES[status] ?? 'error'}`;
  const message = e?.message ?? String(err);
  const sys = typeof e?.code === 'string' ? e.code : /: (E[A-Z_]{3,})$/.exec(message)?.[1];
  if (sys === 'ETIMEDOUT' || /no answer within/.test(message)) return 'timeout';
  return sys ? `unreachable (${sys})` : 'error';
}

export interface InformerHealth {
  /** The last list or watch attempt worked (a watch ending is not a failure until a retry fails). */
  up: boolean;
  lastError: { reason: string; at: number } | undefined;
  /** Lists after the first one: restarts and 410 Gone. */
  relists: number;
}

export class Informer {
  synced = false;
  readonly health: InformerHealth = { up: false, lastError: undefined, relists: 0 };
  private lists = 0;
  private stopped = false;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private readonly lw: ListWatch<Slim>;

  constructor(private readonly o: InformerOptions) {
    this.lw = new ListWatch<Slim>(o.path, new SlimmingWatch(o.requester, this), () => this.list(), false, undefined, o.fieldSelector);
    this.lw.on('error', (err: unknown) => this.onError(err));
  }

  start(): void {
    this.stopped = false;
    this.lw.start().catch((e: unknown) => this.onError(e));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.lw.stop();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  get(namespace: string, name: string): Slim | undefined {
    return this.lw.get(name, namespace);
  }

  get size(): number {
    return this.lw.list().length;
  }

  get slim(): (o: unknown) => Slim {
    return this.o.slim;
  }

  /** ListWatch calls watch() right after a list has landed in the cache. */
  listed(): void {
    this.synced = true;
  }

  watchOpened(ok: boolean, err?: unknown): void {
    this.o.observe('watch', this.o.resource, ok);
    if (ok) {
      this.failures = 0;
      this.health.up = true;
    } else this.down(err);
  }

  private down(err: unknown): void {
    this.health.up = false;
    this.health.lastError = { reason: failureReason(err), at: Date.now() };
  }

  private async list(): Promise<KubernetesListObject<Slim>> {
    try {
      const query: Record<string, string> = this.o.fieldSelector ? { fieldSelector: this.o.fieldSelector } : {};
      const l = await kubeList(this.o.requester, this.o.path, query, { timeoutMs: this.o.listTimeoutMs, accept: this.o.accept, slim: this.o.slim });
      this.o.observe('list', this.o.resource, true);
      if (this.lists++ > 0) {
        this.health.relists++;
        this.o.onRelist?.(this.o.resource);
      }
      return l;
    } catch (e) {
      this.o.observe('list', this.o.resource, false);
      this.down(e);
      throw e;
    }
  }

  private onError(err: unknown): void {
    if (this.stopped || this.retry) return;
    this.failures++;
    const base = Math.min(this.o.backoff.maxMs, this.o.backoff.initialMs * 2 ** Math.min(this.failures - 1, 20));
    const delay = Math.round(base * (0.5 + Math.random() / 2));
    log().warn({ resource: this.o.resource, reason: failureReason(err), err: (err as Error)?.message ?? String(err), retryInMs: delay }, 'informer list/watch failed; restarting');
    this.o.onRestart(this.o.resource);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.stopped) this.start();
    }, delay);
  }
}

/**
 * The watch ListWatch drives, over braid's own requester rather than client-node's fetch (which
 * reads credentials once and sends node-fetch's User-Agent): each watch authenticates with the
 * credentials current when it opens, so a rotated token is picked up at the next re-watch.
 * Objects are slimmed as they arrive; the informer hears how the watch went.
 */
class SlimmingWatch extends Watch {
  constructor(
    private readonly requester: ApiRequester,
    private readonly informer: Informer,
  ) {
    super(new KubeConfig()); // unused: watch() below makes its own request
  }

  override async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    // ListWatch goes on to watch after a list that finished after stop(): don't.
    if (this.informer.isStopped) return new AbortController();
    this.informer.listed();
    const slim = this.informer.slim;
    const opened = Date.now();
    let events = 0;
    let failed: unknown;
    // A server-side timeout makes the watch re-establish now and then (as client-go does),
    // so a silently dead connection cannot keep the cache stale forever.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const ctrl = new AbortController();
    let finished = false;
    // done() exactly once, whichever of close, end or error comes first (as client-node's Watch).
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      ctrl.abort();
      if (err) failed ??= err;
      // ListWatch re-watches at once on a clean close; a server that keeps closing a fresh
      // watch would make that a hot loop, so an early, empty close counts as an error.
      if (!err && events === 0 && Date.now() - opened < EARLY_CLOSE_MS && !this.informer.isStopped) {
        done(new Error('watch closed by the server right after it opened'));
        return;
      }
      done(err);
    };
    const params = new URLSearchParams({ watch: 'true' });
    for (const [k, v] of Object.entries({ ...query, allowWatchBookmarks: true, timeoutSeconds })) if (v !== undefined) params.set(k, String(v));
    try {
      const res = await this.requester.open(`${path}?${params.toString()}`, { signal: ctrl.signal });
      if (res.statusCode !== 200) {
        res.resume();
        throw Object.assign(new Error(STATUS_CODES[res.statusCode ?? 500] ?? 'Internal Server Error'), { statusCode: res.statusCode });
      }
      // A stream that opened and then broke (the server went away, a reset) ended as a close
      // does, as client-go's reflector sees it: ListWatch re-watches at once, and that attempt
      // says whether the server is there.
      const ended = () => finish(null);
      res.on('error', ended);
      res.on('close', ended);
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      // readline passes the stream's error on: unhandled, it would kill the daemon.
      lines.on('error', ended);
      lines.on('line', (line) => {
        try {
          const data = JSON.parse(line) as { type: string; object: unknown };
          events++;
          callback(data.type, OBJECT_EVENTS.has(data.type) ? slim(data.object) : data.object, data);
        } catch {
          // a line that is not JSON: skipped, as client-node's Watch does
        }
      });
    } catch (err) {
      finish(err);
    }
    this.informer.watchOpened(failed === undefined, failed);
    return ctrl;
  }
}
