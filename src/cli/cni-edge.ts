// The thin edge (STYLE 1): owns env, stdin, stdout and the exit code for CNI mode.
import { CniError, Code, toCniError } from '../cni/errors.js';
import { CURRENT_VERSION, versionInfo } from '../cni/version.js';

export const MAX_STDIN_BYTES = 4 * 1024 * 1024;

export async function readStdin(limit = MAX_STDIN_BYTES): Promise<Buffer> {
  if (process.stdin.isTTY) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CniError(Code.InvalidConfig, `stdin exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Best effort: the cniVersion the caller spoke, for rendering errors in its version. */
export function callerVersion(stdin: Buffer | undefined): string {
  if (!stdin?.length) return CURRENT_VERSION;
  try {
    const v = JSON.parse(stdin.toString('utf8'))?.cniVersion;
    return typeof v === 'string' && v ? v : CURRENT_VERSION;
  } catch {
    return CURRENT_VERSION;
  }
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export async function runCniEdge(env: NodeJS.ProcessEnv): Promise<number> {
  let stdin: Buffer | undefined;
  try {
    if (env.CNI_COMMAND === 'VERSION') {
      stdin = await readStdin();
      writeJson(versionInfo(callerVersion(stdin)));
      return 0;
    }
    stdin = await readStdin();
    const { handleCni } = await import('../meta/cni-handler.js');
    const out = await handleCni(env, stdin);
    if (out !== undefined) writeJson(out);
    return 0;
  } catch (e) {
    const err = toCniError(e);
    writeJson(err.toJSON(callerVersion(stdin)));
    return 1;
  }
}
