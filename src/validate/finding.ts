// A finding is data: a stable code, where it is (file, RFC 6901 pointer, line:column), what is
// wrong (naming the field and the value) and how to fix it. Layers only ever add findings.
import { CODES, type FindingCode, type Severity } from './codes.js';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  file: string;
  pointer: string;
  line?: number;
  column?: number;
  message: string;
  hint?: string;
}

export interface Position {
  line: number;
  column: number;
}

/** Maps a JSON pointer of a document to its 1-based line:column in the file, when known. */
export type Locator = (pointer: string) => Position | undefined;

/** One parsed document of one file: findings about it are reported through it. */
export interface DocContext {
  file: string;
  dir: string;
  locate: Locator;
}

/** Where a layer is looking: a document and the pointer of the value under check within it. */
export interface Scope {
  doc: DocContext;
  base: string;
}

export class FindingSink {
  readonly findings: Finding[] = [];

  add(doc: DocContext, code: FindingCode, pointer: string, message: string, hint?: string): void {
    const f: Finding = { code, severity: CODES[code].severity, file: doc.file, pointer, message };
    const pos = doc.locate(pointer);
    if (pos) {
      f.line = pos.line;
      f.column = pos.column;
    }
    if (hint) f.hint = hint;
    this.findings.push(f);
  }

  /** Report at base + a pointer relative to the scope's value. */
  at(scope: Scope, code: FindingCode, rel: string, message: string, hint?: string): void {
    this.add(scope.doc, code, scope.base + rel, message, hint);
  }
}

export const countBySeverity = (findings: readonly Finding[]) => ({
  errors: findings.filter((f) => f.severity === 'error').length,
  warnings: findings.filter((f) => f.severity === 'warning').length,
  infos: findings.filter((f) => f.severity === 'info').length,
});

/** A finding at a known position rather than at a pointer's. */
export const fixedAt = (doc: DocContext, pos: Position | undefined): DocContext => ({ ...doc, locate: () => pos });
