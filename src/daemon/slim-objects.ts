// What the daemon keeps of a pod or a NAD: only what braid reads (pod-networks.ts,
// resolve-networks.ts). At 1,000 pods the full objects (managedFields, spec, status, kubectl's
// last-applied copy) would cost about ten times the memory.
import type { KubernetesObject } from '@kubernetes/client-node';
import { GENIE_ANNOTATION } from '../meta/network-selection.js';

export interface Slim extends KubernetesObject {
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { config?: string };
}

// network-status is braid's own output, rewritten on every ADD: never read back.
const STATUS_KEYS = new Set(['k8s.v1.cni.cncf.io/network-status', 'k8s.v1.cni.cncf.io/networks-status']);
const keptAnnotation = (k: string) =>
  (k.startsWith('k8s.v1.cni.cncf.io/') && !STATUS_KEYS.has(k)) || k.startsWith('v1.multus-cni.io/') || k === GENIE_ANNOTATION;

function slimMeta(o: unknown, keep: (k: string) => boolean): Slim['metadata'] {
  const m = ((o as { metadata?: Record<string, unknown> } | undefined)?.metadata ?? {}) as Record<string, unknown>;
  const out: Slim['metadata'] = { name: String(m.name ?? ''), namespace: String(m.namespace ?? '') };
  if (typeof m.uid === 'string') out.uid = m.uid;
  if (typeof m.resourceVersion === 'string') out.resourceVersion = m.resourceVersion;
  const ann = m.annotations as Record<string, string> | undefined;
  if (ann && typeof ann === 'object') {
    const kept = Object.entries(ann).filter(([k]) => keep(k));
    if (kept.length) out.annotations = Object.fromEntries(kept);
  }
  return out;
}

export const slimPod = (o: unknown): Slim => ({ metadata: slimMeta(o, keptAnnotation) });

export function slimNad(o: unknown): Slim {
  const config = (o as { spec?: { config?: unknown } } | undefined)?.spec?.config;
  return { metadata: slimMeta(o, (k) => k.startsWith('k8s.v1.cni.cncf.io/')), spec: typeof config === 'string' ? { config } : {} };
}
