// Drives dist/braid the way a container runtime does: CNI_* env + config on stdin, and checks
// the protocol rule that stdout carries exactly one JSON document.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export const BRAID = join(import.meta.dirname, '../../dist/braid');

export function assertBuilt(): void {
  if (!existsSync(BRAID)) throw new Error(`${BRAID} is missing: run npm run build first`);
}

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  path?: string;
  config: unknown;
  env?: Record<string, string>;
}

export interface CniOutcome {
  status: number;
  json: any;
  stdout: string;
  stderr: string;
}

/** Async on purpose: a loopback API server in the same process must keep answering. */
export async function callBraid(call: CniCall, binary = BRAID): Promise<CniOutcome> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', CNI_COMMAND: call.command, CNI_PATH: call.path ?? '/usr/lib/cni' };
  if (call.containerId) env.CNI_CONTAINERID = call.containerId;
  if (call.netns) env.CNI_NETNS = call.netns;
  if (call.ifname ?? 'eth0') env.CNI_IFNAME = call.ifname ?? 'eth0';
  if (call.args) env.CNI_ARGS = call.args;
  Object.assign(env, call.env);
  const r = await run(binary, env, typeof call.config === 'string' ? call.config : JSON.stringify(call.config));
  const stdout = r.stdout;
  let json: any;
  try {
    json = stdout.trim() ? JSON.parse(stdout) : undefined;
  } catch {
    throw new Error(`braid ${call.command} printed something other than one JSON document on stdout:\n${stdout}\nstderr:\n${r.stderr}`);
  }
  // Exactly one document: a second value, a log line or a stack trace would fail JSON.parse above.
  expect(stdout.trim().split('\n').length).toBe(1);
  return { status: r.status, json, stdout, stderr: r.stderr };
}

function run(binary: string, env: Record<string, string>, input: string, args: string[] = []): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    // braid stops reading at its stdin cap and exits; the unread rest is not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

export const k8sArgs = (ns: string, name: string, uid?: string) =>
  `IgnoreUnknown=1;K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=x${uid ? `;K8S_POD_UID=${uid}` : ''}`;

/** An operator command of dist/braid (`braid gc ...`), async so an in-process API server keeps answering. */
export const braidCli = (args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> =>
  run(BRAID, { ...(process.env as Record<string, string>), ...env }, '', args);
