import { closeSync, openSync, readSync } from 'node:fs';
import type { Disposable } from './lifecycle.js';

/**
 * Counters read every second (/proc/<pid>/*, cgroup files) are kept open and re-read
 * from offset 0: one pread each time instead of open, fstat, read and close through the
 * thread pool, which costs some 30 times more CPU. These files live in memory (procfs,
 * cgroupfs) and never block, so the read is synchronous.
 *
 * An open /proc/<pid> file is bound to that very process: once it has ended, reads fail
 * (ESRCH) even if the kernel has given its pid to another one. A cgroup file whose group
 * was removed fails likewise (ENODEV). Either way read() answers undefined, and the
 * owner looks the workload up again.
 */
const scratch = Buffer.allocUnsafe(64 * 1024);

export class PinnedFile implements Disposable {
  private constructor(
    readonly path: string,
    private fd: number | undefined,
  ) {}

  /** Opens the file; undefined when it is not there (or not readable). */
  static open(path: string): PinnedFile | undefined {
    try {
      return new PinnedFile(path, openSync(path, 'r'));
    } catch {
      return undefined;
    }
  }

  /** The file's text now, or undefined once it is gone. */
  read(): string | undefined {
    if (this.fd === undefined) return undefined;
    try {
      let n = readSync(this.fd, scratch, 0, scratch.length, 0);
      if (n < scratch.length) return scratch.toString('latin1', 0, n);
      // Larger than the scratch buffer (never seen for these files): read the rest too.
      const parts = [Buffer.from(scratch)];
      for (let off = n; n > 0; off += n) {
        const b = Buffer.allocUnsafe(scratch.length);
        n = readSync(this.fd, b, 0, b.length, off);
        parts.push(b.subarray(0, n));
      }
      return Buffer.concat(parts).toString('latin1');
    } catch {
      return undefined;
    }
  }

  dispose(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Pinned files per workload, kept while they are read and closed once nobody has asked
 * for a while (the metrics service stops calling when nobody watches). Checked on use,
 * so it needs no timer of its own.
 */
export class PinnedSet<T extends Disposable> implements Disposable {
  private readonly entries = new Map<string, { value: T; used: number }>();
  private lastSweep = Date.now();

  constructor(private readonly idleMs = 30_000) {}

  get(key: string): T | undefined {
    this.sweep();
    const e = this.entries.get(key);
    if (!e) return undefined;
    e.used = Date.now();
    return e.value;
  }

  set(key: string, value: T): T {
    this.delete(key);
    this.entries.set(key, { value, used: Date.now() });
    return value;
  }

  delete(key: string): void {
    this.entries.get(key)?.value.dispose();
    this.entries.delete(key);
  }

  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < this.idleMs / 2) return;
    this.lastSweep = now;
    for (const [k, e] of this.entries) if (now - e.used > this.idleMs) this.delete(k);
  }

  dispose(): void {
    for (const e of this.entries.values()) e.value.dispose();
    this.entries.clear();
  }
}
