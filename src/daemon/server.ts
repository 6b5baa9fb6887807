// The daemon's HTTP surface. On the unix socket: POST /cni (the shim's protocol: the body is
// {env, stdin}; the answer is 200 with exactly what to print and X-CNI-Exit: the exit code),
// and GET /healthz, /readyz, /metrics. The optional TCP listener serves only the GET routes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CniResponse } from '../cli/cni-edge.js';
import { log } from '../log.js';

export interface Probe {
  ok: boolean;
  detail: string;
}

export interface DaemonRoutes {
  cni(body: Buffer): Promise<CniResponse>;
  healthz(): Probe;
  readyz(): Probe;
  metrics(): Promise<{ contentType: string; body: string }>;
}

/** A 4 MiB config JSON-escaped by the shim may grow up to 6x (\u00XX); env adds a little. */
export const MAX_REQUEST_BYTES = 6 * 4 * 1024 * 1024 + 64 * 1024;

class TooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new TooLarge());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const buf = Buffer.from(body, 'utf8');
  // Content-Length always: the C shim reads a plain body, never chunked encoding.
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(buf.length), ...headers });
  res.end(buf);
}

const probe = (res: ServerResponse, p: Probe, head: boolean) =>
  send(res, p.ok ? 200 : 503, 'text/plain; charset=utf-8', head ? '' : `${p.detail}\n`);

async function route(routes: DaemonRoutes, withCni: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (withCni && path === '/cni') {
    if (req.method !== 'POST') return send(res, 405, 'text/plain', 'use POST\n', { Allow: 'POST' });
    let body: Buffer;
    try {
      body = await readBody(req, MAX_REQUEST_BYTES);
    } catch (e) {
      if (e instanceof TooLarge) return send(res, 413, 'text/plain', `request exceeds ${MAX_REQUEST_BYTES} bytes\n`, { Connection: 'close' });
      return; // the shim went away mid-request
    }
    const r = await routes.cni(body);
    return send(res, 200, 'application/json', r.stdout, { 'X-CNI-Exit': String(r.exitCode), Connection: 'close' });
  }
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) return send(res, 405, 'text/plain', 'use GET\n', { Allow: 'GET, HEAD' });
  switch (path) {
    case '/healthz':
      return probe(res, routes.healthz(), head);
    case '/readyz':
      return probe(res, routes.readyz(), head);
    case '/metrics': {
      const m = await routes.metrics();
      return send(res, 200, m.contentType, head ? '' : m.body);
    }
    default:
      return send(res, 404, 'text/plain', `no route ${path}\n`);
  }
}

export function createDaemonServer(routes: DaemonRoutes, opts: { cni: boolean }): Server {
  const server = createServer((req, res) => {
    route(routes, opts.cni, req, res).catch((e: unknown) => {
      log().error({ err: (e as Error)?.stack ?? String(e), url: req.url }, 'daemon request failed');
      send(res, 500, 'text/plain', 'internal error\n');
    });
  });
  // An ADD can legitimately take minutes: no request deadline (the socket is 0600, root only).
  server.requestTimeout = 0;
  return server;
}
