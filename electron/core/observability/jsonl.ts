import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmdirSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isNodeError } from '../base/errors.js';
import type { Disposable } from '../base/lifecycle.js';

/**
 * A JSON-lines file that any number of NovaCron processes append to at once, rotated by
 * size. Why it holds up:
 *  - every line leaves in ONE write(2) on an O_APPEND descriptor, so lines of different
 *    processes never interleave, and a writer killed with -9 leaves its last line whole
 *    or, rarely, cut short; readers drop a cut line, and recover a whole line another
 *    writer glued onto one (see parseRecoverable);
 *  - rotation renames under a short cross-process lock; a writer whose file was renamed
 *    under it notices (inode changed) before its next line and reopens. A line written in
 *    that instant lands at the end of the rotated file: out of place, never lost.
 * Writes are synchronous: a line is in the kernel when append() returns, so a crash of
 * this process right after loses nothing (a power cut may; nothing is fsynced per line).
 */
export interface RotatingFile {
  path: string;
  /** Rotate once the current file reaches this size. */
  maxBytes: number;
  /** How many rotated files (path.1 … path.N) to keep. */
  keep: number;
}

export const rotatedPath = (f: RotatingFile, i: number) => (i === 0 ? f.path : `${f.path}.${i}`);

/** Every file of the log, oldest first. */
export function logFiles(f: RotatingFile): string[] {
  const out: string[] = [];
  for (let i = f.keep; i >= 0; i--) out.push(rotatedPath(f, i));
  return out;
}

const LOCK_STALE_MS = 2_000;
const LOCK_WAIT_MS = 1_000;
const napCell = new Int32Array(new SharedArrayBuffer(4));
const nap = (ms: number) => Atomics.wait(napCell, 0, 0, ms);

/**
 * A tiny cross-process lock for a few synchronous file operations (mkdir is atomic).
 * Held for microseconds, so one left by a killed process is stale after two seconds.
 */
export function withFileLockSync<T>(lockDir: string, fn: () => T): T {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let held = false;
  while (!held) {
    try {
      mkdirSync(lockDir);
      held = true;
    } catch (e) {
      if (!isNodeError(e, 'EEXIST')) throw e;
      const age = (() => {
        try {
          return Date.now() - statSync(lockDir).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if (age > LOCK_STALE_MS) {
        try {
          rmdirSync(lockDir);
        } catch {
          // someone else cleared it first
        }
        continue;
      }
      // Better a rotation done twice than a line never written: go on unlocked.
      if (Date.now() > deadline) break;
      nap(2);
    }
  }
  try {
    return fn();
  } finally {
    if (held) {
      try {
        rmdirSync(lockDir);
      } catch {
        // already cleared as stale: nothing to release
      }
    }
  }
}

export class JsonlAppender implements Disposable {
  private fd: number | undefined;
  private ino: number | undefined;
  private readonly lockDir: string;

  constructor(
    readonly file: RotatingFile,
    /** Last word on every line before it is written: removes secrets. */
    private readonly scrub: (line: string) => string = (l) => l,
  ) {
    this.lockDir = `${file.path}.lock`;
  }

  /** Append one line (a trailing newline is added); throws when the disk refuses. */
  append(line: string): void {
    const size = this.writeLine(line);
    if (size >= this.file.maxBytes) this.rotate();
  }

  /**
   * Append unless `skip` says the recent lines already hold it, deciding under the
   * lock so two processes seeing the same change write it once.
   */
  appendUnless(line: string, skip: (recentNewestFirst: Iterable<string>) => boolean): boolean {
    const written = withFileLockSync(this.lockDir, () => {
      if (skip(tailLines(this.file.path, 64 * 1024))) return false;
      this.writeLine(line);
      return true;
    });
    if (written) this.maybeRotate();
    return written;
  }

  /** pino's destination interface: whole lines, already ending in '\n'. */
  write(chunk: string): boolean {
    this.append(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk);
    return true;
  }

  /** Writes the line; answers the file's size after it (give or take what other processes appended meanwhile). */
  private writeLine(line: string): number {
    const { fd, size } = this.current();
    const buf = Buffer.from(`${this.scrub(line.replace(/\n/g, '\\n'))}\n`, 'utf8');
    const n = writeSync(fd, buf);
    if (n !== buf.length) throw new Error(`${this.file.path}: short write (${n} of ${buf.length} bytes)`);
    // The size only decides when to rotate: the one seen just before the write serves, without another fstat.
    return size + n;
  }

  /** The descriptor of the file now at the path (reopened when another process rotated it), and its size. */
  private current(): { fd: number; size: number } {
    let st;
    try {
      st = statSync(this.file.path);
    } catch (e) {
      if (!isNodeError(e, 'ENOENT')) throw e;
    }
    if (this.fd !== undefined && st && st.ino === this.ino) return { fd: this.fd, size: st.size };
    this.closeFd();
    mkdirSync(dirname(this.file.path), { recursive: true });
    this.fd = openSync(this.file.path, 'a', 0o600);
    const now = fstatSync(this.fd);
    this.ino = now.ino;
    return { fd: this.fd, size: now.size };
  }

  private maybeRotate(): void {
    try {
      if (statSync(this.file.path).size >= this.file.maxBytes) this.rotate();
    } catch (e) {
      if (!isNodeError(e, 'ENOENT')) throw e;
    }
  }

  private rotate(): void {
    withFileLockSync(this.lockDir, () => {
      // Another process may have rotated while we waited: look again under the lock.
      let size: number;
      try {
        size = statSync(this.file.path).size;
      } catch {
        return;
      }
      if (size < this.file.maxBytes) return;
      for (let i = this.file.keep - 1; i >= 1; i--) {
        try {
          renameSync(rotatedPath(this.file, i), rotatedPath(this.file, i + 1));
        } catch (e) {
          if (!isNodeError(e, 'ENOENT')) throw e;
        }
      }
      renameSync(this.file.path, this.file.keep >= 1 ? rotatedPath(this.file, 1) : `${this.file.path}.old`);
    });
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.ino = undefined;
  }

  dispose(): void {
    this.closeFd();
  }
}

/** Tail chunks: the newest lines are usually all a caller reads, so the first read is small. */
const TAIL_FIRST_CHUNK = 8 * 1024;

/**
 * The lines of the last `bytes` of the file, newest first (a first line the window cuts is
 * dropped), read backwards as they are asked for: 8 KiB, then the rest. Deciding whether a
 * change is news, or finding a workload's name, usually takes a few lines.
 */
export function* tailLines(path: string, bytes: number): Generator<string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if (isNodeError(e, 'ENOENT')) return;
    throw e;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - bytes);
    let end = size;
    /** The part of a line that began before the chunk just read: it waits for the chunk before. */
    let carry = Buffer.alloc(0);
    for (let chunk = TAIL_FIRST_CHUNK; end > start; chunk = bytes) {
      const from = Math.max(start, end - chunk);
      const buf = Buffer.alloc(end - from);
      readSync(fd, buf, 0, buf.length, from);
      const data = carry.length ? Buffer.concat([buf, carry]) : buf;
      end = from;
      let whole = data;
      carry = Buffer.alloc(0);
      // Not yet at the window's start, or the window begins mid-file (its first line is cut: dropped).
      if (from > start || start > 0) {
        const nl = data.indexOf(10);
        if (from > start) carry = nl < 0 ? data : data.subarray(0, nl);
        whole = nl < 0 ? Buffer.alloc(0) : data.subarray(nl + 1);
      }
      const lines = whole.toString('utf8').split('\n');
      for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.length > 0) yield lines[i]!;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Parse one line. A writer killed mid-line leaves a fragment without its newline, and the
 * next writer's whole line is glued to it: that line starts at a later `{"<firstKey>":`,
 * which cannot occur unescaped inside a JSON string, so it is found and kept.
 */
export function parseRecoverable<T>(line: string, firstKey: string): T | undefined {
  const tryParse = (s: string): T | undefined => {
    try {
      const v = JSON.parse(s) as unknown;
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as T) : undefined;
    } catch {
      return undefined;
    }
  };
  const whole = tryParse(line);
  if (whole !== undefined) return whole;
  const marker = `{"${firstKey}":`;
  for (let at = line.indexOf(marker, 1); at > 0; at = line.indexOf(marker, at + 1)) {
    const v = tryParse(line.slice(at));
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * Every line of the log, newest first, reading each file backwards in chunks: the last N
 * records cost a read of their own size, not of the whole log.
 */
export async function* readLinesBackward(f: RotatingFile, signal?: AbortSignal): AsyncGenerator<string> {
  const chunk = 64 * 1024;
  for (const path of logFiles(f).reverse()) {
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      if (isNodeError(e, 'ENOENT')) continue;
      throw e;
    }
    try {
      let pos = (await fh.stat()).size;
      let carry: Buffer = Buffer.alloc(0);
      while (pos > 0) {
        signal?.throwIfAborted();
        const len = Math.min(chunk, pos);
        pos -= len;
        const buf = Buffer.alloc(len + carry.length);
        await fh.read(buf, 0, len, pos);
        carry.copy(buf, len);
        // Split on raw newlines so a multi-byte character cut by the chunk edge is kept whole.
        let end = buf.length;
        for (let i = buf.length - 1; i >= 0; i--) {
          if (buf[i] !== 0x0a) continue;
          if (i + 1 < end) yield buf.toString('utf8', i + 1, end);
          end = i;
        }
        carry = buf.subarray(0, end);
      }
      if (carry.length) yield carry.toString('utf8');
    } finally {
      await fh.close();
    }
  }
}
