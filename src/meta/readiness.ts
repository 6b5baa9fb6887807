// readinessindicatorfile (Multus): the cluster network is up when this file exists.
import { existsSync } from 'node:fs';
import { CniError, Code } from '../cni/errors.js';

export const READINESS_WAIT_MS = 10_000;

export async function waitForReadiness(file: string | undefined, waitMs = READINESS_WAIT_MS): Promise<void> {
  if (!file) return;
  const deadline = Date.now() + waitMs;
  while (!existsSync(file)) {
    if (Date.now() >= deadline) {
      throw new CniError(Code.TryAgainLater, `cluster network not ready: readiness indicator file ${file} does not exist`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function isReady(file: string | undefined): boolean {
  return !file || existsSync(file);
}
