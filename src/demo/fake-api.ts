// The demo's Kubernetes: the loopback test API server (test/k8s-api, bundled next to braid as
// dist/fake-apiserver.cjs) in a process of its own, so braid talks to it as to a real one: over
// HTTPS, verified with the server's CA, with a bearer token.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { get } from 'node:https';
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
  const { url, ca } = await new Promise<{ url: string; ca: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the test API server did not start within 10 s: ${stderr.trim()}`)), 10_000);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as { url: string; ca: string });
      } catch {
        reject(new Error(`the test API server printed ${JSON.stringify(line)} instead of {"url":...,"ca":...}`));
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
    getPod: (namespace, name) =>
      new Promise<DemoPodObject>((resolve, reject) => {
        get(`${url}/__fake/pods/${namespace}/${name}`, { ca }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as DemoPodObject) : reject(new Error(`pod ${namespace}/${name}: HTTP ${res.statusCode}`))));
        }).on('error', reject);
      }),
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
