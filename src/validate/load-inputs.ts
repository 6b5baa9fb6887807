// Which files a run reads: files as given, directories walked recursively for the extensions
// braid recognises, "-" for stdin. Order is stable (sorted) so reports are reproducible.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';

export const CONFIG_EXTENSIONS = new Set(['.conflist', '.conf', '.json', '.yaml', '.yml']);
const SKIP_DIRS = new Set(['node_modules', '.git']);

export interface InputFile {
  file: string; // as displayed in findings
  dir: string;
  text?: string;
  readError?: string;
}

export interface LoadedInputs {
  files: InputFile[];
  emptyDirs: string[]; // directories given that held no config file
  missing: string[]; // paths given that do not exist (a usage error)
}

function walk(dir: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    out.push(dir); // reported as unreadable by the reader
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const ent of entries) {
    if (ent.name.startsWith('.') || SKIP_DIRS.has(ent.name)) continue;
    const p = join(dir, ent.name);
    if (ent.isDirectory()) walk(p, out);
    else if (CONFIG_EXTENSIONS.has(extname(ent.name).toLowerCase())) out.push(p);
    else if (ent.isSymbolicLink()) {
      try {
        const st = statSync(p);
        if (st.isDirectory()) walk(p, out);
        else if (st.isFile() && CONFIG_EXTENSIONS.has(extname(ent.name).toLowerCase())) out.push(p);
      } catch {
        // dangling link: nothing to check
      }
    }
  }
}

function readInput(path: string): InputFile {
  try {
    return { file: path, dir: dirname(path), text: readFileSync(path, 'utf8') };
  } catch (e) {
    return { file: path, dir: dirname(path), readError: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
}

export function loadInputs(paths: readonly string[], readStdin: () => string): LoadedInputs {
  const result: LoadedInputs = { files: [], emptyDirs: [], missing: [] };
  const seen = new Set<string>();
  for (const p of paths) {
    if (p === '-') {
      result.files.push({ file: '<stdin>', dir: '<stdin>', text: readStdin() });
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      result.missing.push(p);
      continue;
    }
    const found: string[] = [];
    if (st.isDirectory()) {
      walk(p, found);
      if (found.length === 0) result.emptyDirs.push(p);
    } else found.push(p);
    for (const f of found) {
      if (seen.has(f)) continue;
      seen.add(f);
      result.files.push(readInput(f));
    }
  }
  return result;
}
