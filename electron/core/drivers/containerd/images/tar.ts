import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';

/**
 * Random access into a tar archive on disk: one pass over the headers records where
 * each file's bytes are, then any file is read as a byte range. Image archives are
 * read this way because their manifest names the blobs, and may come last.
 * ustar, pax ('x') and GNU long names ('L') are understood; symlinks and hard links
 * are followed (`docker save` links repeated layers).
 */
export interface TarEntry {
  name: string;
  offset: number;
  size: number;
}

const BLOCK = 512;

function cstring(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

function sizeOf(header: Buffer): number {
  const field = header.subarray(124, 136);
  // Base-256 (GNU) for files of 8 GiB and more: high bit set in the first byte.
  if ((field[0]! & 0x80) !== 0) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = cstring(header, 124, 12).trim();
  return text ? parseInt(text, 8) : 0;
}

function paxPath(body: Buffer): string | undefined {
  let at = 0;
  while (at < body.length) {
    const sp = body.indexOf(0x20, at);
    if (sp < 0) break;
    const len = parseInt(body.toString('utf8', at, sp), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = body.toString('utf8', sp + 1, at + len - 1);
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') return record.slice(eq + 1);
    at += len;
  }
  return undefined;
}

const clean = (name: string) => posix.normalize(name.replace(/^\.?\/+/, '')).replace(/\/$/, '');

export class TarIndex {
  private constructor(
    readonly file: string,
    private readonly entries: Map<string, TarEntry>,
  ) {}

  static async read(file: string, signal?: AbortSignal): Promise<TarIndex> {
    const fd = await open(file, 'r');
    const entries = new Map<string, TarEntry>();
    const links = new Map<string, string>();
    try {
      const { size: total } = await fd.stat();
      const header = Buffer.alloc(BLOCK);
      let pos = 0;
      let longName: string | undefined;
      while (pos + BLOCK <= total) {
        signal?.throwIfAborted();
        await fd.read(header, 0, BLOCK, pos);
        if (header.every((b) => b === 0)) break;
        const size = sizeOf(header);
        const type = String.fromCharCode(header[156] || 0x30);
        const prefix = header.toString('utf8', 257, 263).startsWith('ustar') ? cstring(header, 345, 155) : '';
        let name = longName ?? (prefix ? `${prefix}/${cstring(header, 0, 100)}` : cstring(header, 0, 100));
        longName = undefined;
        const data = pos + BLOCK;
        if (type === 'x' || type === 'L') {
          const body = Buffer.alloc(size);
          await fd.read(body, 0, size, data);
          longName = type === 'x' ? paxPath(body) : cstring(body, 0, size);
        } else if (type === '0' || type === '7') {
          name = clean(name);
          entries.set(name, { name, offset: data, size });
        } else if (type === '1' || type === '2') {
          const target = cstring(header, 157, 100);
          const from = clean(name);
          // Hard link targets are archive paths; symlink targets are relative to the link.
          links.set(from, clean(type === '1' ? target : posix.join(posix.dirname(from), target)));
        }
        pos = data + Math.ceil(size / BLOCK) * BLOCK;
      }
    } finally {
      await fd.close();
    }
    for (const [from, to] of links) {
      let hit = entries.get(to);
      for (let hops = 0; !hit && hops < 8 && links.has(to); hops++) hit = entries.get(links.get(to)!);
      if (hit) entries.set(from, { ...hit, name: from });
    }
    return new TarIndex(file, entries);
  }

  has(name: string): boolean {
    return this.entries.has(clean(name));
  }

  get(name: string): TarEntry | undefined {
    return this.entries.get(clean(name));
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  stream(entry: TarEntry, highWaterMark = 1024 * 1024): Readable {
    if (entry.size === 0) return Readable.from([]);
    return createReadStream(this.file, { start: entry.offset, end: entry.offset + entry.size - 1, highWaterMark });
  }

  async bytes(entry: TarEntry, max = 16 * 1024 * 1024): Promise<Buffer> {
    if (entry.size > max) throw new Error(`${entry.name} is ${entry.size} bytes, more than a metadata file should be`);
    const fd = await open(this.file, 'r');
    try {
      const buf = Buffer.alloc(entry.size);
      await fd.read(buf, 0, entry.size, entry.offset);
      return buf;
    } finally {
      await fd.close();
    }
  }
}
