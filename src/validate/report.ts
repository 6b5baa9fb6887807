// Output: human-readable, grouped by file (colour only on a terminal without NO_COLOR), or one
// JSON document for machines.
import type { Finding } from './finding.js';
import { countBySeverity } from './finding.js';
import type { ValidateResult } from './validate.js';

export interface ReportOptions {
  color: boolean;
  strict: boolean;
}

const paint = (on: boolean, code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatHuman(result: ValidateResult, opts: ReportOptions): string {
  const red = paint(opts.color, '31');
  const yellow = paint(opts.color, '33');
  const dim = paint(opts.color, '2');
  const bold = paint(opts.color, '1');
  const byFile = new Map<string, Finding[]>();
  for (const f of result.findings) {
    const list = byFile.get(f.file) ?? [];
    list.push(f);
    byFile.set(f.file, list);
  }
  const out: string[] = [];
  for (const [file, findings] of byFile) {
    out.push(bold(file));
    for (const f of findings) {
      const loc = f.line !== undefined ? `${f.line}:${f.column ?? 1}` : '-';
      const sev = f.severity === 'error' ? red('error  ') : yellow('warning');
      out.push(`  ${loc.padEnd(8)} ${sev} ${f.code}  ${f.message}${f.pointer ? dim(`  ${f.pointer}`) : ''}`);
      if (f.hint) out.push(`  ${' '.repeat(8)} ${' '.repeat(7)} ${' '.repeat(f.code.length)}  ${dim(`hint: ${f.hint}`)}`);
    }
    out.push('');
  }
  const { errors, warnings } = countBySeverity(result.findings);
  const failing = errors > 0 || (opts.strict && warnings > 0);
  const summary = `${plural(result.files.length, 'file')} checked: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}${opts.strict && warnings > 0 && errors === 0 ? ' (--strict: warnings fail)' : ''}`;
  out.push(failing ? red(summary) : errors + warnings > 0 ? yellow(summary) : summary);
  return `${out.join('\n')}\n`;
}

export function formatJson(result: ValidateResult, opts: Pick<ReportOptions, 'strict'>): string {
  const { errors, warnings } = countBySeverity(result.findings);
  const perFile = result.files.map((file) => {
    const mine = result.findings.filter((f) => f.file === file);
    return { file, ...countBySeverity(mine) };
  });
  const doc = {
    version: 1,
    ok: !(errors > 0 || (opts.strict && warnings > 0)),
    strict: opts.strict,
    summary: { files: result.files.length, errors, warnings },
    files: perFile,
    findings: result.findings,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
