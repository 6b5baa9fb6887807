// Turn zod issues into one CNI error that names the field and the value (STYLE: messages name both).
import type { z } from 'zod';
import { CniError, Code } from './errors.js';

export function formatPath(path: readonly PropertyKey[], root = ''): string {
  let out = root;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: any = input;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[seg as any];
  }
  return cur;
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = Array.isArray(v) ? '[...]' : '{...}'; // nested deeper than the stack: a RangeError, not a CNI error
  }
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function issuesToError(
  error: z.ZodError,
  input: unknown,
  what: string,
  code: number = Code.InvalidConfig,
  root = '',
): CniError {
  const parts = error.issues.slice(0, 5).map((i) => {
    const v = valueAt(input, i.path);
    return `${formatPath(i.path, root)}: ${i.message} (got ${describeValue(v)})`;
  });
  const more = error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : '';
  return new CniError(code, `invalid ${what}: ${parts.join('; ')}${more}`);
}
