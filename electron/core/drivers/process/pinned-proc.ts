import type { Disposable } from '../../base/lifecycle.js';
import { PinnedFile } from '../../base/pinned.js';
import { PinnedStat } from '../../base/pinned-stat.js';
import { CLK_TCK, PAGE_SIZE } from '../../base/procfs.js';
import type { RawSample } from '../driver.js';

const field = (text: string, key: string) => {
  const at = text.indexOf(`${key}: `);
  return at < 0 ? undefined : Number.parseInt(text.slice(at + key.length + 2), 10);
};

/**
 * A watched process's /proc/<pid>/stat (a PinnedStat: bound to that very process, so a
 * reused pid can never be mistaken for it) and io, kept open; once it has ended,
 * sample() is undefined.
 */
export class PinnedProc implements Disposable {
  private constructor(
    private readonly stat: PinnedStat,
    private readonly io: PinnedFile | undefined,
  ) {}

  /** Undefined unless pid is alive and started at startTicks. */
  static open(pid: number, startTicks: number): PinnedProc | undefined {
    const stat = PinnedStat.open(pid, startTicks);
    // /proc/<pid>/io is root-or-owner only; without it there are no disk counters.
    return stat && new PinnedProc(stat, PinnedFile.open(`/proc/${pid}/io`));
  }

  sample(): RawSample | undefined {
    const st = this.stat.read();
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

  dispose(): void {
    this.stat.dispose();
    this.io?.dispose();
  }
}
