// A JSON document inside a YAML string (a NAD's spec.config): findings inside it get file
// positions, exact when the string is a literal block (|), else the line of its key.
import type { Locator } from './finding.js';
import { loadYaml, type ParsedDoc, yamlNodeAt } from './parse-documents.js';
import { lineStarts, locateJsonPointer, offsetLocator } from './text-position.js';

export /** Offsets inside an embedded JSON string to file positions: exact for a YAML literal block (|). */
async function embeddedOffsetLocator(doc: ParsedDoc, pointer: string, inner: string) {
  const fallback = doc.ctx.locate(pointer);
  if (!doc.yaml) return () => fallback;
  const Y = await loadYaml();
  const node = yamlNodeAt(Y, doc.yaml.doc, pointer, false)?.node;
  if (!Y.isScalar(node) || node.type !== 'BLOCK_LITERAL' || !node.range) return () => fallback;
  const text = doc.yaml.text;
  const headerLine = doc.yaml.lineCounter.linePos(node.range[0]).line;
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
    return { line: headerLine + p.line, column: indent + p.column };
  };
}

export async function embeddedLocator(doc: ParsedDoc, base: string, inner: string): Promise<Locator> {
  const toPos = await embeddedOffsetLocator(doc, base, inner);
  return (pointer) => {
    if (pointer !== base && !pointer.startsWith(`${base}/`)) return doc.ctx.locate(pointer);
    return toPos(locateJsonPointer(inner, pointer.slice(base.length)));
  };
}

