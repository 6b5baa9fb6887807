// What a failed status PATCH or informer request means: retry, or stop because the pod is gone
// or recreated; the reason words /readyz and the metrics use; the backoff's bounds.
import { describe, expect, it } from 'vitest';
import { failureReason } from '../../src/daemon/informer.js';
import { KubeListError } from '../../src/daemon/kube-list.js';
import { Code } from '../../src/cni/errors.js';
import { KubeApiError } from '../../src/k8s/kube-api.js';
import { backoffDelay, judge } from '../../src/meta/status-write.js';

const answered = (status: number, msg = `answered ${status}`) => new KubeApiError(status >= 500 ? Code.TryAgainLater : Code.InvalidConfig, msg, status);

describe('judge', () => {
  it.each([
    [new KubeApiError(Code.TryAgainLater, 'Kubernetes API PATCH x: ECONNREFUSED; try again later', 0), 'retry', 'unreachable'],
    [new KubeApiError(Code.TryAgainLater, 'Kubernetes API PATCH x: no answer within 500 ms; try again later', 0), 'retry', 'timeout'],
    [answered(401), 'retry', '401'],
    [answered(403), 'retry', '403'],
    [answered(408), 'retry', '408'],
    [answered(429), 'retry', '429'],
    [answered(500), 'retry', '500'],
    [answered(503), 'retry', '503'],
    [answered(404), 'drop', 'pod_gone'],
    [answered(409, 'Precondition failed: UID in precondition: a, UID in object meta: b'), 'drop', 'pod_recreated'],
    [answered(422, 'metadata.uid: Invalid value: "a": field is immutable'), 'drop', 'pod_recreated'],
    [answered(409, 'conflict'), 'drop', 'rejected'],
    [answered(400), 'drop', 'rejected'],
    [new Error('not an API error'), 'retry', 'unreachable'],
  ])('%s -> %s %s', (err, outcome, reason) => {
    expect(judge(err)).toMatchObject({ outcome, reason });
  });
});

describe('failureReason', () => {
  it.each([
    [new KubeListError('LIST /api/v1/pods answered 401: Unauthorized', 401), '401 Unauthorized'],
    [Object.assign(new Error('Forbidden'), { statusCode: 403 }), '403 Forbidden'],
    [new KubeListError('LIST /api/v1/pods: ECONNREFUSED'), 'unreachable (ECONNREFUSED)'],
    [Object.assign(new Error('request to http://h/api/v1/pods?watch=true&timeoutSeconds=300 failed, reason: connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'unreachable (ECONNREFUSED)'],
    [new KubeListError('LIST /api/v1/pods: no answer within 60000 ms'), 'timeout'],
    [new Error('something else'), 'error'],
  ])('%s -> %s', (err, reason) => {
    expect(failureReason(err)).toBe(reason);
  });
});

describe('backoffDelay', () => {
  it('doubles from the initial step to the cap, each wait jittered to 50-100% of its step', () => {
    for (let i = 0; i < 200; i++) {
      for (const [failures, step] of [[1, 500], [2, 1000], [3, 2000], [7, 30_000], [60, 30_000]] as const) {
        const d = backoffDelay(failures, 500, 30_000);
        expect(d).toBeGreaterThanOrEqual(step / 2);
        expect(d).toBeLessThanOrEqual(step);
      }
    }
  });
});
