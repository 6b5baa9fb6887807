// Which networks a pod wants (issue 3 §2): its annotations from the runtime (CRI-O's
// io.kubernetes.cri.pod-annotations capability, no API call) or from one pod GET.
import { CniError, Code } from '../cni/errors.js';
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

async function podAnnotations(ctx: MetaContext): Promise<Record<string, string> | undefined> {
  const fromRuntime = ctx.config.runtimeConfig?.[POD_ANNOTATIONS_CAPABILITY];
  if (fromRuntime && typeof fromRuntime === 'object') return fromRuntime as Record<string, string>;
  const api = await ctx.api();
  if (!api || !ctx.pod) return undefined;
  const pod = await api.getPod(ctx.pod.namespace, ctx.pod.name);
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
  const isSystemPod = ns !== undefined && ctx.config.systemNamespaces.includes(ns);
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
