// Running `dist/braid install` as a DaemonSet or an operator would, and fingerprints of a
// directory so a test can say "nothing else changed".
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BRAID } from '../helpers/braid-runner.js';

export interface Outcome {
  status: number;
  stdout: string;
  stderr: string;
}

export function braidInstall(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Outcome>; stderr: () => string } {
  const child = spawn(BRAID, ['install', ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Outcome>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
  return { child, done, stderr: () => stderr };
}

export const runInstall = (args: string[], env: Record<string, string> = {}) => braidInstall(args, env).done;

export async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** path -> sha256:mode:mtime of every file under dir (relative paths). */
export function fingerprint(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) Object.assign(out, fingerprint(p, `${prefix}${name}/`));
    else out[`${prefix}${name}`] = `${createHash('sha256').update(readFileSync(p)).digest('hex')}:${(st.mode & 0o777).toString(8)}:${st.mtimeMs}`;
  }
  return out;
}

export const bridgeConflist = (name: string, cniVersion = '0.4.0', extra: Array<Record<string, unknown>> = []) =>
  JSON.stringify({
    cniVersion,
    name,
    plugins: [
      { type: 'bridge', bridge: 'cni0', isGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet: '198.18.230.0/24' }]] } },
      { type: 'portmap', capabilities: { portMappings: true, snat: false } },
      ...extra,
    ],
  });
