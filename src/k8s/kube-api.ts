// The three API calls braid makes (get pod, get NAD, merge-patch pod status), each one plain
// HTTP call with a hard timeout. Credentials come from the lean kubeconfig reader, or from
// @kubernetes/client-node's KubeConfig for what it doesn't cover (exec plugins, auth-providers).
import http, { type IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import { CniError, Code } from '../cni/errors.js';
import { log } from '../log.js';
import { readKubeconfig } from './kubeconfig.js';
import { USER_AGENT } from './user-agent.js';

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

interface RawResponse {
  status: number;
  body: string;
}

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

type ApplyAuth = (opts: RequestOptions & { headers: Record<string, string> }) => Promise<void>;

/** Where to connect and how to authenticate: the lean reader, else client-node's KubeConfig. */
async function endpoint(kubeconfigPath: string): Promise<{ base: URL; applyAuth: ApplyAuth }> {
  const lean = await readKubeconfig(kubeconfigPath);
  if (lean) {
    return {
      base: lean.server,
      applyAuth: async (opts) => {
        if (lean.ca) opts.ca = lean.ca;
        if (lean.cert) opts.cert = lean.cert;
        if (lean.key) opts.key = lean.key;
        if (lean.insecure) opts.rejectUnauthorized = false;
        if (lean.token) opts.headers.Authorization = `Bearer ${lean.token}`;
      },
    };
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfigPath);
  } catch (e) {
    throw new CniError(Code.InvalidConfig, `failed to load kubeconfig ${kubeconfigPath}: ${(e as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new CniError(Code.InvalidConfig, `kubeconfig ${kubeconfigPath} has no current cluster server`);
  return { base: new URL(cluster.server), applyAuth: (opts) => kc.applyToHTTPSOptions(opts as never) };
}

export async function kubeApiFromKubeconfig(kubeconfigPath: string, timeoutMs = DEFAULT_API_TIMEOUT_MS): Promise<KubeApi> {
  const { base, applyAuth } = await endpoint(kubeconfigPath);
  // node:https (TLS) loads only for an https server; one keep-alive agent per API object, so an
  // ADD's pod GET, NAD GETs and PATCH share connections (and TLS handshakes) where they can.
  const transport = base.protocol === 'http:' ? http : await import('node:https');
  const agent = new transport.Agent({ keepAlive: true, maxSockets: 16 });

  async function request(method: string, path: string, body?: unknown, contentType?: string): Promise<RawResponse> {
    const opts: RequestOptions & { headers: Record<string, string> } = {
      method,
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || (base.protocol === 'http:' ? 80 : 443),
      path: `${base.pathname.replace(/\/$/, '')}${path}`,
      headers: { Accept: 'application/json', 'User-Agent': USER_AGENT },
      agent,
    };
    await applyAuth(opts);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      opts.headers['Content-Type'] = contentType ?? 'application/json';
      opts.headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const what = `${method} ${path}`;
    const send = (retried: boolean): Promise<RawResponse> => new Promise<RawResponse>((resolve, reject) => {
      const req = transport.request(opts, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(unreachable(what, e.message)));
      });
      // One deadline for the whole exchange, not per socket event.
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
        reject(unreachable(what, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed as we reused it: Node's advice is one retry
        // (both requests braid makes, GET and a status merge-patch, are idempotent). Not when
        // braid itself cut it at the deadline: that request has failed, not the connection.
        if (!retried && !timedOut && req.reusedSocket && e.code === 'ECONNRESET') {
          clearTimeout(timer);
          send(true).then(resolve, reject);
          return;
        }
        reject(unreachable(what, e.code ?? e.message));
      });
      req.end(payload);
    });
    return send(false);
  }

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
