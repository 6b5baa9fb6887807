// Writing the network-status annotation so that a failure is never silently forgotten: what one
// PATCH attempt's outcome means (written, worth retrying, or pointless because the pod is gone),
// and one-shot mode's short bounded retry. The daemon retries for as long as the pod exists
// (src/daemon/status-queue.ts).
import { KubeApiError, type KubeApi } from '../k8s/kube-api.js';
import { log } from '../log.js';

/** One pod's network-status, as an ADD produced it. */
export interface StatusWrite {
  namespace: string;
  name: string;
  /** The pod's UID, sent as a precondition so a recreated pod never gets an old status. */
  uid: string | undefined;
  /** The container and interface whose ADD produced it (their DEL cancels a pending write). */
  containerId: string;
  ifname: string;
  patch: unknown;
}

/** Where the daemon hands a status write; one-shot mode writes it itself (writeStatusOneShot). */
export interface StatusWriter {
  submit(write: StatusWrite): Promise<void>;
}

export type DropReason = 'pod_gone' | 'pod_recreated' | 'rejected';

export type Attempt =
  | { outcome: 'written' }
  | { outcome: 'retry'; reason: string; error: string }
  | { outcome: 'drop'; reason: DropReason; error: string };

export const podKey = (w: { namespace: string; name: string }) => `${w.namespace}/${w.name}`;

/**
 * What a failed PATCH means. No answer, 5xx, 429, 408, and 401/403 (credentials rotate, RBAC
 * gets fixed) are worth retrying; 404 means the pod is gone; a UID mismatch (409 from the
 * precondition, or 422 for the immutable field) means it was recreated; any other 4xx would
 * fail the same way again.
 */
export function judge(e: unknown): Attempt {
  const error = (e as Error)?.message ?? String(e);
  const status = e instanceof KubeApiError ? e.httpStatus : 0;
  if (status === 0) return { outcome: 'retry', reason: /no answer within/.test(error) ? 'timeout' : 'unreachable', error };
  if (status === 404) return { outcome: 'drop', reason: 'pod_gone', error };
  if ((status === 409 || status === 422) && /uid/i.test(error)) return { outcome: 'drop', reason: 'pod_recreated', error };
  if (status >= 500 || [401, 403, 408, 429].includes(status)) return { outcome: 'retry', reason: String(status), error };
  return { outcome: 'drop', reason: 'rejected', error };
}

export async function attemptStatusWrite(api: KubeApi, w: StatusWrite): Promise<Attempt> {
  try {
    await api.patchPodStatus(w.namespace, w.name, w.patch);
    return { outcome: 'written' };
  } catch (e) {
    return judge(e);
  }
}

/** Exponential backoff, capped, with jitter (half to all of the step) so pods spread out. */
export function backoffDelay(failures: number, initialMs: number, maxMs: number): number {
  const step = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.round(step * (0.5 + Math.random() / 2));
}

/**
 * One-shot mode has no process that outlives the ADD: up to ONE_SHOT_TRIES tries, the retries
 * only within ONE_SHOT_RETRY_WINDOW_MS of the first, so a pod's start is held up by seconds at
 * most (each try is also bounded by apiTimeout).
 */
export const ONE_SHOT_TRIES = 3;
export const ONE_SHOT_RETRY_WINDOW_MS = 2000;
const ONE_SHOT_PAUSE_MS = 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes the status or logs at error level why not; never throws (the pod's networks work). */
export async function writeStatusOneShot(api: KubeApi, w: StatusWrite): Promise<void> {
  const started = Date.now();
  const pod = podKey(w);
  for (let tries = 1; ; tries++) {
    const a = await attemptStatusWrite(api, w);
    if (a.outcome === 'written') {
      if (tries > 1) log().info({ pod, tries }, 'network-status written after a retry');
      return;
    }
    if (a.outcome === 'drop') {
      const level = a.reason === 'rejected' ? 'error' : 'warn';
      log()[level]({ pod, reason: a.reason, err: a.error }, 'network-status not written: the API server refused it for good');
      return;
    }
    const pause = backoffDelay(tries, ONE_SHOT_PAUSE_MS, ONE_SHOT_RETRY_WINDOW_MS);
    if (tries >= ONE_SHOT_TRIES || Date.now() - started + pause > ONE_SHOT_RETRY_WINDOW_MS) {
      log().error(
        { pod, tries, reason: a.reason, err: a.error },
        'network-status NOT written: the Kubernetes API failed every try; the pod has its networks but no network-status annotation (the daemon mode retries until it lands)',
      );
      return;
    }
    await sleep(pause);
  }
}
