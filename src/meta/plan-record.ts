// braid's own record of a pod's plan, written before anything runs, so DEL can
// replay it in reverse with no API call even when the pod, a NAD or the API server is gone.
import { join } from 'node:path';
import { readFileSync, unlinkSync, readdirSync } from 'node:fs';
import { parseConfigBytes, type NetConfList } from '../cni/config.js';
import { CniError, Code } from '../cni/errors.js';
import { validateContainerId, validateInterfaceName } from '../cni/names.js';
import { ensurePrivateDir, removeStaleTemps, writeFileAtomic } from '../engine/atomic-file.js';
import { cannotExist, isCniArgsValue, isObjectValue, printableDepth } from '../engine/result-cache.js';
import type { CniArgs } from '../cni/cni-args.js';

export interface PlannedAttachment {
  network: string;
  ifname: string;
  config: string; // the exact list bytes sent to the delegates
  capabilityArgs: Record<string, unknown>;
  isCluster: boolean;
  wantsDefaultRoute?: boolean;
  defaultRouteGateways?: string[];
  /**
   * Whether its ADD succeeded: "planned" until its chain ran, "added" once it did, "failed" when
   * it did not. Absent in records older than the field: treated as "added" (strict DEL).
   */
  state?: AttachmentState;
}

export type AttachmentState = 'planned' | 'added' | 'failed';
const STATES: readonly unknown[] = ['planned', 'added', 'failed'];

/** No evidence that the attachment's ADD ever succeeded. */
export const neverAdded = (a: PlannedAttachment): boolean => a.state === 'planned' || a.state === 'failed';

export interface PlanRecord {
  kind: 'braidPlanV1';
  containerId: string;
  ifname: string;
  netns: string;
  cniArgs: CniArgs;
  pod?: { namespace: string; name: string; uid?: string };
  attachments: PlannedAttachment[];
  /** When the record was first written (ms since the epoch): sweeps judge a record's age by it. */
  createdAt?: number;
  /**
   * Set when DEL found the records lost and could not learn from the API what to tear down:
   * a later DEL, `braid gc` or the daemon's sweep finishes the job from the pod's network-status.
   */
  unfinished?: { reason: string; since: number };
}

/** The fields of a record that name the container, its netns and its pod. */
export function recordHead(
  env: { containerId: string; ifname: string; netns: string; args: CniArgs },
  pod: { namespace: string; name: string; uid?: string | undefined } | undefined,
): Pick<PlanRecord, 'kind' | 'containerId' | 'ifname' | 'netns' | 'cniArgs' | 'pod'> {
  return {
    kind: 'braidPlanV1',
    containerId: env.containerId,
    ifname: env.ifname,
    netns: env.netns,
    cniArgs: env.args,
    ...(pod ? { pod: { namespace: pod.namespace, name: pod.name, ...(pod.uid ? { uid: pod.uid } : {}) } } : {}),
  };
}

/** A recorded attachment's list, from the exact bytes ADD sent its delegates. */
export const plannedList = (a: PlannedAttachment): NetConfList => parseConfigBytes(a.config, `recorded config of ${a.network}`);

export function planPath(cniDir: string, containerId: string, ifname: string): string {
  validateContainerId(containerId);
  validateInterfaceName(ifname);
  return join(cniDir, 'plans', `${containerId}-${ifname}`);
}

export function writePlan(cniDir: string, rec: PlanRecord, opts: { durable?: boolean } = { durable: true }): void {
  const path = planPath(cniDir, rec.containerId, rec.ifname);
  try {
    ensurePrivateDir(cniDir);
    ensurePrivateDir(join(cniDir, 'plans'));
    writeFileAtomic(path, JSON.stringify(rec), { durable: opts.durable === true });
  } catch (e) {
    throw new CniError(Code.IOFailure, `failed to record the plan in ${path}: ${(e as Error).message}`);
  }
}

export type PlanRead = { state: 'missing' } | { state: 'ok'; plan: PlanRecord } | { state: 'corrupt'; reason: string };

export function readPlan(cniDir: string, containerId: string, ifname: string): PlanRead {
  let text: string;
  try {
    text = readFileSync(planPath(cniDir, containerId, ifname), 'utf8');
  } catch (e) {
    if (cannotExist(e)) return { state: 'missing' };
    return { state: 'corrupt', reason: (e as Error).message };
  }
  return decodePlan(text);
}

export function decodePlan(text: string): PlanRead {
  try {
    const p = JSON.parse(text) as PlanRecord;
    // Every field DEL and GC read, with its type (a wrong one is corrupt, not a crash later).
    const ok =
      p?.kind === 'braidPlanV1' &&
      typeof p.containerId === 'string' &&
      typeof p.ifname === 'string' &&
      typeof p.netns === 'string' &&
      isCniArgsValue(p.cniArgs) &&
      Array.isArray(p.attachments) &&
      p.attachments.every(
        (a) =>
          a &&
          typeof a.config === 'string' &&
          typeof a.ifname === 'string' &&
          typeof a.network === 'string' &&
          isObjectValue(a.capabilityArgs) &&
          (a.state === undefined || STATES.includes(a.state)),
      ) &&
      (p.createdAt === undefined || typeof p.createdAt === 'number') &&
      (p.unfinished === undefined || isObjectValue(p.unfinished)) &&
      printableDepth(text);
    return ok ? { state: 'ok', plan: p } : { state: 'corrupt', reason: 'not a braidPlanV1 record' };
  } catch (e) {
    return { state: 'corrupt', reason: (e as Error).message };
  }
}

export function removePlan(cniDir: string, containerId: string, ifname: string): void {
  const path = planPath(cniDir, containerId, ifname);
  try {
    unlinkSync(path);
  } catch (e) {
    if (!cannotExist(e)) throw new CniError(Code.IOFailure, `failed to remove plan: ${(e as Error).message}`);
  }
  removeStaleTemps(path);
}

export function listPlans(cniDir: string): Array<{ file: string; read: PlanRead }> {
  let names: string[];
  try {
    names = readdirSync(join(cniDir, 'plans'));
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .map((n) => {
      try {
        return { file: n, read: decodePlan(readFileSync(join(cniDir, 'plans', n), 'utf8')) };
      } catch (e) {
        return { file: n, read: { state: 'corrupt', reason: (e as Error).message } as PlanRead };
      }
    });
}
