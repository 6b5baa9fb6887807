// Duplicate object keys in JSON text. JSON.parse, like Go's encoding/json that plugins use,
// keeps the last value without a word, so the earlier setting is lost. One pass over text
// that already parsed, so the scanner can trust its shape.
import { escapeSegment } from './json-pointer.js';

export interface DuplicateKey {
  pointer: string; // the member, e.g. /plugins/0/mtu
  offset: number; // of the later key
  firstOffset: number;
  sameValue: boolean;
}

const WS = new Set([' ', '\t', '\n', '\r']);

export function findDuplicateKeys(text: string): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  let i = 0;
  const ws = () => {
    while (i < text.length && WS.has(text[i]!)) i++;
  };
  const str = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return text.slice(start, i);
  };
  const value = (pointer: string): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Map<string, { offset: number; raw: string }>();
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return;
        }
        const keyAt = i;
        const rawKey = str();
        let key: string;
        try {
          key = JSON.parse(rawKey) as string;
        } catch {
          key = rawKey.slice(1, -1);
        }
        ws();
        i++; // ':'
        ws();
        const vStart = i;
        const member = `${pointer}/${escapeSegment(key)}`;
        value(member);
        const raw = text.slice(vStart, i).replace(/\s+/g, '');
        const prev = seen.get(key);
        if (prev) out.push({ pointer: member, offset: keyAt, firstOffset: prev.offset, sameValue: prev.raw === raw });
        seen.set(key, { offset: keyAt, raw });
        ws();
        if (text[i] === ',') i++;
        else {
          i++; // '}'
          return;
        }
      }
    }
    if (c === '[') {
      i++;
      for (let n = 0; ; n++) {
        ws();
        if (text[i] === ']') {
          i++;
          return;
        }
        value(`${pointer}/${n}`);
        ws();
        if (text[i] === ',') i++;
        else {
          i++;
          return;
        }
      }
    }
    if (c === '"') {
      str();
      return;
    }
    while (i < text.length && !WS.has(text[i]!) && text[i] !== ',' && text[i] !== '}' && text[i] !== ']') i++;
  };
  value('');
  return out;
}
