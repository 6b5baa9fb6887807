// Shared by the validate tests: run the pipeline in-process, or the built dist/braid validate.
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadInputs } from '../../src/validate/load-inputs.js';
import { validateFiles, type ValidateOptions, type ValidateResult } from '../../src/validate/validate.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CORPUS = fileURLToPath(new URL('./corpus/', import.meta.url));
export const BIN = join(REPO, 'dist', 'braid');

export async function validatePaths(paths: string[], opts: ValidateOptions = {}): Promise<ValidateResult> {
  const loaded = loadInputs(paths, () => '');
  return validateFiles(loaded.files, opts);
}

/** In-memory files: name -> text. */
export function validateTexts(files: Record<string, string>, opts: ValidateOptions = {}): Promise<ValidateResult> {
  return validateFiles(Object.entries(files).map(([file, text]) => ({ file, dir: '.', text })), opts);
}

/** The built dist/braid validate, as users run it: argv, optional stdin, a clean CNI_PATH unless given. */
export function runCli(argv: string[], env: Record<string, string | undefined> = {}, opts: { stdin?: string; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete childEnv.CNI_PATH;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, 'validate', ...argv], { env: childEnv, cwd: opts.cwd ?? REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? '');
  });
}

export const errorsOf = (r: ValidateResult) => r.findings.filter((f) => f.severity === 'error');
