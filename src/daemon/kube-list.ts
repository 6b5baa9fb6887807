// The informers' LIST: plain HTTP GETs with the current credentials, in pages of PAGE_SIZE,
// each page parsed and slimmed at once, so a 1,000-pod list never sits in memory at full size.
import type { ApiRequester } from '../k8s/api-request.js';

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

async function getPage(requester: ApiRequester, path: string, query: Record<string, string>, accept: string, timeoutMs: number): Promise<Page> {
  const res = await requester.send('GET', `${path}?${new URLSearchParams(query).toString()}`, {
    accept,
    timeoutMs,
    unreachable: (why) => new KubeListError(`LIST ${path}: ${why}`),
  });
  if (res.status !== 200) throw new KubeListError(`LIST ${path} answered ${res.status}: ${res.body.slice(0, 200)}`, res.status);
  const body = res.body;
  try {
    return JSON.parse(body) as Page;
  } catch {
    throw new KubeListError(`LIST ${path} returned invalid JSON`);
  }
}

export async function kubeList<T>(
  requester: ApiRequester,
  path: string,
  query: Record<string, string>,
  opts: { timeoutMs: number; accept?: string | undefined; slim: (o: unknown) => T },
): Promise<KubeList<T>> {
  const items: T[] = [];
  let cont: string | undefined;
  let resourceVersion = '';
  do {
    const page = await getPage(requester, path, { ...query, limit: String(PAGE_SIZE), ...(cont ? { continue: cont } : {}) }, opts.accept ?? 'application/json', opts.timeoutMs);
    for (const o of page.items ?? []) items.push(opts.slim(o));
    resourceVersion = page.metadata?.resourceVersion ?? '';
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return { metadata: { resourceVersion }, items };
}
