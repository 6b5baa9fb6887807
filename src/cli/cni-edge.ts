// The thin edge: owns env, stdin, stdout and the exit code for CNI mode. The daemon
// reuses cniResponse so both modes answer byte for byte alike.
import { fstatSync, readSync, writeSync } from 'node:fs';
import { CniError, Code, toCniError } from '../cni/errors.js';
import { CURRENT_VERSION, isSupported, versionInfo } from '../cni/version.js';
import type { ContextOverrides } from '../meta/context.js';
import { mark } from '../trace.js';

export const MAX_STDIN_BYTES = 4 * 1024 * 1024;

function isTerminal(fd: number): boolean {
  try {
    return fstatSync(fd).isCharacterDevice();
  } catch {
    return false; // a closed fd: the read below reports it
  }
}

/**
 * All of stdin, at most `limit` bytes. A CNI call is one short-lived process, so a blocking read
 * is simplest and cheapest; a non-blocking pipe (EAGAIN) falls back to the stream.
 */
export async function readStdin(limit = MAX_STDIN_BYTES): Promise<Buffer> {
  // A terminal (a person running braid by hand) has no config to read. fstat, not
  // process.stdin.isTTY: building the stdin stream costs ~1.5 ms per call.
  if (isTerminal(0)) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const take = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) throw new CniError(Code.InvalidConfig, `stdin exceeds ${limit} bytes`);
    chunks.push(chunk);
  };
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = readSync(0, buf, 0, buf.length, null);
      if (n === 0) return Buffer.concat(chunks);
      take(Buffer.from(buf.subarray(0, n)));
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EOF') return Buffer.concat(chunks);
    if (code !== 'EAGAIN') throw e;
  }
  for await (const chunk of process.stdin) take(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The cniVersion the caller spoke, for rendering errors in its version (best effort). */
export function callerVersion(stdin: Buffer | undefined): string {
  if (!stdin?.length) return CURRENT_VERSION;
  try {
    const v = JSON.parse(stdin.toString('utf8'))?.cniVersion;
    return typeof v === 'string' && isSupported(v) ? v : CURRENT_VERSION;
  } catch {
    return CURRENT_VERSION;
  }
}

export interface CniResponse {
  exitCode: number;
  /** Exactly one JSON document and a newline, or empty for a silent success (DEL, CHECK). */
  stdout: string;
}

export async function cniResponse(env: NodeJS.ProcessEnv, stdin: Buffer, overrides?: ContextOverrides): Promise<CniResponse> {
  try {
    if (stdin.length > MAX_STDIN_BYTES) throw new CniError(Code.InvalidConfig, `stdin exceeds ${MAX_STDIN_BYTES} bytes`);
    // VERSION needs nothing else: answer before loading any verb code.
    if (env.CNI_COMMAND === 'VERSION') return { exitCode: 0, stdout: `${JSON.stringify(versionInfo(callerVersion(stdin)))}\n` };
    const { handleCni } = await import('../meta/cni-handler.js');
    const out = await handleCni(env, stdin, overrides);
    return { exitCode: 0, stdout: out === undefined ? '' : `${JSON.stringify(out)}\n` };
  } catch (e) {
    return { exitCode: 1, stdout: `${JSON.stringify(toCniError(e).toJSON(callerVersion(stdin)))}\n` };
  }
}

/**
 * The answer, written straight to fd 1 (process.stdout would build a stream first, ~1 ms); a
 * non-blocking stdout (EAGAIN) falls back to the stream, which waits for the pipe to drain.
 */
async function writeAnswer(text: string): Promise<void> {
  const buf = Buffer.from(text);
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(1, buf, off);
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
  }
  await new Promise<void>((resolve, reject) => process.stdout.write(buf.subarray(off), (err) => (err ? reject(err) : resolve())));
}

export async function runCniEdge(env: NodeJS.ProcessEnv): Promise<number> {
  mark('app');
  let stdin: Buffer;
  try {
    stdin = await readStdin();
  } catch (e) {
    await writeAnswer(`${JSON.stringify(toCniError(e).toJSON(CURRENT_VERSION))}\n`);
    return 1;
  }
  const r = await cniResponse(env, stdin);
  await writeAnswer(r.stdout);
  mark('answered');
  return r.exitCode;
}
