import type { Disposable } from './lifecycle.js';
import { PinnedFile, type PinnedSet } from './pinned.js';
import { parseStat, type ProcStat } from './procfs.js';

/**
 * A process's /proc/<pid>/stat kept open while it is watched (see pinned.ts): one pread
 * a second for its state, CPU time and RSS (a VM's QEMU, a process workload). Bound to
 * that very process, so a reused pid is never mistaken for it; undefined once it has ended.
 */
export class PinnedStat implements Disposable {
  /** The last read that found the process, and when: a listing may take it instead of reading again. */
  private last: { at: number; st: ProcStat } | undefined;

  private constructor(
    readonly pid: number,
    readonly startTicks: number,
    private readonly file: PinnedFile,
  ) {}

  /** Undefined unless pid is alive and started at startTicks. */
  static open(pid: number, startTicks: number): PinnedStat | undefined {
    const file = PinnedFile.open(`/proc/${pid}/stat`);
    const q = file && new PinnedStat(pid, startTicks, file);
    if (q && q.read()) return q;
    file?.dispose();
    return undefined;
  }

  /** The process's counters now; undefined once it has ended (or is a zombie). */
  read(): ProcStat | undefined {
    const text = this.file.read();
    const parsed = text === undefined ? undefined : parseStat(text);
    const st = parsed && parsed.startTicks === this.startTicks && parsed.state !== 'Z' && parsed.state !== 'X' ? parsed : undefined;
    this.last = st && { at: Date.now(), st };
    return st;
  }

  /** The last read if it is less than maxAgeMs old (0: never), else a read now. */
  recent(maxAgeMs: number): ProcStat | undefined {
    const last = this.last;
    return last && Date.now() - last.at < maxAgeMs ? last.st : this.read();
  }

  dispose(): void {
    this.file.dispose();
  }
}

/**
 * The stat of pid (started at startTicks) now, through `set` (keyed pid:startTicks):
 * opened on first use, kept while read, dropped once the process has ended. maxAgeMs: a
 * read of it younger than that, made through the set by anyone, will do (the process
 * driver's listing takes the one its metrics made this second: one read, not two).
 */
export function readPinnedStat(set: PinnedSet<PinnedStat>, pid: number, startTicks: number, maxAgeMs = 0): ProcStat | undefined {
  const key = `${pid}:${startTicks}`;
  const st = set.get(key)?.recent(maxAgeMs);
  if (st) return st;
  set.delete(key);
  const opened = PinnedStat.open(pid, startTicks);
  const now = opened?.read();
  if (opened && now) set.set(key, opened);
  else opened?.dispose();
  return now;
}
