import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isNodeError } from '../base/errors.js';
import type { Disposable } from '../base/lifecycle.js';
import { rotatedPath, type RotatingFile } from './jsonl.js';

export interface FollowPosition {
  ino: number;
  offset: number;
}

/** Where the log ends now: a follower started here sees exactly what is appended after. */
export async function endOf(f: RotatingFile): Promise<FollowPosition | undefined> {
  try {
    const st = await stat(f.path);
    return { ino: st.ino, offset: st.size };
  } catch (e) {
    if (isNodeError(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/**
 * Lines appended to a rotating log by any process, as they come. It watches the
 * directory (inotify), not the file, so a rotation (a rename) is seen: the rest of the
 * renamed file is read first, then the new one from its start. Nothing polls.
 */
export function followLines(
  f: RotatingFile,
  from: FollowPosition | undefined,
  onLines: (lines: string[]) => void,
  onError: (e: unknown) => void,
): Disposable {
  let pos = from;
  let carry = '';
  let disposed = false;
  let watcher: FSWatcher | undefined;
  let chain: Promise<void> = Promise.resolve();
  let queued = false;

  const readRange = async (path: string, start: number, end?: number): Promise<number> => {
    const fh = await open(path, 'r');
    try {
      const size = end ?? (await fh.stat()).size;
      if (size <= start) return start;
      const buf = Buffer.alloc(size - start);
      const { bytesRead } = await fh.read(buf, 0, buf.length, start);
      const text = carry + buf.toString('utf8', 0, bytesRead);
      const parts = text.split('\n');
      carry = parts.pop() ?? '';
      const lines = parts.filter((l) => l.length > 0);
      if (lines.length && !disposed) onLines(lines);
      return start + bytesRead;
    } finally {
      await fh.close();
    }
  };

  /** The rotated file that still is the inode we were reading, if it is kept. */
  const findRotated = async (ino: number): Promise<string | undefined> => {
    for (let i = 1; i <= f.keep; i++) {
      const p = rotatedPath(f, i);
      try {
        if ((await stat(p)).ino === ino) return p;
      } catch {
        // not there
      }
    }
    return undefined;
  };

  const pump = async () => {
    let st;
    try {
      st = await stat(f.path);
    } catch (e) {
      if (isNodeError(e, 'ENOENT')) return;
      throw e;
    }
    if (pos && pos.ino !== st.ino) {
      const old = await findRotated(pos.ino);
      if (old) await readRange(old, pos.offset);
      pos = { ino: st.ino, offset: 0 };
    }
    if (!pos) pos = { ino: st.ino, offset: 0 };
    if (st.size < pos.offset) pos = { ino: st.ino, offset: 0 }; // truncated by hand: start over
    pos = { ino: st.ino, offset: await readRange(f.path, pos.offset) };
  };

  const kick = () => {
    if (disposed || queued) return;
    queued = true;
    chain = chain
      .then(async () => {
        queued = false;
        if (!disposed) await pump();
      })
      .catch((e: unknown) => {
        if (!disposed) onError(e);
      });
  };

  const dir = dirname(f.path);
  const name = basename(f.path);
  mkdir(dir, { recursive: true })
    .then(() => {
      if (disposed) return;
      watcher = watch(dir, { persistent: false }, (_event, file) => {
        if (file === null || file.startsWith(name)) kick();
      });
      watcher.on('error', (e) => {
        if (!disposed) onError(e);
      });
      kick(); // anything appended between `from` and the watch
    })
    .catch((e: unknown) => onError(e));

  return {
    dispose() {
      disposed = true;
      watcher?.close();
    },
  };
}
