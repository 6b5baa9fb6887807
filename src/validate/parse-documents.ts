// Syntax layer: each input file becomes documents (one for JSON, several for YAML), each with a
// locator from JSON pointers to line:column. yaml is loaded only when a YAML file is seen.
import type { Document, LineCounter } from 'yaml';
import type { DocContext, FindingSink, Position } from './finding.js';
import { parsePointer } from './json-pointer.js';
import type { InputFile } from './load-inputs.js';
import { jsonErrorOffset, jsonErrorReason, jsonLocator, offsetLocator } from './text-position.js';

export interface ParsedDoc {
  ctx: DocContext;
  value: unknown;
  /** Present for YAML documents: lets an embedded JSON string map to exact lines. */
  yaml?: { doc: Document; lineCounter: LineCounter; text: string };
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
  try {
    return { ctx, value: JSON.parse(text) };
  } catch (e) {
    const msg = (e as Error).message;
    const pos = offsetLocator(text)(jsonErrorOffset(msg, text));
    sink.add(
      { ...ctx, locate: () => pos },
      'BRD101',
      '',
      `invalid JSON at line ${pos.line}, column ${pos.column}: ${jsonErrorReason(msg)}`,
      /^\s*\/\/|\/\*/m.test(text) ? 'JSON has no comments; remove // and /* */' : /,\s*[}\]]/.test(text) ? 'JSON allows no trailing comma before } or ]' : undefined,
    );
    return undefined;
  }
}

async function parseYaml(input: InputFile, text: string, sink: FindingSink): Promise<ParsedDoc[]> {
  const Y = await loadYaml();
  const lineCounter = new Y.LineCounter();
  const docs = Y.parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: ParsedDoc[] = [];
  for (const doc of list) {
    const ctx: DocContext = { file: input.file, dir: input.dir, locate: yamlLocator(Y, doc, lineCounter) };
    if (doc.errors.length > 0) {
      const shown = new Set<string>();
      for (const err of doc.errors.slice(0, 5)) {
        const lp = err.linePos?.[0];
        const key = `${lp?.line}:${lp?.col}`; // one parse error often causes another at the same spot
        if (shown.has(key)) continue;
        shown.add(key);
        const pos: Position | undefined = lp ? { line: lp.line, column: lp.col } : undefined;
        sink.add({ ...ctx, locate: () => pos }, 'BRD102', '', `invalid YAML${pos ? ` at line ${pos.line}, column ${pos.column}` : ''}: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
      }
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
    out.push({ ctx, value, yaml: { doc, lineCounter, text } });
  }
  return out;
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

function yamlLocator(Y: YamlModule, doc: Document, lc: LineCounter) {
  return (pointer: string): Position | undefined => {
    const start = yamlNodeAt(Y, doc, pointer)?.range?.[0];
    if (start === undefined) return undefined;
    const p = lc.linePos(start);
    return { line: p.line, column: p.col };
  };
}

export { loadYaml };
