// One HTTP(S) exchange with the API server, with the current credentials: the one-shot calls,
// the daemon's direct calls, its list pages and its watches all go through here. One keep-alive
// agent per protocol; TLS options travel with each request, so new certificates get new
// connections while unchanged ones reuse theirs.
import http, { type IncomingMessage } from 'node:http';
import type { Agent } from 'node:https';
import type { AuthOptions, Credentials } from './credentials.js';
import { USER_AGENT } from './user-agent.js';

export interface RawResponse {
  status: number;
  body: string;
}

export interface SendOptions {
  body?: unknown;
  contentType?: string | undefined;
  accept?: string | undefined;
  timeoutMs: number;
  /** The error to reject with when there is no answer (`why`: an errno code or "no answer within N ms"). */
  unreachable: (why: string) => Error;
}

export interface ApiRequester {
  send(method: string, path: string, o: SendOptions): Promise<RawResponse>;
  /** A GET whose body is streamed (a watch): resolves once the response head arrived. */
  open(path: string, o: { accept?: string | undefined; signal: AbortSignal }): Promise<IncomingMessage>;
}

export function apiRequester(credentials: Credentials): ApiRequester {
  const agents: Partial<Record<string, http.Agent | Agent>> = {};

  async function options(method: string, path: string, accept: string | undefined): Promise<{ transport: typeof http; opts: AuthOptions }> {
    const { server, apply } = await credentials.current();
    const https = server.protocol === 'https:';
    // node:https (TLS) loads only for an https server.
    const transport = (https ? await import('node:https') : http) as typeof http;
    const agent = (agents[server.protocol] ??= new transport.Agent({ keepAlive: true, maxSockets: 16 }));
    const opts: AuthOptions = {
      method,
      protocol: server.protocol,
      hostname: server.hostname.replace(/^\[|\]$/g, ''),
      port: server.port || (https ? 443 : 80),
      path: `${server.pathname.replace(/\/$/, '')}${path}`,
      headers: { Accept: accept ?? 'application/json', 'User-Agent': USER_AGENT },
      agent,
    };
    await apply(opts);
    return { transport, opts };
  }

  return {
    async send(method, path, o) {
      const { transport, opts } = await options(method, path, o.accept);
      const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
      if (payload !== undefined) {
        opts.headers['Content-Type'] = o.contentType ?? 'application/json';
        opts.headers['Content-Length'] = String(Buffer.byteLength(payload));
      }
      const attempt = (retried: boolean): Promise<RawResponse> =>
        new Promise<RawResponse>((resolve, reject) => {
          const req = transport.request(opts, (res: IncomingMessage) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', (e) => reject(o.unreachable(e.message)));
          });
          // One deadline for the whole exchange, not per socket event.
          let timedOut = false;
          const timer = setTimeout(() => {
            timedOut = true;
            req.destroy();
            reject(o.unreachable(`no answer within ${o.timeoutMs} ms`));
          }, o.timeoutMs);
          req.on('close', () => clearTimeout(timer));
          req.on('error', (e: NodeJS.ErrnoException) => {
            // A kept-alive connection the server closed as we reused it: Node's advice is one retry
            // (every request braid makes, GETs and a status merge-patch, is idempotent). Not when
            // braid itself cut it at the deadline: that request has failed, not the connection.
            if (!retried && !timedOut && req.reusedSocket && e.code === 'ECONNRESET') {
              clearTimeout(timer);
              attempt(true).then(resolve, reject);
              return;
            }
            reject(o.unreachable(e.code ?? e.message));
          });
          req.end(payload);
        });
      return attempt(false);
    },

    async open(path, o) {
      const { transport, opts } = await options('GET', path, o.accept);
      // A watch holds its connection for minutes: its own socket, not one of the pool's.
      opts.agent = false;
      opts.signal = o.signal;
      return new Promise<IncomingMessage>((resolve, reject) => {
        const req = transport.request(opts, resolve);
        req.on('error', reject);
        req.end();
      });
    },
  };
}
