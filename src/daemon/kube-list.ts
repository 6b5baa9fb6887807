// The informers' LIST: plain HTTP GETs with the kubeconfig's auth, in pages of PAGE_SIZE, each
// page parsed and slimmed at once, so a 1,000-pod list never sits in memory at full size.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { USER_AGENT } from '../k8s/user-agent.js';

export const PAGE_SIZE = 250;
/** Pods: braid needs metadata only; the server may send just that (falls back to full objects). */
export const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1, application/json';

export class KubeListError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

export interface KubeList<T> {
  metadata: { resourceVersion: string };
  items: T[];
}

interface Page {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[];
}

async function getPage(kc: KubeConfig, path: string, query: Record<string, string>, accept: string, timeoutMs: number): Promise<Page> {
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new KubeListError('kubeconfig has no current cluster server');
  const base = new URL(cluster.server);
  const opts: https.RequestOptions & { headers: Record<string, string> } = {
    method: 'GET',
    protocol: base.protocol,
    hostname: base.hostname.replace(/^\[|\]$/g, ''),
    port: base.port || (base.protocol === 'http:' ? 80 : 443),
    path: `${base.pathname.replace(/\/$/, '')}${path}?${new URLSearchParams(query).toString()}`,
    headers: { Accept: accept, 'User-Agent': USER_AGENT },
  };
  await kc.applyToHTTPSOptions(opts as never);
  const transport = base.protocol === 'http:' ? http : https;
  const body = await new Promise<string>((resolve, reject) => {
    const req = transport.request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => reject(new KubeListError(`LIST ${path}: ${e.message}`)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(text);
        else reject(new KubeListError(`LIST ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`, res.statusCode));
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new KubeListError(`LIST ${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new KubeListError(`LIST ${path}: ${e.code ?? e.message}`)));
    req.end();
  });
  try {
    return JSON.parse(body) as Page;
  } catch {
    throw new KubeListError(`LIST ${path} returned invalid JSON`);
  }
}

export async function kubeList<T>(
  kc: KubeConfig,
  path: string,
  query: Record<string, string>,
  opts: { timeoutMs: number; accept?: string | undefined; slim: (o: unknown) => T },
): Promise<KubeList<T>> {
  const items: T[] = [];
  let cont: string | undefined;
  let resourceVersion = '';
  do {
    const page = await getPage(kc, path, { ...query, limit: String(PAGE_SIZE), ...(cont ? { continue: cont } : {}) }, opts.accept ?? 'application/json', opts.timeoutMs);
    for (const o of page.items ?? []) items.push(opts.slim(o));
    resourceVersion = page.metadata?.resourceVersion ?? '';
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return { metadata: { resourceVersion }, items };
}
