// Offsets to line:column, and JSON pointers to offsets in JSON text. Only run when a finding
// is reported, so the fast path stays a bare JSON.parse.
import type { Position } from './finding.js';
import { parsePointer } from './json-pointer.js';

export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

export function positionAt(starts: readonly number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}

/** Lazily-built line index for one text. */
export function offsetLocator(text: string): (offset: number) => Position {
  let starts: number[] | undefined;
  return (offset) => positionAt((starts ??= lineStarts(text)), Math.max(0, Math.min(offset, text.length)));
}

class Scanner {
  i = 0;
  constructor(readonly t: string) {}

  ws(): void {
    while (this.i < this.t.length && /\s/.test(this.t[this.i]!)) this.i++;
  }

  string(): string {
    const start = this.i;
    this.i++; // opening quote
    while (this.i < this.t.length && this.t[this.i] !== '"') this.i += this.t[this.i] === '\\' ? 2 : 1;
    this.i++;
    try {
      return JSON.parse(this.t.slice(start, this.i)) as string;
    } catch {
      return this.t.slice(start + 1, this.i - 1);
    }
  }

  skipValue(): void {
    this.ws();
    const c = this.t[this.i];
    if (c === '"') {
      this.string();
      return;
    }
    if (c === '{' || c === '[') {
      let depth = 0;
      while (this.i < this.t.length) {
        const ch = this.t[this.i]!;
        if (ch === '"') {
          this.string();
          continue;
        }
        if (ch === '{' || ch === '[') depth++;
        else if (ch === '}' || ch === ']') {
          depth--;
          if (depth === 0) {
            this.i++;
            return;
          }
        }
        this.i++;
      }
      return;
    }
    while (this.i < this.t.length && !/[\s,\]}]/.test(this.t[this.i]!)) this.i++;
  }

  /** Position on the value of member `key` (returns the key's offset), or -1. */
  member(key: string): number {
    this.ws();
    if (this.t[this.i] !== '{') return -1;
    this.i++;
    for (;;) {
      this.ws();
      if (this.t[this.i] !== '"') return -1;
      const keyAt = this.i;
      const k = this.string();
      this.ws();
      if (this.t[this.i] !== ':') return -1;
      this.i++;
      if (k === key) {
        this.ws();
        return keyAt;
      }
      this.skipValue();
      this.ws();
      if (this.t[this.i] !== ',') return -1;
      this.i++;
    }
  }

  element(index: number): number {
    this.ws();
    if (this.t[this.i] !== '[') return -1;
    this.i++;
    for (let n = 0; ; n++) {
      this.ws();
      if (this.t[this.i] === ']') return -1;
      if (n === index) return this.i;
      this.skipValue();
      this.ws();
      if (this.t[this.i] !== ',') return -1;
      this.i++;
    }
  }
}

/**
 * Offset of what a pointer names in JSON text: an object member's key, an array element's value.
 * A pointer to a missing member resolves to its deepest existing parent.
 */
export function locateJsonPointer(text: string, pointer: string): number {
  const s = new Scanner(text);
  s.ws();
  let found = s.i;
  for (const seg of parsePointer(pointer)) {
    s.ws();
    const at = s.t[s.i] === '[' && /^\d+$/.test(seg) ? s.element(Number(seg)) : s.member(seg);
    if (at < 0) break;
    found = at;
  }
  return found;
}

export function jsonLocator(text: string): (pointer: string) => Position {
  const toPos = offsetLocator(text);
  return (pointer) => toPos(locateJsonPointer(text, pointer));
}

/**
 * Offset of a JSON.parse failure. V8 gives "at position N" for most errors but not for an
 * unexpected token; then find the longest prefix that fails only for ending early (binary search).
 */
export function jsonErrorOffset(message: string, text: string): number {
  const m = /at position (\d+)/.exec(message);
  if (m) return Number(m[1]);
  const viable = (k: number) => {
    try {
      JSON.parse(text.slice(0, k));
      return true;
    } catch (e) {
      const msg = (e as Error).message;
      const at = /at position (\d+)/.exec(msg);
      return msg.includes('Unexpected end') || (at !== null && Number(at[1]) >= k);
    }
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (viable(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** V8's reason without the position or the echoed input. */
export const jsonErrorReason = (message: string) => message.replace(/, (\.\.\.)?".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');

/** The real problem behind a JSON.parse failure at `offset`, said as a config author would look for it. */
export function explainJsonError(message: string, text: string, offset: number): { reason: string; offset: number; generic?: true } {
  const before = text.slice(0, offset);
  const at = text.slice(offset, offset + 3);
  const comma = /,\s*$/.exec(before);
  if (comma && (at[0] === '}' || at[0] === ']')) return { reason: `trailing comma before "${at[0]}": JSON allows none`, offset: comma.index };
  if (at.startsWith('//') || at.startsWith('/*')) return { reason: 'a comment: JSON has none', offset };
  if (at === '...') return { reason: '"..." (an elided example), not JSON', offset };
  const quote = /'/.test(at[0] ?? '');
  if (quote) return { reason: 'a single-quoted string: JSON strings take double quotes', offset };
  const missingColon = /"[^"]*"\s*$/.test(before) && /^[[{"\d]/.test(at);
  if (missingColon) return { reason: `missing ":" after the key ${/"([^"]*)"\s*$/.exec(before)![1] ? JSON.stringify(/"([^"]*)"\s*$/.exec(before)![1]) : ''}`, offset };
  return { reason: jsonErrorReason(message), offset, generic: true };
}
