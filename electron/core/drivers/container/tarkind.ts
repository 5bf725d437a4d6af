import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

/**
 * Which kind of tar file an import is handed: a `docker save` / OCI image archive (with
 * manifest.json or oci-layout at its top) is loaded; anything else is a root filesystem,
 * imported as a one-layer image. Only the 512-byte headers are read, skipping the data.
 */
export type TarKind = 'image-archive' | 'rootfs';

const BLOCK = 512;
const MAX_ENTRIES = 200_000;

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function sizeOf(h: Buffer): number {
  // Base-256 for sizes too big for octal (GNU): high bit of the first byte set.
  if ((h[124]! & 0x80) !== 0) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + h[i]!;
    return n;
  }
  return parseInt(field(h, 124, 12).trim() || '0', 8);
}

const isTop = (name: string) => {
  const n = name.replace(/^\.\//, '');
  return n === 'manifest.json' || n === 'oci-layout';
};

export async function tarKind(path: string): Promise<TarKind> {
  const fh = await open(path, 'r');
  const head = Buffer.alloc(2);
  await fh.read(head, 0, 2, 0);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    await fh.close();
    return gzippedTarKind(path);
  }
  try {
    const h = Buffer.alloc(BLOCK);
    let pos = 0;
    let longName: string | undefined;
    for (let i = 0; i < MAX_ENTRIES; i++) {
      const { bytesRead } = await fh.read(h, 0, BLOCK, pos);
      if (bytesRead < BLOCK || h.every((b) => b === 0)) break;
      const magic = field(h, 257, 6);
      const size = sizeOf(h);
      const type = String.fromCharCode(h[156] || 48);
      const prefix = magic.startsWith('ustar') ? field(h, 345, 155) : '';
      const name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
      longName = undefined;
      pos += BLOCK;
      if (type === 'L') {
        const body = Buffer.alloc(size);
        await fh.read(body, 0, size, pos);
        longName = body.toString('utf8').replace(/\0.*$/s, '');
      }
      if (isTop(name)) return 'image-archive';
      pos += Math.ceil(size / BLOCK) * BLOCK;
    }
    return 'rootfs';
  } finally {
    await fh.close();
  }
}

/** The same walk over a gzipped tar, which can only be read front to back. */
async function gzippedTarKind(path: string): Promise<TarKind> {
  const input = createReadStream(path).pipe(createGunzip());
  let buf = Buffer.alloc(0);
  let skip = 0;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          buf = buf.subarray(n);
          skip -= n;
          if (skip > 0) break;
        }
        if (buf.length < BLOCK) break;
        const h = buf.subarray(0, BLOCK);
        if (h.every((b) => b === 0)) return 'rootfs';
        const magic = field(h, 257, 6);
        const prefix = magic.startsWith('ustar') ? field(h, 345, 155) : '';
        if (isTop(prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100))) return 'image-archive';
        buf = buf.subarray(BLOCK);
        skip = Math.ceil(sizeOf(h) / BLOCK) * BLOCK;
      }
    }
    return 'rootfs';
  } finally {
    input.destroy();
  }
}
