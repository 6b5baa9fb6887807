// The demo's Kubernetes: the loopback test API server (test/k8s-api, bundled next to braid as
// dist/fake-apiserver.cjs) in a process of its own, so braid talks to it over HTTP as to a real one.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

export interface DemoPodObject {
  metadata: { name: string; namespace: string; uid?: string; annotations?: Record<string, string> };
  [k: string]: unknown;
}

export interface FakeApi {
  url: string;
  kubeconfig: string;
  getPod(namespace: string, name: string): Promise<DemoPodObject>;
  stop(): Promise<void>;
}

export async function startFakeApi(script: string, statePath: string, kubeconfig: string): Promise<FakeApi> {
  const token = randomBytes(16).toString('hex');
  // Its own process group: a Ctrl-C meant for the demo must not take the API away from the cleanup DELs.
  const child = spawn(process.execPath, [script, '--port', '0', '--token', token, '--state', statePath, '--kubeconfig', kubeconfig], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the test API server did not start within 10 s: ${stderr.trim()}`)), 10_000);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        reject(new Error(`the test API server printed ${JSON.stringify(line)} instead of {"url":...}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the test API server exited (${code}): ${stderr.trim()}`));
    });
  });
  return {
    url,
    kubeconfig,
    async getPod(namespace, name) {
      const res = await fetch(`${url}/__fake/pods/${namespace}/${name}`);
      if (!res.ok) throw new Error(`pod ${namespace}/${name}: HTTP ${res.status}`);
      return (await res.json()) as DemoPodObject;
    },
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
