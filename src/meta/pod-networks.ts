// Which networks a pod wants: its annotations from the runtime (CRI-O's
// io.kubernetes.cri.pod-annotations capability, no API call) or from one pod GET.
import { CniError, Code } from '../cni/errors.js';
import type { KubeObject } from '../k8s/kube-api.js';
import type { MetaContext } from './context.js';
import {
  DEFAULT_NETWORK_ANNOTATION,
  GENIE_ANNOTATION,
  NETWORKS_ANNOTATION,
  parseDefaultNetworkAnnotation,
  parseGenieAnnotation,
  parseNetworksAnnotation,
  MAX_ATTACHMENTS,
  type NetworkSelection,
} from './network-selection.js';

export const POD_ANNOTATIONS_CAPABILITY = 'io.kubernetes.cri.pod-annotations';

export interface PodNetworks {
  annotations: Record<string, string> | undefined;
  selections: NetworkSelection[];
  defaultNetwork: NetworkSelection | undefined;
  isSystemPod: boolean;
}

const annotationsFromRuntime = (ctx: MetaContext) => {
  const fromRuntime = ctx.config.runtimeConfig?.[POD_ANNOTATIONS_CAPABILITY];
  return fromRuntime && typeof fromRuntime === 'object' ? (fromRuntime as Record<string, string>) : undefined;
};
export const isSystemNamespace = (ctx: MetaContext, ns: string | undefined) => ns !== undefined && ctx.config.systemNamespaces.includes(ns);

const podFetches = new WeakMap<MetaContext, Promise<KubeObject | undefined>>();
/** The pod GET, made at most once per call (undefined without a kubeconfig or pod name). */
function fetchPod(ctx: MetaContext): Promise<KubeObject | undefined> {
  let p = podFetches.get(ctx);
  if (!p) {
    p = ctx.api().then((api) => (api && ctx.pod ? api.getPod(ctx.pod.namespace, ctx.pod.name) : undefined));
    podFetches.set(ctx, p);
  }
  return p;
}

/** The pod's UID: the runtime's K8S_POD_UID, else what the pod GET of this call returned. */
export async function podUid(ctx: MetaContext): Promise<string | undefined> {
  if (ctx.pod?.uid) return ctx.pod.uid;
  const fetched = await podFetches.get(ctx)?.catch(() => undefined);
  return fetched?.metadata.uid;
}

/**
 * Starts the pod GET an ADD will make, so the request is in flight while braid takes the lock
 * and loads the ADD code; a failure surfaces where podNetworks awaits it, not here.
 */
export function prefetchPod(ctx: MetaContext): void {
  if (!ctx.pod || isSystemNamespace(ctx, ctx.pod.namespace) || annotationsFromRuntime(ctx)) return;
  fetchPod(ctx).catch(() => undefined);
}

async function podAnnotations(ctx: MetaContext): Promise<Record<string, string> | undefined> {
  const fromRuntime = annotationsFromRuntime(ctx);
  if (fromRuntime) return fromRuntime;
  const pod = await fetchPod(ctx);
  if (!pod || !ctx.pod) return undefined;
  if (ctx.pod.uid && pod.metadata.uid && pod.metadata.uid !== ctx.pod.uid) {
    throw new CniError(
      Code.UnknownContainer,
      `pod ${ctx.pod.namespace}/${ctx.pod.name} has uid ${pod.metadata.uid} in the API but the runtime asked for uid ${ctx.pod.uid} (the pod was recreated)`,
    );
  }
  return pod.metadata.annotations ?? {};
}

// The runtime capability is plain JSON from stdin: a non-string value is a config error, not a crash.
function annotation(annotations: Record<string, unknown>, key: string): string | undefined {
  const v = annotations[key];
  if (v === undefined || typeof v === 'string') return v;
  throw new CniError(Code.InvalidConfig, `pod annotation ${key} must be a string, got ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`);
}

export async function podNetworks(ctx: MetaContext): Promise<PodNetworks> {
  const ns = ctx.pod?.namespace;
  const isSystemPod = isSystemNamespace(ctx, ns);
  // System pods get the cluster network only: no annotations to read, so no API call.
  if (isSystemPod || ns === undefined) return { annotations: undefined, selections: [], defaultNetwork: undefined, isSystemPod };
  const annotations = await podAnnotations(ctx);
  if (!annotations) return { annotations, selections: [], defaultNetwork: undefined, isSystemPod };
  const selections: NetworkSelection[] = [];
  const networks = annotation(annotations, NETWORKS_ANNOTATION);
  if (networks !== undefined && networks.trim() !== '') selections.push(...parseNetworksAnnotation(networks, ns));
  const genie = annotation(annotations, GENIE_ANNOTATION);
  if (genie !== undefined && genie.trim() !== '') selections.push(...parseGenieAnnotation(genie, ns));
  if (selections.length > MAX_ATTACHMENTS) {
    throw new CniError(Code.InvalidConfig, `pod selects ${selections.length} networks; at most ${MAX_ATTACHMENTS} are allowed`);
  }
  const dn = annotation(annotations, DEFAULT_NETWORK_ANNOTATION);
  // Multus resolves the default network in multusNamespace unless the annotation names one.
  const defaultNetwork = dn !== undefined && dn.trim() !== '' ? parseDefaultNetworkAnnotation(dn, ctx.config.multusNamespace) : undefined;
  return { annotations, selections, defaultNetwork, isSystemPod };
}
