// Tiny synchronous shell helpers for kernel-state assertions in tests.
import { execFileSync, spawnSync } from 'node:child_process';

export function sh(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
  const r = spawnSync(cmd, args, { input: opts.input, encoding: 'utf8' });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  }
  return r.stdout ?? '';
}

export const ipJson = <T = any>(args: string[]): T => JSON.parse(execFileSync('ip', ['-j', ...args], { encoding: 'utf8' }) || '[]');
