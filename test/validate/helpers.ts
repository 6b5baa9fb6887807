// Shared by the validate tests: run the pipeline in-process, or the CLI edge with its output captured.
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { validateMain } from '../../src/validate/cli.js';
import { loadInputs } from '../../src/validate/load-inputs.js';
import { validateFiles, type ValidateOptions, type ValidateResult } from '../../src/validate/validate.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CORPUS = fileURLToPath(new URL('./corpus/', import.meta.url));

export async function validatePaths(paths: string[], opts: ValidateOptions = {}): Promise<ValidateResult> {
  const loaded = loadInputs(paths, () => '');
  return validateFiles(loaded.files, opts);
}

/** In-memory files: name -> text. */
export function validateTexts(files: Record<string, string>, opts: ValidateOptions = {}): Promise<ValidateResult> {
  return validateFiles(Object.entries(files).map(([file, text]) => ({ file, dir: '.', text })), opts);
}

export async function runCli(argv: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    // Tests don't depend on this machine's plugins unless they name a CNI path.
    const hermetic = argv.includes('--cni-path') || 'CNI_PATH' in env ? argv : ['--no-binaries', ...argv];
    const code = await validateMain(hermetic);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export const errorsOf = (r: ValidateResult) => r.findings.filter((f) => f.severity === 'error');
