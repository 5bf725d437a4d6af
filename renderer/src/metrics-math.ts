import type { MetricsSample } from '../../shared/model.js';

/** The chart series of a run of samples: CPU %, memory, and per-second rates from the cumulative counters. */
export interface Series {
  /** Seconds since the epoch (uPlot's x). */
  t: number[];
  cpu: (number | null)[];
  mem: (number | null)[];
  memLimit: (number | null)[];
  diskRead: (number | null)[];
  diskWrite: (number | null)[];
  netRx: (number | null)[];
  netTx: (number | null)[];
}

type Counter = 'diskReadBytes' | 'diskWriteBytes' | 'netRxBytes' | 'netTxBytes';

/** A counter's rate between two samples; null across a gap, a reset (restart) or a missing value. */
function rateOf(prev: MetricsSample | undefined, cur: MetricsSample, k: Counter): number | null {
  const a = prev?.[k];
  const b = cur[k];
  if (prev === undefined || a === undefined || b === undefined) return null;
  const dt = (cur.ts - prev.ts) / 1000;
  if (dt <= 0 || dt > 10 || b < a) return null;
  return (b - a) / dt;
}

export function toSeries(samples: readonly MetricsSample[]): Series {
  const s: Series = { t: [], cpu: [], mem: [], memLimit: [], diskRead: [], diskWrite: [], netRx: [], netTx: [] };
  let prev: MetricsSample | undefined;
  for (const cur of samples) {
    s.t.push(cur.ts / 1000);
    s.cpu.push(cur.cpuPercent);
    s.mem.push(cur.memoryBytes);
    s.memLimit.push(cur.memoryLimitBytes ?? null);
    s.diskRead.push(rateOf(prev, cur, 'diskReadBytes'));
    s.diskWrite.push(rateOf(prev, cur, 'diskWriteBytes'));
    s.netRx.push(rateOf(prev, cur, 'netRxBytes'));
    s.netTx.push(rateOf(prev, cur, 'netTxBytes'));
    prev = cur;
  }
  return s;
}

/** Merge a pushed batch into kept samples: in time order, no duplicates, at most `keep`. */
export function mergeSamples(kept: readonly MetricsSample[], more: readonly MetricsSample[], keep = 600): MetricsSample[] {
  const last = kept.at(-1)?.ts ?? -Infinity;
  const fresh = more.filter((m) => m.ts > last);
  if (fresh.length === more.length || kept.length === 0) return [...kept, ...fresh].slice(-keep);
  // History re-sent after a reconnect overlaps: rebuild by time.
  const byTs = new Map<number, MetricsSample>();
  for (const m of [...kept, ...more]) byTs.set(m.ts, m);
  return [...byTs.values()].sort((a, b) => a.ts - b.ts).slice(-keep);
}
