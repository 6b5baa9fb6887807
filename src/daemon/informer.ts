// One resource's list+watch cache on client-node 1.4's ListWatch, which stays stopped after a
// list or watch error: this one restarts itself with jittered exponential backoff, slims every
// object as it arrives, and reports its requests for /metrics.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject } from '@kubernetes/client-node';
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
  kc: KubeConfig;
  resource: ApiResource;
  path: string;
  fieldSelector?: string | undefined;
  accept?: string | undefined;
  slim: (o: unknown) => Slim;
  observe: ApiObserver;
  listTimeoutMs: number;
  backoff: Backoff;
  onRestart: (resource: ApiResource) => void;
}

export class Informer {
  synced = false;
  private stopped = false;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private readonly lw: ListWatch<Slim>;

  constructor(private readonly o: InformerOptions) {
    this.lw = new ListWatch<Slim>(o.path, new SlimmingWatch(o.kc, this), () => this.list(), false, undefined, o.fieldSelector);
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

  watchOpened(ok: boolean): void {
    this.o.observe('watch', this.o.resource, ok);
    if (ok) this.failures = 0;
  }

  private async list(): Promise<KubernetesListObject<Slim>> {
    try {
      const query: Record<string, string> = this.o.fieldSelector ? { fieldSelector: this.o.fieldSelector } : {};
      const l = await kubeList(this.o.kc, this.o.path, query, { timeoutMs: this.o.listTimeoutMs, accept: this.o.accept, slim: this.o.slim });
      this.o.observe('list', this.o.resource, true);
      return l;
    } catch (e) {
      this.o.observe('list', this.o.resource, false);
      throw e;
    }
  }

  private onError(err: unknown): void {
    if (this.stopped || this.retry) return;
    this.failures++;
    const base = Math.min(this.o.backoff.maxMs, this.o.backoff.initialMs * 2 ** Math.min(this.failures - 1, 20));
    const delay = Math.round(base * (0.5 + Math.random() / 2));
    log().warn({ resource: this.o.resource, err: (err as Error)?.message ?? String(err), retryInMs: delay }, 'informer list/watch failed; restarting');
    this.o.onRestart(this.o.resource);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.stopped) this.start();
    }, delay);
  }
}

/** client-node's Watch, slimming objects as they arrive and reporting to its informer. */
class SlimmingWatch extends Watch {
  constructor(
    kc: KubeConfig,
    private readonly informer: Informer,
  ) {
    super(kc);
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
    let failed = false;
    // A server-side timeout makes the watch re-establish now and then (as client-go does),
    // so a silently dead connection cannot keep the cache stale forever.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const ctrl = await super.watch(
      path,
      { ...query, allowWatchBookmarks: true, timeoutSeconds },
      (phase, obj, raw) => {
        events++;
        callback(phase, OBJECT_EVENTS.has(phase) ? slim(obj) : obj, raw);
      },
      (err: unknown) => {
        if (err) failed = true;
        // ListWatch re-watches at once on a clean close; a server that keeps closing a fresh
        // watch would make that a hot loop, so an early, empty close counts as an error.
        if (!err && events === 0 && Date.now() - opened < EARLY_CLOSE_MS && !this.informer.isStopped) {
          done(new Error('watch closed by the server right after it opened'));
          return;
        }
        done(err);
      },
    );
    this.informer.watchOpened(!failed);
    return ctrl;
  }
}
