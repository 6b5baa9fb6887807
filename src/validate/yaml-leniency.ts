// Go's YAML parser (go-yaml, a libyaml port, as in kubectl and kubeconform) does not check the
// indentation of a quoted scalar's or a flow collection's continuation lines; YAML 1.2 and the
// `yaml` package require them deeper than the key. Docs write `config: '{` ... `}'` with the
// closing line at the key's column or less, and kubectl applies them. To read what kubectl reads,
// those continuation lines are indented past the key before a second parse. Leading whitespace
// of a continuation line is folded away in quoted scalars and is insignificant in flow
// collections, so the value is the same; only columns move, and `shifts` undoes that.

import { lineStarts, positionAt } from './text-position.js';

export interface Reindented {
  text: string;
  /** 0-based line -> spaces added at its start. */
  shifts: Map<number, number>;
}

// A block mapping entry whose value opens a quoted scalar or a flow collection:
// indent, optional "- " sequence markers, a key, ":", then the opening character.
const ENTRY = /^( *)((?:- +)*)((?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{[\]}&*!|>%@`-][^#]*?)) *: +(['"[{])/;
// A block scalar header ("key: |", "- >-"): its content lines are not YAML structure.
const BLOCK_SCALAR = /(?:^|: +|- +)[|>][-+0-9]*\s*(?:#.*)?$/;

/** Offset just past the quoted scalar or flow collection opening at `start`, or -1. */
function endOfFlow(text: string, start: number): number {
  const open = text[start];
  if (open === "'") {
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] !== "'") continue;
      if (text[i + 1] === "'") i++;
      else return i + 1;
    }
    return -1;
  }
  if (open === '"') {
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '"') return i + 1;
    }
    return -1;
  }
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const end = endOfFlow(text, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (c === '#' && /\s/.test(text[i - 1] ?? '')) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return -1;
      i = nl;
    } else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The text with under-indented flow continuation lines indented past their key, or undefined if none. */
export function reindentFlowContinuations(text: string): Reindented | undefined {
  const starts = lineStarts(text);
  const lineOf = (offset: number) => positionAt(starts, offset).line - 1;
  const lineText = (l: number) => text.slice(starts[l], (starts[l + 1] ?? text.length + 1) - 1).replace(/\r$/, '');
  const shifts = new Map<number, number>();
  for (let l = 0; l < starts.length; l++) {
    const line = lineText(l);
    if (BLOCK_SCALAR.test(line)) {
      // skip the block scalar's content: lines deeper than this one, or blank
      const indent = line.length - line.trimStart().length;
      while (l + 1 < starts.length && (lineText(l + 1).trim() === '' || lineText(l + 1).search(/\S/) > indent)) l++;
      continue;
    }
    const m = ENTRY.exec(line);
    if (!m) continue;
    const keyCol = m[1]!.length + m[2]!.length;
    const openAt = starts[l]! + m[0].length - 1;
    const end = endOfFlow(text, openAt);
    if (end < 0) return undefined; // unterminated: nothing to repair, the parse error stands
    const last = lineOf(end - 1);
    if (last === l) continue;
    let minIndent = Infinity;
    for (let k = l + 1; k <= last; k++) {
      const t = lineText(k);
      if (t.trim() !== '') minIndent = Math.min(minIndent, t.length - t.trimStart().length);
    }
    const pad = keyCol + 1 - minIndent;
    if (pad > 0) for (let k = l + 1; k <= last; k++) if (lineText(k).trim() !== '') shifts.set(k, pad);
    l = last;
  }
  if (shifts.size === 0) return undefined;
  let out = '';
  for (let l = 0; l < starts.length; l++) {
    const seg = text.slice(starts[l], starts[l + 1] ?? text.length);
    out += ' '.repeat(shifts.get(l) ?? 0) + seg;
  }
  return { text: out, shifts };
}

/**
 * An unquoted Go template action ({{ .Values.x }}) in YAML structure, outside block scalars
 * (where alerting rules and the like keep theirs as text): a Helm chart, not YAML yet.
 */
export function unquotedTemplateAction(text: string): { offset: number; action: string } | undefined {
  const lines = text.split('\n');
  let offset = 0;
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l]!;
    const m = /^[^#'"]*?(\{\{-?[^}]*\}\})/.exec(line);
    if (m) return { offset: offset + m.index + m[0].length - m[1]!.length, action: m[1]! };
    offset += line.length + 1;
    if (BLOCK_SCALAR.test(line)) {
      const indent = line.length - line.trimStart().length;
      while (l + 1 < lines.length && (lines[l + 1]!.trim() === '' || lines[l + 1]!.search(/\S/) > indent)) offset += lines[++l]!.length + 1;
    }
  }
  return undefined;
}
