import { gzipSync } from 'node:zlib';

/**
 * A gzipped ustar archive of in-memory files, built in Node (no `tar` binary, no shell).
 * Enough for a diagnostics bundle: regular files, names under 100 bytes, any size.
 */
export interface TarEntry {
  name: string;
  data: string | Buffer;
  mode?: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width bytes: digits, then a NUL terminator.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mode: number, mtime: number): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 99 || name.startsWith('/') || name.split('/').includes('..')) throw new Error(`tar: bad entry name '${name}'`);
  const h = Buffer.alloc(BLOCK, 0);
  nameBytes.copy(h, 0);
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  // Sizes past 8 GiB need base-256; a diagnostics bundle never gets there.
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
  h.write('0', 156, 'ascii'); // regular file
  h.write('ustar\u000000', 257, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

export function tarGz(entries: readonly TarEntry[], mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data;
    parts.push(header(e.name, data.length, e.mode ?? 0o644, mtime), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0)); // end of archive
  return gzipSync(Buffer.concat(parts));
}
