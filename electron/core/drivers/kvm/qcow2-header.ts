import { open } from 'node:fs/promises';

/** What a qcow2 overlay's header says of its backing image: its path as written, its format, the overlay's size. */
export interface Qcow2Backing {
  backing: string;
  backingFormat: string | undefined;
  virtualSize: number;
}

const MAGIC = 0x514649fb; // 'QFI\xfb'
const EXT_END = 0;
const EXT_BACKING_FORMAT = 0xe2792aca;
/** The header and its extensions sit in the first cluster; 64 KiB covers the largest cluster qemu-img makes by default and more. */
const HEAD_BYTES = 64 * 1024;

/**
 * The backing fields of a qcow2 file's header (the on-disk format of QEMU's
 * docs/interop/qcow2.txt, all big-endian), read without running qemu-img; undefined when
 * the file is not a qcow2 with a backing file. Throws only when the file cannot be read.
 */
export async function readQcow2Backing(path: string): Promise<Qcow2Backing | undefined> {
  const fh = await open(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (head.length < 72 || head.readUInt32BE(0) !== MAGIC) return undefined;
  const version = head.readUInt32BE(4);
  const nameAt = Number(head.readBigUInt64BE(8));
  const nameLen = head.readUInt32BE(16);
  const virtualSize = Number(head.readBigUInt64BE(24));
  if (nameAt === 0 || nameLen === 0 || nameAt + nameLen > head.length) return undefined;
  // Version 2's header is 72 bytes; version 3 says its length. The extensions follow it.
  let at = version >= 3 && head.length >= 104 ? head.readUInt32BE(100) : 72;
  let backingFormat: string | undefined;
  while (at + 8 <= head.length) {
    const type = head.readUInt32BE(at);
    const len = head.readUInt32BE(at + 4);
    if (type === EXT_END || at + 8 + len > head.length) break;
    if (type === EXT_BACKING_FORMAT) backingFormat = head.toString('utf8', at + 8, at + 8 + len);
    at += 8 + Math.ceil(len / 8) * 8;
  }
  return { backing: head.toString('utf8', nameAt, nameAt + nameLen), backingFormat, virtualSize };
}
