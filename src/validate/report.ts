// Output: human-readable, grouped by file (colour only on a terminal without NO_COLOR); one line
// per finding (file:line:col: severity code message, as compilers print); one JSON document; or
// SARIF 2.1.0 for code-scanning UIs.
import { CODES, type FindingCode, type Severity } from './codes.js';
import type { Finding } from './finding.js';
import { countBySeverity } from './finding.js';
import type { ValidateResult } from './validate.js';

export const FORMATS = ['human', 'line', 'json', 'sarif'] as const;
export type Format = (typeof FORMATS)[number];

export interface ReportOptions {
  color: boolean;
  strict: boolean;
  quiet: boolean;
}

const paint = (on: boolean, code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Whether a finding makes the run fail: errors, and warnings under --strict. Info never does. */
export const fails = (f: Pick<Finding, 'severity'>, strict: boolean) => f.severity === 'error' || (strict && f.severity === 'warning');

export const runFails = (findings: readonly Finding[], strict: boolean) => findings.some((f) => fails(f, strict));

/** --quiet keeps only the findings that fail the run. */
const shown = (result: ValidateResult, opts: Pick<ReportOptions, 'quiet' | 'strict'>) => (opts.quiet ? result.findings.filter((f) => fails(f, opts.strict)) : result.findings);

export function formatReport(format: Format, result: ValidateResult, opts: ReportOptions, version: string): string {
  switch (format) {
    case 'json':
      return formatJson(result, opts);
    case 'sarif':
      return formatSarif(result, opts, version);
    case 'line':
      return shown(result, opts).map((f) => `${formatLine(f)}\n`).join('');
    default:
      return formatHuman(result, opts);
  }
}

export function formatLine(f: Finding): string {
  return `${f.file}:${f.line ?? 1}:${f.column ?? 1}: ${f.severity} ${f.code} ${f.message}${f.hint ? ` (hint: ${f.hint})` : ''}`;
}

export function formatHuman(result: ValidateResult, opts: ReportOptions): string {
  const red = paint(opts.color, '31');
  const yellow = paint(opts.color, '33');
  const blue = paint(opts.color, '34');
  const dim = paint(opts.color, '2');
  const bold = paint(opts.color, '1');
  const label: Record<Severity, string> = { error: red('error  '), warning: yellow('warning'), info: blue('info   ') };
  const byFile = new Map<string, Finding[]>();
  for (const f of shown(result, opts)) {
    const list = byFile.get(f.file) ?? [];
    list.push(f);
    byFile.set(f.file, list);
  }
  const out: string[] = [];
  for (const [file, findings] of byFile) {
    out.push(bold(file));
    for (const f of findings) {
      const loc = f.line !== undefined ? `${f.line}:${f.column ?? 1}` : '-';
      out.push(`  ${loc.padEnd(8)} ${label[f.severity]} ${f.code}  ${f.message}${f.pointer ? dim(`  ${f.pointer}`) : ''}`);
      if (f.hint) out.push(`  ${' '.repeat(8)} ${' '.repeat(7)} ${' '.repeat(f.code.length)}  ${dim(`hint: ${f.hint}`)}`);
    }
    out.push('');
  }
  const { errors, warnings, infos } = countBySeverity(result.findings);
  const failing = runFails(result.findings, opts.strict);
  if (opts.quiet && !failing) return '';
  const summary = `${plural(result.files.length, 'file')} checked: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}${infos ? `, ${infos} info` : ''}${opts.strict && warnings > 0 && errors === 0 ? ' (--strict: warnings fail)' : ''}`;
  out.push(failing ? red(summary) : errors + warnings > 0 ? yellow(summary) : summary);
  return `${out.join('\n')}\n`;
}

export function formatJson(result: ValidateResult, opts: Pick<ReportOptions, 'strict' | 'quiet'>): string {
  const { errors, warnings, infos } = countBySeverity(result.findings);
  const perFile = result.files.map((file) => {
    const mine = result.findings.filter((f) => f.file === file);
    return { file, ...countBySeverity(mine) };
  });
  const doc = {
    version: 1,
    ok: !runFails(result.findings, opts.strict),
    strict: opts.strict,
    summary: { files: result.files.length, errors, warnings, infos },
    files: perFile,
    findings: shown(result, opts),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const SARIF_LEVEL: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'note' };

/** A file as a SARIF artifact URI: relative paths stay relative (to the working directory). */
const artifactUri = (file: string) => (file === '<stdin>' ? 'stdin' : file.startsWith('/') ? `file://${encodeURI(file)}` : encodeURI(file.replace(/\\/g, '/')));

export function formatSarif(result: ValidateResult, opts: Pick<ReportOptions, 'strict' | 'quiet'>, version: string): string {
  const codes = Object.keys(CODES) as FindingCode[];
  const index = new Map(codes.map((c, i) => [c, i]));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'braid-validate',
            version,
            informationUri: 'https://github.com/braid-cni/braid#validating-configs-braid-validate',
            rules: codes.map((c) => ({
              id: c,
              shortDescription: { text: CODES[c].summary },
              defaultConfiguration: { level: SARIF_LEVEL[CODES[c].severity] },
              properties: { layer: CODES[c].layer },
            })),
          },
        },
        columnKind: 'unicodeCodePoints',
        results: shown(result, opts).map((f) => ({
          ruleId: f.code,
          ruleIndex: index.get(f.code),
          level: SARIF_LEVEL[f.severity],
          message: { text: f.hint ? `${f.message}\nhint: ${f.hint}` : f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: artifactUri(f.file) },
                ...(f.line !== undefined ? { region: { startLine: f.line, startColumn: f.column ?? 1 } } : {}),
              },
              ...(f.pointer ? { logicalLocations: [{ fullyQualifiedName: f.pointer, kind: 'member' }] } : {}),
            },
          ],
        })),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
