// A JSON document inside a YAML string (a NAD's spec.config, an annotation, a ConfigMap value):
// findings inside it get file positions. Exact for a literal block (|) and for quoted or plain
// scalars (their folding and escapes are replayed); else the line of the key.
import type { Scalar } from 'yaml';
import type { Locator, Position } from './finding.js';
import { loadYaml, type ParsedDoc, yamlNodeAt } from './parse-documents.js';
import { lineStarts, locateJsonPointer, offsetLocator } from './text-position.js';

/**
 * Source offset of each character of a flow scalar's value (plain, 'single' or "double"), by
 * replaying YAML's folding: a line break and the indentation after it become one space, or a
 * newline per empty line; '' and backslash escapes are one character.
 */
export function flowScalarOffsets(src: string, start: number, end: number, style: 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE'): number[] {
  const out: number[] = [];
  const quoted = style !== 'PLAIN';
  let i = quoted ? start + 1 : start;
  const stop = quoted ? end - 1 : end;
  while (i < stop) {
    const c = src[i]!;
    if (c === '\n' || c === '\r') {
      // drop trailing blanks already emitted on this line, then fold the break
      while (out.length && (src[out.at(-1)!] === ' ' || src[out.at(-1)!] === '\t')) out.pop();
      let breaks = 0;
      let j = i;
      while (j < stop && /[\s]/.test(src[j]!)) {
        if (src[j] === '\n') breaks++;
        j++;
      }
      if (breaks <= 1) out.push(i);
      else for (let k = 1; k < breaks; k++) out.push(i);
      i = j;
      continue;
    }
    if (style === 'QUOTE_SINGLE' && c === "'" && src[i + 1] === "'") {
      out.push(i);
      i += 2;
      continue;
    }
    if (style === 'QUOTE_DOUBLE' && c === '\\') {
      const n = src[i + 1];
      if (n === '\n' || n === '\r') {
        i += 2;
        while (i < stop && (src[i] === ' ' || src[i] === '\t' || src[i] === '\n')) i++;
        continue;
      }
      const len = n === 'x' ? 4 : n === 'u' ? 6 : n === 'U' ? 10 : 2;
      out.push(i);
      i += len;
      continue;
    }
    out.push(i);
    i++;
  }
  return out;
}

/** Offsets inside an embedded JSON string to file positions. */
export async function embeddedOffsetLocator(doc: ParsedDoc, pointer: string, inner: string): Promise<(offset: number) => Position | undefined> {
  const fallback = doc.ctx.locate(pointer);
  if (!doc.yaml) return () => fallback;
  const Y = await loadYaml();
  const { text, lineCounter, toFile } = doc.yaml;
  const node = yamlNodeAt(Y, doc.yaml.doc, pointer, false)?.node;
  if (!Y.isScalar(node) || !node.range) return () => fallback;
  const type = (node as Scalar).type;
  if (type === 'PLAIN' || type === 'QUOTE_SINGLE' || type === 'QUOTE_DOUBLE') {
    const offsets = flowScalarOffsets(text, node.range[0], node.range[1], type);
    if (offsets.length !== inner.length) return () => fallback; // a form not replayed exactly
    return (offset: number) => {
      const at = offsets[Math.min(offset, offsets.length - 1)];
      if (at === undefined) return fallback;
      const p = lineCounter.linePos(at);
      return toFile({ line: p.line, column: p.col });
    };
  }
  if (type !== 'BLOCK_LITERAL') return () => fallback;
  const headerLine = lineCounter.linePos(node.range[0]).line;
  const starts = lineStarts(text);
  let indent = 0;
  for (let l = headerLine; l < starts.length; l++) {
    const line = text.slice(starts[l], starts[l + 1] ?? text.length).replace(/\r?\n$/, '');
    if (line.trim() !== '') {
      indent = line.length - line.trimStart().length;
      break;
    }
  }
  const innerPos = offsetLocator(inner);
  return (offset: number) => {
    const p = innerPos(offset);
    return toFile({ line: headerLine + p.line, column: indent + p.column });
  };
}

export async function embeddedLocator(doc: ParsedDoc, base: string, inner: string): Promise<Locator> {
  const toPos = await embeddedOffsetLocator(doc, base, inner);
  return (pointer) => {
    if (pointer !== base && !pointer.startsWith(`${base}/`)) return doc.ctx.locate(pointer);
    return toPos(locateJsonPointer(inner, pointer.slice(base.length)));
  };
}
