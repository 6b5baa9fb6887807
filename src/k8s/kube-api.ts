// The three API calls braid makes (get pod, get NAD, merge-patch pod status), each one plain
// HTTP call with a hard timeout, with the credentials as they are on disk at that moment
// (credentials.ts: the lean kubeconfig reader, client-node's KubeConfig for exec plugins and
// auth-providers, or the in-cluster ServiceAccount).
import { CniError, Code } from '../cni/errors.js';
import { log } from '../log.js';
import { apiRequester, type RawResponse } from './api-request.js';
import { kubeconfigCredentials, resolveCredentials, type Credentials } from './credentials.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; annotations?: Record<string, string>; resourceVersion?: string; [k: string]: unknown };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface KubeApi {
  getPod(namespace: string, name: string): Promise<KubeObject>;
  /** undefined when the NAD does not exist (404). */
  getNad(namespace: string, name: string): Promise<KubeObject | undefined>;
  patchPodStatus(namespace: string, name: string, mergePatch: unknown): Promise<void>;
}

export const DEFAULT_API_TIMEOUT_MS = 10_000;
export const NAD_PATH = '/apis/k8s.cni.cncf.io/v1';

const seg = (s: string) => encodeURIComponent(s);

/** A failed API request; `httpStatus` is the answer's status, 0 when there was no answer. */
export class KubeApiError extends CniError {
  constructor(
    code: number,
    msg: string,
    readonly httpStatus: number,
  ) {
    super(code, msg);
  }
}

/** A failure to reach the API is transient for the runtime: code 11 makes it retry. */
function unreachable(what: string, why: string): CniError {
  return new KubeApiError(Code.TryAgainLater, `Kubernetes API ${what}: ${why}; try again later`, 0);
}

function statusMessage(body: string): string {
  try {
    const s = JSON.parse(body) as { message?: string };
    if (typeof s.message === 'string') return s.message;
  } catch {
    /* not a Status object */
  }
  return body.slice(0, 200);
}

export async function kubeApiFromKubeconfig(kubeconfigPath: string, timeoutMs = DEFAULT_API_TIMEOUT_MS): Promise<KubeApi> {
  const credentials = kubeconfigCredentials(kubeconfigPath);
  // Read now: a kubeconfig that does not load is the caller's error at once, not the first request's.
  await credentials.current();
  return kubeApi(credentials, timeoutMs);
}

/** The API with the kubeconfig when one is set, else in-cluster credentials in a pod; undefined: no API. */
export async function kubeApiFor(kubeconfig: string | undefined, timeoutMs = DEFAULT_API_TIMEOUT_MS, env: NodeJS.ProcessEnv = process.env): Promise<KubeApi | undefined> {
  const credentials = resolveCredentials(kubeconfig, env);
  if (!credentials) return undefined;
  await credentials.current();
  return kubeApi(credentials, timeoutMs);
}

export function kubeApi(credentials: Credentials, timeoutMs = DEFAULT_API_TIMEOUT_MS): KubeApi {
  // One requester per API object, so an ADD's pod GET, NAD GETs and PATCH share connections
  // (and TLS handshakes) where they can.
  const requester = apiRequester(credentials);
  const request = (method: string, path: string, body?: unknown, contentType?: string): Promise<RawResponse> =>
    requester.send(method, path, { body, contentType, timeoutMs, unreachable: (why) => unreachable(`${method} ${path}`, why) });

  function check(res: RawResponse, what: string): void {
    if (res.status >= 200 && res.status < 300) return;
    const msg = `Kubernetes API ${what} answered ${res.status}: ${statusMessage(res.body)}`;
    if (res.status >= 500 || res.status === 429) throw new KubeApiError(Code.TryAgainLater, `${msg}; try again later`, res.status);
    if (res.status === 401 || res.status === 403) throw new KubeApiError(Code.InvalidConfig, `${msg} (check braid's credentials and RBAC)`, res.status);
    throw new KubeApiError(Code.InvalidConfig, msg, res.status);
  }

  const parse = (res: RawResponse, what: string): KubeObject => {
    try {
      return JSON.parse(res.body) as KubeObject;
    } catch {
      throw new CniError(Code.TryAgainLater, `Kubernetes API ${what} returned invalid JSON; try again later`);
    }
  };

  return {
    async getPod(namespace, name) {
      const path = `/api/v1/namespaces/${seg(namespace)}/pods/${seg(name)}`;
      const res = await request('GET', path);
      if (res.status === 404) {
        // The pod may not be visible yet (or is being recreated): let the runtime retry.
        throw new CniError(Code.TryAgainLater, `pod ${namespace}/${name} not found in the Kubernetes API; try again later`);
      }
      check(res, `GET pod ${namespace}/${name}`);
      return parse(res, `GET pod ${namespace}/${name}`);
    },
    async getNad(namespace, name) {
      const path = `${NAD_PATH}/namespaces/${seg(namespace)}/network-attachment-definitions/${seg(name)}`;
      const res = await request('GET', path);
      if (res.status === 404) return undefined;
      check(res, `GET NetworkAttachmentDefinition ${namespace}/${name}`);
      return parse(res, `GET NetworkAttachmentDefinition ${namespace}/${name}`);
    },
    async patchPodStatus(namespace, name, mergePatch) {
      const path = `/api/v1/namespaces/${seg(namespace)}/pods/${seg(name)}/status`;
      const res = await request('PATCH', path, mergePatch, 'application/merge-patch+json');
      check(res, `PATCH pod ${namespace}/${name} status`);
      log().debug({ pod: `${namespace}/${name}` }, 'network-status written');
    },
  };
}
