import type { EventRecord } from '../../../../shared/observability.js';
import type { EventLog } from '../event-log.js';
import type { Family, HistogramFamily } from './format.js';

/** Latency buckets, in seconds: a pause takes milliseconds, a VM import minutes. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;

interface Series {
  driver: string;
  operation: string;
  ok: number;
  errors: Map<string, number>;
  counts: number[];
  sum: number;
  count: number;
}

/**
 * Operation counters and latency histograms, per driver and operation, for EVERY NovaCron
 * process on this host (desktop, CLI, other servers), not just this one: they are read
 * from the shared event log, picking up at each scrape where the last one stopped.
 * Counting starts when the exporter does, as a Prometheus counter should.
 */
export class OpStats {
  private readonly series = new Map<string, Series>();
  private lastId: string | undefined;
  private started = false;

  constructor(private readonly events: EventLog) {}

  /** Remember where the log ends now; only later operations are counted. */
  async start(): Promise<void> {
    this.lastId = await this.events.newestId();
    this.started = true;
  }

  /** Count what was appended since the last call. */
  async update(signal?: AbortSignal): Promise<void> {
    if (!this.started) await this.start();
    const fresh = await this.events.since(this.lastId, signal);
    for (const r of fresh) this.add(r);
    const last = fresh.at(-1);
    if (last) this.lastId = last.id;
  }

  add(r: EventRecord): void {
    if (r.kind !== 'operation') return;
    const key = `${r.driver ?? ''}\u0000${r.method}`;
    let s = this.series.get(key);
    if (!s) {
      s = { driver: r.driver ?? '', operation: r.method, ok: 0, errors: new Map(), counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    if (r.result === 'ok') s.ok++;
    else s.errors.set(r.error?.code ?? 'INTERNAL', (s.errors.get(r.error?.code ?? 'INTERNAL') ?? 0) + 1);
    const sec = r.durationMs / 1000;
    const i = DURATION_BUCKETS.findIndex((le) => sec <= le);
    if (i >= 0) s.counts[i]!++;
    s.sum += sec;
    s.count++;
  }

  families(): [Family, HistogramFamily] {
    const total: Family = {
      name: 'novacron_operations_total',
      type: 'counter',
      help: 'Lifecycle operations by any NovaCron process on this host, by driver, operation and result (ok or the error code)',
      samples: [],
    };
    const hist: HistogramFamily = {
      name: 'novacron_operation_duration_seconds',
      type: 'histogram',
      help: 'How long lifecycle operations took, by driver and operation',
      buckets: DURATION_BUCKETS,
      series: [],
    };
    for (const s of this.series.values()) {
      const labels = { driver: s.driver, operation: s.operation };
      total.samples.push({ labels: { ...labels, result: 'ok' }, value: s.ok });
      for (const [code, n] of s.errors) total.samples.push({ labels: { ...labels, result: code }, value: n });
      hist.series.push({ labels, counts: s.counts, sum: s.sum, count: s.count });
    }
    return [total, hist];
  }
}
