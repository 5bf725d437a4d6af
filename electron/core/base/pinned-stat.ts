import type { Disposable } from './lifecycle.js';
import { PinnedFile, type PinnedSet } from './pinned.js';
import { parseStat, type ProcStat } from './procfs.js';

/**
 * A process's /proc/<pid>/stat kept open while it is watched (see pinned.ts): one pread
 * a second for its state, CPU time and RSS (a VM's QEMU, a process workload). Bound to
 * that very process, so a reused pid is never mistaken for it; undefined once it has ended.
 */
export class PinnedStat implements Disposable {
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
    const st = text === undefined ? undefined : parseStat(text);
    return st && st.startTicks === this.startTicks && st.state !== 'Z' && st.state !== 'X' ? st : undefined;
  }

  dispose(): void {
    this.file.dispose();
  }
}

/**
 * The stat of pid (started at startTicks) now, through `set` (keyed pid:startTicks):
 * opened on first use, kept while read, dropped once the process has ended.
 */
export function readPinnedStat(set: PinnedSet<PinnedStat>, pid: number, startTicks: number): ProcStat | undefined {
  const key = `${pid}:${startTicks}`;
  const st = set.get(key)?.read();
  if (st) return st;
  set.delete(key);
  const opened = PinnedStat.open(pid, startTicks);
  const now = opened?.read();
  if (opened && now) set.set(key, opened);
  else opened?.dispose();
  return now;
}
