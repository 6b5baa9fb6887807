// The one-shot API client against a loopback server of the test's own: keep-alive connections
// are reused within a call, and a kept-alive connection the server drops as it is reused is
// retried once on a fresh one instead of failing the pod with code 11.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { kubeApiFromKubeconfig } from '../../src/k8s/kube-api.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function serve(handler: (socket: Socket, nth: number) => boolean): Promise<{ kubeconfig: string; connections: () => number }> {
  let connections = 0;
  let requests = 0;
  const server: Server = createServer((req, res) => {
    if (!handler(req.socket, requests++)) return;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ metadata: { name: 'p', namespace: 'ns', annotations: {} } }));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'braid-kapi-'));
  const kubeconfig = join(dir, 'kubeconfig.json');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // Plain HTTP is refused without this flag (it would carry the token in clear text).
      clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { kubeconfig, connections: () => connections };
}

it('requests of one call share a kept-alive connection', async () => {
  const s = await serve(() => true);
  const api = await kubeApiFromKubeconfig(s.kubeconfig, 2000);
  await api.getPod('ns', 'p');
  await api.getPod('ns', 'p');
  await api.getNad('ns', 'n');
  expect(s.connections()).toBe(1);
});

it('a reused connection the server drops is retried once on a new one', async () => {
  // The second request arrives on the kept-alive socket; the server drops it unanswered.
  const s = await serve((socket, nth) => {
    if (nth !== 1) return true;
    socket.destroy();
    return false;
  });
  const api = await kubeApiFromKubeconfig(s.kubeconfig, 2000);
  await api.getPod('ns', 'p');
  await expect(api.getPod('ns', 'p')).resolves.toMatchObject({ metadata: { name: 'p' } });
  expect(s.connections()).toBe(2);
});

it('a fresh connection that fails is not retried: code 11 at once', async () => {
  const s = await serve((socket) => {
    socket.destroy();
    return false;
  });
  const api = await kubeApiFromKubeconfig(s.kubeconfig, 2000);
  await expect(api.getPod('ns', 'p')).rejects.toMatchObject({ code: 11 });
  expect(s.connections()).toBe(1);
});
