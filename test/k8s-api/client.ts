// Plain requests to the test API server over its TLS (fetch cannot be given a CA in Node 20):
// for control calls, and for tests that look at raw status codes, bodies and watch streams.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The CA (PEM) that signed the server's certificate. */
  ca?: string | undefined;
  /** A client certificate and key (PEM). */
  cert?: string;
  key?: string;
  token?: string;
  signal?: AbortSignal;
}

export interface RawAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** The response once its head arrived; the body is still to be read (a watch stream). */
export function openRequest(url: string, o: RawRequest = {}): Promise<IncomingMessage> {
  const u = new URL(url);
  const headers = { ...o.headers };
  if (o.token) headers.Authorization = `Bearer ${o.token}`;
  const opts: RequestOptions & { ca?: string; cert?: string; key?: string } = { method: o.method ?? 'GET', headers, signal: o.signal };
  if (o.ca) opts.ca = o.ca;
  if (o.cert) opts.cert = o.cert;
  if (o.key) opts.key = o.key;
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, opts, resolve);
    req.on('error', reject);
    req.end(o.body);
  });
}

export async function rawRequest(url: string, o: RawRequest = {}): Promise<RawAnswer> {
  const res = await openRequest(url, o);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
}
