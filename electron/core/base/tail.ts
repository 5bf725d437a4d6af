import { watch, type FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { isNodeError } from './errors.js';
import type { Disposable } from './lifecycle.js';

/** How much of a file's end we read to find the last N lines, at most. */
const MAX_BACKLOG = 8 * 1024 * 1024;

/**
 * Read a log file's last lines and, when following, every line appended after: inotify
 * wakes us, nothing polls. A file that shrinks (rotated, truncated) is read from the top.
 */
export function tailFile(
  path: string,
  opts: { tail?: number; follow: boolean },
  onLines: (lines: string[]) => void,
  onEnd: () => void,
  onError: (e: unknown) => void,
): Disposable {
  let offset = 0;
  let carry = '';
  let watcher: FSWatcher | undefined;
  let disposed = false;
  let reading: Promise<void> = Promise.resolve();
  let again = false;

  const readMore = async () => {
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (e) {
      if (isNodeError(e, 'ENOENT')) return;
      throw e;
    }
    if (size < offset) {
      offset = 0;
      carry = '';
    }
    if (size === offset) return;
    const fh = await open(path, 'r');
    try {
      const len = size - offset;
      const buf = Buffer.alloc(len);
      const { bytesRead } = await fh.read(buf, 0, len, offset);
      offset += bytesRead;
      const text = carry + buf.subarray(0, bytesRead).toString('utf8');
      const parts = text.split('\n');
      carry = parts.pop() ?? '';
      if (parts.length && !disposed) onLines(parts);
    } finally {
      await fh.close();
    }
  };

  const pump = () => {
    if (disposed) return;
    // Coalesce bursts of change events into one read at a time.
    if (again) return;
    again = true;
    reading = reading.then(async () => {
      again = false;
      if (!disposed) await readMore();
    }).catch((e: unknown) => {
      if (!disposed) onError(e);
    });
  };

  const start = async () => {
    let size = 0;
    try {
      size = (await stat(path)).size;
    } catch (e) {
      if (!isNodeError(e, 'ENOENT')) throw e;
    }
    if (opts.tail !== undefined) offset = await startOfLastLines(path, size, opts.tail);
    await readMore();
    if (!opts.follow) {
      if (carry && !disposed) onLines([carry]);
      carry = '';
      if (!disposed) onEnd();
      return;
    }
    if (disposed) return;
    watcher = watch(path, { persistent: false }, pump);
    watcher.on('error', (e) => {
      if (!disposed) onError(e);
    });
    pump(); // anything written between the first read and the watch
  };
  start().catch((e: unknown) => {
    if (!disposed) onError(e);
  });

  return {
    dispose() {
      disposed = true;
      watcher?.close();
    },
  };
}

async function startOfLastLines(path: string, size: number, lines: number): Promise<number> {
  if (size === 0) return 0;
  if (lines === 0) return size;
  const fh = await open(path, 'r');
  try {
    const chunk = 64 * 1024;
    let pos = size;
    let seen = 0;
    // A file ending in '\n' has its last line end there; do not count that newline.
    let skipLast = true;
    while (pos > 0 && size - pos < MAX_BACKLOG) {
      const len = Math.min(chunk, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      for (let i = len - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a) continue;
        if (skipLast && pos + i === size - 1) {
          skipLast = false;
          continue;
        }
        if (++seen === lines) return pos + i + 1;
      }
      skipLast = false;
    }
    return pos;
  } finally {
    await fh.close();
  }
}
