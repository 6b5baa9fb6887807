// Where braid's API requests go and how they authenticate, re-read whenever a file they came
// from changes: a projected ServiceAccount token rotates (hourly), `braid install --watch`
// rewrites braid's kubeconfig with the new one, certificates get renewed. A long-running daemon
// picks each change up on its next request, without a restart; a change that does not load is
// reported at error level and the previous credentials stay in use.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { CniError, Code } from '../cni/errors.js';
import { log } from '../log.js';
import { readKubeconfig } from './kubeconfig.js';

export type AuthOptions = RequestOptions & { headers: Record<string, string> };

export interface ApiAccess {
  server: URL;
  /** Puts the TLS options and the Authorization header on a request. */
  apply(opts: AuthOptions): Promise<void>;
}

export interface Credentials {
  /** "kubeconfig /path" or "service account /dir", for messages. */
  readonly origin: string;
  current(): Promise<ApiAccess>;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The ServiceAccount directory in-cluster credentials come from (BRAID_SA_DIR overrides it, as for braid install). */
export const serviceAccountDir = (env: NodeJS.ProcessEnv = process.env): string => env.BRAID_SA_DIR || SERVICE_ACCOUNT_DIR;

/** https://host:port, IPv6 literals bracketed (KUBERNETES_SERVICE_HOST is a bare address). */
export function serverUrl(host: string, port: string | undefined): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `https://${h}:${port || '443'}`;
}

interface Loaded {
  access: ApiAccess;
  files: string[];
}

/**
 * Plain http:// would carry the token in clear text: refused unless the kubeconfig says
 * insecure-skip-tls-verify, as client-node (and so the daemon's informers) requires too.
 */
function refusePlainHttp(server: URL, insecure: boolean, origin: string): void {
  if (server.protocol === 'https:' || (server.protocol === 'http:' && insecure)) return;
  if (server.protocol !== 'http:') throw new CniError(Code.InvalidConfig, `${origin}: server ${server.href} is not an http(s) URL`);
  throw new CniError(
    Code.InvalidConfig,
    `${origin}: server ${server.href} is plain HTTP, which would send braid's credentials unencrypted; use the API server's https:// address, or set insecure-skip-tls-verify: true on the cluster to allow plain HTTP`,
  );
}

function leanAccess(e: { server: URL; ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined; insecure: boolean; token?: string | undefined }): ApiAccess {
  return {
    server: e.server,
    apply: async (opts) => {
      if (e.ca) opts.ca = e.ca;
      if (e.cert) opts.cert = e.cert;
      if (e.key) opts.key = e.key;
      if (e.insecure) opts.rejectUnauthorized = false;
      if (e.token) opts.headers.Authorization = `Bearer ${e.token}`;
    },
  };
}

async function loadKubeconfig(path: string): Promise<Loaded> {
  const origin = `kubeconfig ${path}`;
  const lean = await readKubeconfig(path);
  if (lean) {
    refusePlainHttp(lean.server, lean.insecure, origin);
    return { access: leanAccess(lean), files: [path, ...lean.files] };
  }
  // Exec plugins, auth-providers and the like: client-node's KubeConfig.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (e) {
    throw new CniError(Code.InvalidConfig, `failed to load ${origin}: ${(e as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new CniError(Code.InvalidConfig, `${origin} has no current cluster server`);
  const server = new URL(cluster.server);
  refusePlainHttp(server, cluster.skipTLSVerify, origin);
  return { access: { server, apply: (opts) => kc.applyToHTTPSOptions(opts as never) }, files: [path] };
}

async function loadServiceAccount(dir: string, env: NodeJS.ProcessEnv): Promise<Loaded> {
  const origin = `service account ${dir}`;
  const token = join(dir, 'token');
  const ca = join(dir, 'ca.crt');
  try {
    const server = new URL(serverUrl(env.KUBERNETES_SERVICE_HOST ?? '', env.KUBERNETES_SERVICE_PORT));
    return { access: leanAccess({ server, ca: readFileSync(ca), insecure: false, token: readFileSync(token, 'utf8').trim() }), files: [token, ca] };
  } catch (e) {
    throw new CniError(Code.InvalidConfig, `${origin}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** stat() identity of each file: a projected volume swaps its ..data symlink, which changes it. */
function signature(files: string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

class LiveCredentials implements Credentials {
  private last: (Loaded & { sig: string }) | undefined;
  private rejectedSig: string | undefined;
  private loading: Promise<ApiAccess> | undefined;

  constructor(
    readonly origin: string,
    private readonly load: () => Promise<Loaded>,
  ) {}

  current(): Promise<ApiAccess> {
    if (this.last && signature(this.last.files) === this.last.sig) return Promise.resolve(this.last.access);
    return (this.loading ??= this.reload().finally(() => (this.loading = undefined)));
  }

  private async reload(): Promise<ApiAccess> {
    const previous = this.last;
    // The signature before reading: a change during the read shows up on the next request.
    const sigBefore = previous ? signature(previous.files) : undefined;
    try {
      const loaded = await this.load();
      this.last = { ...loaded, sig: signature(loaded.files) };
      this.rejectedSig = undefined;
      if (previous) log().info({ credentials: this.origin }, 'API credentials changed on disk: using the new ones');
      return loaded.access;
    } catch (e) {
      if (!previous) throw e;
      if (this.rejectedSig !== sigBefore) {
        this.rejectedSig = sigBefore;
        log().error({ credentials: this.origin, err: (e as Error).message }, 'API credentials changed on disk but do not load; still using the previous ones');
      }
      return previous.access;
    }
  }
}

export const kubeconfigCredentials = (path: string): Credentials => new LiveCredentials(`kubeconfig ${path}`, () => loadKubeconfig(path));

/**
 * In-cluster credentials as client-go's InClusterConfig reads them, when braid runs in a pod
 * with no kubeconfig: KUBERNETES_SERVICE_HOST/PORT and the projected token and CA.
 * undefined outside a pod.
 */
export function inClusterCredentials(env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const dir = serviceAccountDir(env);
  if (!env.KUBERNETES_SERVICE_HOST) return undefined;
  try {
    statSync(join(dir, 'token'));
  } catch {
    return undefined;
  }
  return new LiveCredentials(`service account ${dir}`, () => loadServiceAccount(dir, env));
}

/** The kubeconfig when one is set, else in-cluster credentials in a pod, else none (no API). */
export const resolveCredentials = (kubeconfig: string | undefined, env: NodeJS.ProcessEnv = process.env): Credentials | undefined =>
  kubeconfig ? kubeconfigCredentials(kubeconfig) : inClusterCredentials(env);
