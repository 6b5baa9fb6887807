// RFC 6901 JSON pointers: "/plugins/0/ipam/ranges/0/0/gateway".
export const escapeSegment = (s: string | number) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');
const unescapeSegment = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

export const ptr = (...segments: (string | number)[]) => segments.map((s) => `/${escapeSegment(s)}`).join('');

export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map(unescapeSegment);
}

/** A short, readable field path for messages: "plugins[0].ipam.ranges[0][0].gateway". */
export function fieldPath(pointer: string): string {
  let out = '';
  for (const seg of parsePointer(pointer)) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += out === '' ? seg : /^[A-Za-z_$][\w$-]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
  }
  return out || '(document)';
}

/** The last segment: the field name a message is about. */
export function fieldName(pointer: string): string {
  const segs = parsePointer(pointer);
  return segs.at(-1) ?? '(document)';
}

/** A value for a message: strings quoted, long values cut. */
export function showValue(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? 'undefined' : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export const typeOfValue = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
