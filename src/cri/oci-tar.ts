// Just enough of the ustar format to pack an OCI image: regular files and directories, owned
// by root, with fixed mtimes so the same inputs give the same digests.
const BLOCK = 512;

function header(name: string, size: number, mode: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name ${JSON.stringify(name)} exceeds 100 bytes`);
  const h = Buffer.alloc(BLOCK);
  const put = (s: string, off: number) => h.write(s, off, 'ascii');
  const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\0`;
  put(name, 0);
  put(octal(mode, 8), 100);
  put(octal(0, 8), 108);
  put(octal(0, 8), 116);
  put(octal(size, 12), 124);
  put(octal(0, 12), 136);
  put('        ', 148);
  put(type, 156);
  put('ustar\0', 257);
  put('00', 263);
  put('root', 265);
  put('root', 297);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

export interface TarEntry {
  name: string;
  /** Absent for a directory. */
  data?: Buffer;
  mode?: number;
}

export function tar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.data === undefined) {
      parts.push(header(e.name.endsWith('/') ? e.name : `${e.name}/`, 0, e.mode ?? 0o755, '5'));
      continue;
    }
    parts.push(header(e.name, e.data.length, e.mode ?? 0o644, '0'), e.data);
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
