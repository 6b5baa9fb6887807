// Syntax layer: each input file becomes documents (one for JSON, several for YAML), each with a
// locator from JSON pointers to line:column. yaml is loaded only when a YAML file is seen.
import type { Document, LineCounter, YAMLError } from 'yaml';
import { fixedAt, type DocContext, type FindingSink, type Position } from './finding.js';
import { escapeSegment, fieldPath, parsePointer } from './json-pointer.js';
import type { InputFile } from './load-inputs.js';
import { explainJsonError, jsonErrorOffset, jsonLocator, offsetLocator } from './text-position.js';
import { reindentFlowContinuations, unquotedTemplateAction } from './yaml-leniency.js';
import { jsonHint, reportDuplicateKeys } from './classify.js';

export interface ParsedDoc {
  ctx: DocContext;
  value: unknown;
  /** Present for YAML documents: lets an embedded JSON string map to exact lines. */
  yaml?: { doc: Document; lineCounter: LineCounter; text: string; toFile: (p: Position) => Position };
}

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;
const loadYaml = async () => (yamlModule ??= await import('yaml'));

const looksLikeYaml = (file: string, text: string) => {
  if (/\.ya?ml$/i.test(file)) return true;
  if (/\.(conflist|conf|json)$/i.test(file)) return false;
  return !/^\s*[[{]/.test(text); // stdin or an unknown extension: sniff
};

export async function parseInput(input: InputFile, sink: FindingSink): Promise<ParsedDoc[]> {
  const noLocation = () => undefined;
  if (input.text === undefined) {
    sink.add({ file: input.file, dir: input.dir, locate: noLocation }, 'BRD106', '', `cannot read ${input.file}: ${input.readError}`);
    return [];
  }
  const text = input.text.charCodeAt(0) === 0xfeff ? input.text.slice(1) : input.text;
  return looksLikeYaml(input.file, text) ? parseYaml(input, text, sink) : [parseJson(input, text, sink)].filter((d): d is ParsedDoc => !!d);
}

function parseJson(input: InputFile, text: string, sink: FindingSink): ParsedDoc | undefined {
  const ctx: DocContext = { file: input.file, dir: input.dir, locate: jsonLocator(text) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const offset = jsonErrorOffset(msg, text);
    const template = templateMarker(text, offset);
    if (template) {
      sink.add(fixedAt(ctx, template.pos), 'BRD107', '', `this is a template, not JSON yet: ${template.what} at line ${template.pos.line} must be rendered first`, template.hint);
      return undefined;
    }
    const why = explainJsonError(msg, text, offset);
    const at = offsetLocator(text)(why.offset);
    sink.add(fixedAt(ctx, at), 'BRD101', '', `invalid JSON at line ${at.line}, column ${at.column}: ${why.reason}`, why.generic ? jsonHint(text) : undefined);
    return undefined;
  }
  const toPos = offsetLocator(text);
  const held = placeholderInString(text);
  if (held) {
    sink.add(fixedAt(ctx, toPos(held.offset)), 'BRD107', '', `this is a template: placeholder ${held.token} at line ${toPos(held.offset).line} must be substituted first; the values are not checked`, 'substitute the placeholders (sed, envsubst, the installer) and validate the result');
    return undefined;
  }
  reportDuplicateKeys(text, (offset) => fixedAt(ctx, toPos(offset)), '', sink);
  return { ctx, value };
}

async function parseYaml(input: InputFile, text: string, sink: FindingSink): Promise<ParsedDoc[]> {
  const Y = await loadYaml();
  const parse = (t: string) => {
    const lineCounter = new Y.LineCounter();
    const docs = Y.parseAllDocuments(t, { lineCounter, prettyErrors: true, uniqueKeys: false });
    return { lineCounter, list: Array.isArray(docs) ? docs : [docs], text: t };
  };
  // An unquoted Go template action ({{ .Values.x }}) is a Helm chart or similar, not YAML yet.
  const action = unquotedTemplateAction(text);
  if (action) {
    const pos = offsetLocator(text)(action.offset);
    sink.add({ file: input.file, dir: input.dir, locate: () => pos }, 'BRD107', '', `this is a template, not YAML yet: Go template action ${JSON.stringify(action.action.slice(0, 40))} at line ${pos.line} must be rendered first`, 'render it first (helm template, or the tool that fills it in), then validate the output');
    return [];
  }
  let parsed = parse(text);
  let shifts: ReadonlyMap<number, number> = new Map();
  if (parsed.list.some((d) => d.errors.length > 0)) {
    // What kubectl accepts and YAML 1.2 does not: continuation lines at or left of their key.
    const lenient = reindentFlowContinuations(text);
    if (lenient) {
      parsed = parse(lenient.text);
      shifts = lenient.shifts;
    }
  }
  const toFile = (p: Position): Position => ({ line: p.line, column: Math.max(1, p.column - (shifts.get(p.line - 1) ?? 0)) });
  const { lineCounter } = parsed;
  const out: ParsedDoc[] = [];
  for (const doc of parsed.list) {
    const ctx: DocContext = { file: input.file, dir: input.dir, locate: yamlLocator(Y, doc, lineCounter, toFile) };
    if (doc.errors.length > 0) {
      reportYamlErrors(doc.errors, text, ctx, sink, toFile);
      continue;
    }
    if (doc.contents === null) continue; // empty document (e.g. a trailing ---)
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      sink.add(ctx, 'BRD102', '', `invalid YAML: ${(e as Error).message.split('\n')[0]}`); // e.g. an alias bomb
      continue;
    }
    checkDuplicateYamlKeys(Y, doc, lineCounter, toFile, ctx, sink);
    out.push({ ctx, value, yaml: { doc, lineCounter, text: parsed.text, toFile } });
  }
  return out;
}

function reportYamlErrors(errors: readonly YAMLError[], text: string, ctx: DocContext, sink: FindingSink, toFile: (p: Position) => Position): void {
  const template = templateMarker(text);
  if (template) {
    sink.add({ ...ctx, locate: () => template.pos }, 'BRD107', '', `this is a template, not YAML yet: ${template.what} at line ${template.pos.line} must be rendered first`, template.hint);
    return;
  }
  // The first error is the cause; the parser's later ones follow from it.
  const err = errors[0]!;
  const lp = err.linePos?.[0];
  let pos: Position | undefined = lp ? toFile({ line: lp.line, column: lp.col }) : undefined;
  let reason = explainYaml(err.code, err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''));
  const culprit = pos && /compact mappings|Implicit map keys|same column|Unexpected scalar at node end/.test(reason) ? overIndented(text, pos.line) : undefined;
  const quote = /Missing closing (['"])quote/.exec(err.message)?.[1];
  const opened = pos && quote ? openingQuote(text, pos.line, quote) : undefined;
  if (opened) {
    pos = opened;
    reason = `the string opened with ${quote} here is never closed: add the closing ${quote}`;
  }
  if (culprit) {
    pos = { line: culprit.line, column: culprit.indent + 1 };
    reason = `line ${culprit.line} is indented ${culprit.indent} spaces, deeper than the key on line ${culprit.sibling} (${culprit.siblingIndent}) that it follows: keys of one mapping need the same indentation`;
  }
  sink.add({ ...ctx, locate: () => pos }, 'BRD102', '', `invalid YAML${pos ? ` at line ${pos.line}, column ${pos.column}` : ''}: ${reason}`);
}

/** Where the quote that never closes was opened: the nearest line up to `line` with an odd count of it. */
function openingQuote(text: string, line: number, quote: string): Position | undefined {
  const lines = text.split('\n');
  for (let l = Math.min(line, lines.length) - 1; l >= 0; l--) {
    const t = lines[l]!;
    const count = t.split(quote).length - 1 - (quote === "'" ? 2 * (t.split("''").length - 1) : (t.split('\\"').length - 1));
    if (count % 2 === 1) return { line: l + 1, column: t.indexOf(quote) + 1 };
  }
  return undefined;
}

/** The first line after `line` indented deeper than it although `line` opens no block: a misaligned key. */
function overIndented(text: string, line: number): { line: number; indent: number; sibling: number; siblingIndent: number } | undefined {
  const lines = text.split('\n');
  const base = lines[line - 1];
  if (base === undefined || /:\s*(#.*)?$/.test(base) || /:\s*[|>]/.test(base)) return undefined;
  const baseIndent = base.length - base.trimStart().length;
  for (let l = line; l < lines.length; l++) {
    const t = lines[l]!;
    if (t.trim() === '' || t.trimStart().startsWith('#')) continue;
    const indent = t.length - t.trimStart().length;
    return indent > baseIndent && /^[^\s#'"{[-][^:]*:(\s|$)/.test(t.trimStart()) ? { line: l + 1, indent, sibling: line, siblingIndent: baseIndent } : undefined;
  }
  return undefined;
}

/** The yaml package's wording, said the way a YAML author would look for the problem. */
function explainYaml(code: string, reason: string): string {
  if (code === 'TAB_AS_INDENT') return `${reason}: YAML indentation must be spaces`;
  if (code === 'MISSING_CHAR' && /closing .?quote/.test(reason)) return `${reason}: a quoted string is opened and never closed`;
  if (code === 'BAD_INDENT' || /indent/i.test(reason)) return `${reason} (check the indentation of this line against its parent)`;
  return reason;
}

/** A placeholder inside a JSON string ("__EGRESS_SUBNET__", "{{ .Subnet }}", "${SUBNET}"): a template that parses. */
export function placeholderInString(text: string): { token: string; offset: number } | undefined {
  const m = /"[^"\n]*?(__[A-Z][A-Z0-9_]*__|\{\{[^}"]*\}\}|\$\{[A-Za-z_]\w*\})/.exec(text);
  return m ? { token: m[1]!, offset: m.index + m[0].length - m[1]!.length } : undefined;
}

/** Go/Helm templates and shell or sed placeholders: why a file that is not YAML or JSON yet fails. */
export function templateMarker(text: string, near?: number): { what: string; pos: Position; hint: string } | undefined {
  const at = (offset: number) => offsetLocator(text)(offset);
  const go = /\{\{-?\s*[^}]*\}\}/.exec(text);
  if (go) return { what: `Go template action ${JSON.stringify(go[0].slice(0, 40))}`, pos: at(go.index), hint: 'render it first (helm template, or the tool that fills it in), then validate the output' };
  const window = near === undefined ? text : text.slice(Math.max(0, near - 40), near + 40);
  const base = near === undefined ? 0 : Math.max(0, near - 40);
  const ph = /__[A-Z][A-Z0-9_]*__|\$\{?[A-Za-z0-9_]+\}?/.exec(window);
  if (ph) return { what: `placeholder ${ph[0]}`, pos: at(base + ph.index), hint: 'substitute the placeholders (sed, envsubst, the installer) and validate the result' };
  return undefined;
}

/** Keys a YAML mapping repeats: the Kubernetes decoders keep the last one, so the earlier value is lost. */
function checkDuplicateYamlKeys(Y: YamlModule, doc: Document, lc: LineCounter, toFile: (p: Position) => Position, ctx: DocContext, sink: FindingSink): void {
  const keyOf = (k: unknown) => (Y.isScalar(k) ? String(k.value) : String(k));
  const walk = (node: unknown, pointer: string): void => {
    if (Y.isMap(node)) {
      const seen = new Map<string, { line: number; value: string }>();
      for (const pair of node.items) {
        const key = keyOf(pair.key);
        const member = `${pointer}/${escapeSegment(key)}`;
        const start = (pair.key as { range?: [number, number, number] } | null)?.range?.[0];
        const pos = start === undefined ? undefined : toFile({ line: lc.linePos(start).line, column: lc.linePos(start).col });
        const value = JSON.stringify(Y.isNode(pair.value) ? pair.value.toJSON() : pair.value);
        const prev = seen.get(key);
        if (prev && key !== '<<') {
          const same = prev.value === value;
          sink.add(fixedAt(ctx, pos), same ? 'BRD109' : 'BRD108', member, `key ${fieldPath(member)} appears twice (first at line ${prev.line})${same ? ' with the same value' : ': kubectl keeps only this later value, the earlier one is lost'}`, same ? 'remove one of them' : 'keep one of them, with the value you mean');
        }
        seen.set(key, { line: pos?.line ?? 0, value });
        walk(pair.value, member);
      }
    } else if (Y.isSeq(node)) node.items.forEach((item, i) => walk(item, `${pointer}/${i}`));
  };
  walk(doc.contents, '');
}

/** The YAML node a pointer names (a map value, or the key itself for the last segment). */
export function yamlNodeAt(Y: YamlModule, doc: Document, pointer: string, keyOfLast = true): { range?: [number, number, number] | null; node: unknown } | undefined {
  let node: unknown = doc.contents;
  let found: { range?: [number, number, number] | null; node: unknown } | undefined = { range: (node as { range?: [number, number, number] })?.range, node };
  const segs = parsePointer(pointer);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const last = i === segs.length - 1;
    if (Y.isMap(node)) {
      const pair = node.items.find((p) => (Y.isScalar(p.key) ? String(p.key.value) : String(p.key)) === seg);
      if (!pair) break;
      const key = pair.key as { range?: [number, number, number] };
      node = pair.value;
      const valueRange = (node as { range?: [number, number, number] } | null)?.range;
      found = { range: last && keyOfLast ? key.range : (valueRange ?? key.range), node };
    } else if (Y.isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      node = item;
      found = { range: (item as { range?: [number, number, number] })?.range, node };
    } else break;
  }
  return found;
}

function yamlLocator(Y: YamlModule, doc: Document, lc: LineCounter, toFile: (p: Position) => Position) {
  return (pointer: string): Position | undefined => {
    const start = yamlNodeAt(Y, doc, pointer)?.range?.[0];
    if (start === undefined) return undefined;
    const p = lc.linePos(start);
    return toFile({ line: p.line, column: p.col });
  };
}

export { loadYaml };
