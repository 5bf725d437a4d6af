import type { Disposable } from '../../base/lifecycle.js';
import { PinnedFile, type PinnedSet } from '../../base/pinned.js';
import { readPinnedStat, type PinnedStat } from '../../base/pinned-stat.js';
import { CLK_TCK, PAGE_SIZE } from '../../base/procfs.js';
import type { RawSample } from '../driver.js';

const field = (text: string, key: string) => {
  const at = text.indexOf(`${key}: `);
  return at < 0 ? undefined : Number.parseInt(text.slice(at + key.length + 2), 10);
};

/**
 * A watched process's /proc/<pid>/stat and io, kept open; once it has ended, sample() is
 * undefined. The stat is a PinnedStat (bound to that very process, so a reused pid can
 * never be mistaken for it) taken from `stats`, the set the driver's listing reads too,
 * so the listing can use this second's read instead of making its own.
 */
export class PinnedProc implements Disposable {
  private constructor(
    private readonly pid: number,
    private readonly startTicks: number,
    private readonly stats: PinnedSet<PinnedStat>,
    private readonly io: PinnedFile | undefined,
  ) {}

  /** Undefined unless pid is alive and started at startTicks. */
  static open(pid: number, startTicks: number, stats: PinnedSet<PinnedStat>): PinnedProc | undefined {
    if (!readPinnedStat(stats, pid, startTicks)) return undefined;
    // /proc/<pid>/io is root-or-owner only; without it there are no disk counters.
    return new PinnedProc(pid, startTicks, stats, PinnedFile.open(`/proc/${pid}/io`));
  }

  sample(): RawSample | undefined {
    // Read now (never an older read): the sample's time must be the counters' time.
    const st = readPinnedStat(this.stats, this.pid, this.startTicks);
    if (st === undefined) return undefined;
    const io = this.io?.read();
    const read = io === undefined ? undefined : field(io, 'read_bytes');
    const write = io === undefined ? undefined : field(io, 'write_bytes');
    return {
      ts: Date.now(),
      cpuNs: ((st.utimeTicks + st.stimeTicks) * 1e9) / CLK_TCK,
      memoryBytes: st.rssPages * PAGE_SIZE,
      ...(read !== undefined && write !== undefined ? { diskReadBytes: read, diskWriteBytes: write } : {}),
      source: 'procfs',
    };
  }

  /** The stat stays in `stats`, whose owner closes it once nobody reads it. */
  dispose(): void {
    this.io?.dispose();
  }
}
