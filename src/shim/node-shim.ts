// braid-shim in Node.js: the fallback where no C compiler was available at build time. Same
// protocol and the same answers as braid-shim.c (read that file's header); Node builtins only,
// so the bundle is tiny. It pays Node's start-up (~50-120 ms) on every call.
import { writeSync } from 'node:fs';
import { request } from 'node:http';

const MAX_STDIN = 4 * 1024 * 1024;
const DEFAULT_SOCKET = '/run/braid/braid.sock';
const DEFAULT_TIMEOUT_S = 300;
const VARS = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'];

let version = '1.1.0';

// strerror(3) wording, as the C shim prints it.
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  ENOTSOCK: 'Socket operation on non-socket',
  EPIPE: 'Broken pipe',
  ECONNRESET: 'connection closed without an answer',
};

/** Synchronous, so nothing runs after an answer; retried while a non-blocking pipe is full. */
function answer(stdout: string | Buffer, code: number): never {
  const buf = typeof stdout === 'string' ? Buffer.from(stdout) : stdout;
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(1, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') process.exit(1);
    }
  }
  process.exit(code);
}

function fail(code: number, msg: string): never {
  return answer(`${JSON.stringify({ cniVersion: version, code, msg })}\n`, 1);
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_STDIN) fail(7, `stdin exceeds ${MAX_STDIN} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function topLevel(stdin: Buffer): { cniVersion?: unknown; daemonSocket?: unknown } {
  try {
    const v = JSON.parse(stdin.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {}; // the daemon reports the decode error
  }
}

async function main(): Promise<void> {
  const stdin = await readStdin();
  const top = topLevel(stdin);
  if (typeof top.cniVersion === 'string' && /^[0-9.]{1,15}$/.test(top.cniVersion)) version = top.cniVersion;
  const socketPath = typeof top.daemonSocket === 'string' && top.daemonSocket ? top.daemonSocket : DEFAULT_SOCKET;
  const timeoutS = Number(process.env.BRAID_SHIM_TIMEOUT) > 0 ? Math.floor(Number(process.env.BRAID_SHIM_TIMEOUT)) : DEFAULT_TIMEOUT_S;
  const env: Record<string, string> = {};
  for (const k of VARS) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  const body = Buffer.from(JSON.stringify({ env, stdin: stdin.toString('utf8') }));
  const unreachable = (why: string) => fail(11, `braid daemon not reachable at ${socketPath}: ${why}; try again later`);

  const req = request({
    socketPath,
    path: '/cni',
    method: 'POST',
    headers: { Host: 'braid', 'Content-Type': 'application/json', 'Content-Length': body.length, Connection: 'close' },
  });
  const timer = setTimeout(() => {
    req.destroy();
    fail(11, `braid daemon at ${socketPath} did not answer within ${timeoutS} s; try again later`);
  }, timeoutS * 1000);
  req.on('error', (e: NodeJS.ErrnoException) => {
    // HPE_*: Node's HTTP parser choked on what the daemon sent.
    if (e.code?.startsWith('HPE_')) fail(999, `braid daemon at ${socketPath} gave a malformed answer: ${e.message}`);
    unreachable(STRERROR[e.code ?? ''] ?? e.code ?? e.message);
  });
  req.on('response', (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', () => fail(999, `braid daemon at ${socketPath} gave a malformed answer: connection lost mid-answer`));
    res.on('end', () => {
      clearTimeout(timer);
      const exit = Number(res.headers['x-cni-exit']);
      if (res.statusCode !== 200 || !Number.isInteger(exit) || exit < 0 || exit > 255) {
        fail(999, `braid daemon at ${socketPath} gave a malformed answer: HTTP ${res.statusCode}${Number.isInteger(exit) ? '' : ', no X-CNI-Exit'}`);
      }
      answer(Buffer.concat(chunks), exit);
    });
  });
  req.end(body);
}

main().catch((e: unknown) => fail(999, `braid-shim: ${(e as Error)?.message ?? String(e)}`));
