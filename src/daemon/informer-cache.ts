// A KubeApi backed by informers: list+watch of the pods on this node and of every
// NetworkAttachmentDefinition, so an ADD reads both from memory. A miss falls back to one GET
// (a pod created a moment ago, a NAD the watch has not delivered yet); the status PATCH is the
// only write.
import { CniError, Code } from '../cni/errors.js';
import { apiRequester, type ApiRequester } from '../k8s/api-request.js';
import { resolveCredentials } from '../k8s/credentials.js';
import { kubeApi, NAD_PATH, type KubeApi, type KubeObject } from '../k8s/kube-api.js';
import { Informer, type Backoff, type InformerHealth } from './informer.js';
import { METADATA_ONLY } from './kube-list.js';
import type { ApiObserver, ApiResource } from './metrics.js';
import { slimNad, slimPod } from './slim-objects.js';

export interface InformerCacheOptions {
  /** undefined: in-cluster credentials (KUBERNETES_SERVICE_HOST and the ServiceAccount's token). */
  kubeconfig: string | undefined;
  nodeName: string;
  apiTimeoutMs: number;
  observe?: ApiObserver;
  onLookup?: (resource: ApiResource, result: 'hit' | 'miss' | 'negative') => void;
  onRestart?: (resource: ApiResource) => void;
  onRelist?: (resource: ApiResource) => void;
  backoff?: Partial<Backoff>;
  /** How long a NAD 404 from the fallback GET is remembered (the watch still wins at once). */
  negativeTtlMs?: number;
}

export const NEGATIVE_TTL_MS = 10_000;
const MAX_NEGATIVE = 1024;

export class InformerCache {
  private readonly pods: Informer;
  private readonly nads: Informer;
  private readonly negative = new Map<string, number>();

  private constructor(
    private readonly direct: KubeApi,
    requester: ApiRequester,
    private readonly opts: InformerCacheOptions,
  ) {
    const observe = opts.observe ?? (() => undefined);
    const common = {
      requester,
      observe,
      listTimeoutMs: Math.max(opts.apiTimeoutMs, 60_000),
      backoff: { initialMs: opts.backoff?.initialMs ?? 500, maxMs: opts.backoff?.maxMs ?? 30_000 },
      onRestart: opts.onRestart ?? (() => undefined),
      onRelist: opts.onRelist,
    };
    this.pods = new Informer({ ...common, resource: 'pods', path: '/api/v1/pods', fieldSelector: `spec.nodeName=${opts.nodeName}`, accept: METADATA_ONLY, slim: slimPod });
    this.nads = new Informer({ ...common, resource: 'network-attachment-definitions', path: `${NAD_PATH}/network-attachment-definitions`, slim: slimNad });
  }

  /**
   * Reads the credentials (a CniError when they are unusable); informers start with start().
   * Every request after that re-reads them if a file they came from changed.
   */
  static async create(opts: InformerCacheOptions): Promise<InformerCache> {
    const credentials = resolveCredentials(opts.kubeconfig);
    if (!credentials) throw new CniError(Code.InvalidConfig, 'no kubeconfig, and not in a pod (no KUBERNETES_SERVICE_HOST and ServiceAccount token)');
    await credentials.current();
    return new InformerCache(countingApi(kubeApi(credentials, opts.apiTimeoutMs), opts.observe), apiRequester(credentials), opts);
  }

  start(): void {
    this.pods.start();
    this.nads.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.pods.stop(), this.nads.stop()]);
  }

  get synced(): boolean {
    return this.pods.synced && this.nads.synced;
  }

  /** Why the cache is not fit to serve (not synced, or an informer cannot list or watch). */
  unhealthy(): string | undefined {
    if (!this.synced) return 'informer caches not synced yet';
    const down = this.stats().filter((s) => !s.health.up);
    return down.length ? down.map((s) => `informer ${s.resource} cannot list or watch: ${s.health.lastError?.reason ?? 'starting'}`).join('; ') : undefined;
  }

  stats(): Array<{ resource: ApiResource; synced: boolean; objects: number; health: InformerHealth }> {
    return [
      { resource: 'pods', synced: this.pods.synced, objects: this.pods.size, health: this.pods.health },
      { resource: 'network-attachment-definitions', synced: this.nads.synced, objects: this.nads.size, health: this.nads.health },
    ];
  }

  /**
   * The KubeApi for one CNI request. `expectedUid` (K8S_POD_UID) makes a cached pod of the
   * same name but another uid (deleted and recreated, watch lagging) a miss, not an error.
   */
  forRequest(expectedUid?: string): KubeApi {
    const lookup = this.opts.onLookup ?? (() => undefined);
    return {
      getPod: async (namespace, name) => {
        const pod = this.pods.get(namespace, name);
        if (pod && (!expectedUid || !pod.metadata.uid || pod.metadata.uid === expectedUid)) {
          lookup('pods', 'hit');
          return pod as unknown as KubeObject;
        }
        lookup('pods', 'miss');
        return this.direct.getPod(namespace, name);
      },
      getNad: async (namespace, name) => {
        const nad = this.nads.get(namespace, name);
        if (nad) {
          lookup('network-attachment-definitions', 'hit');
          return nad as unknown as KubeObject;
        }
        const key = `${namespace}/${name}`;
        if ((this.negative.get(key) ?? 0) > Date.now()) {
          lookup('network-attachment-definitions', 'negative');
          return undefined;
        }
        lookup('network-attachment-definitions', 'miss');
        const got = await this.direct.getNad(namespace, name);
        if (got === undefined) this.rememberMissing(key);
        return got;
      },
      patchPodStatus: (namespace, name, patch) => this.direct.patchPodStatus(namespace, name, patch),
    };
  }

  private rememberMissing(key: string): void {
    const now = Date.now();
    if (this.negative.size >= MAX_NEGATIVE) for (const [k, t] of this.negative) if (t <= now) this.negative.delete(k);
    if (this.negative.size >= MAX_NEGATIVE) this.negative.delete(this.negative.keys().next().value!);
    this.negative.set(key, now + (this.opts.negativeTtlMs ?? NEGATIVE_TTL_MS));
  }
}

/** The one-shot API with every request counted for /metrics. */
function countingApi(api: KubeApi, observe: ApiObserver | undefined): KubeApi {
  if (!observe) return api;
  const counted = async <T>(verb: 'get' | 'patch', resource: ApiResource, call: () => Promise<T>): Promise<T> => {
    try {
      const out = await call();
      observe(verb, resource, true);
      return out;
    } catch (e) {
      observe(verb, resource, false);
      throw e;
    }
  };
  return {
    getPod: (ns, name) => counted('get', 'pods', () => api.getPod(ns, name)),
    getNad: (ns, name) => counted('get', 'network-attachment-definitions', () => api.getNad(ns, name)),
    patchPodStatus: (ns, name, patch) => counted('patch', 'pods', () => api.patchPodStatus(ns, name, patch)),
  };
}
