import type { DriverManager } from '../../drivers/manager.js';
import type { EventLog } from '../event-log.js';
import type { Logger } from '../logger.js';
import { collect, toFamilies } from './collect.js';
import { render, type Family } from './format.js';
import { OpStats } from './op-stats.js';

/** Scrapes closer together than this (two Prometheus servers, say) share one collection. */
const REUSE_MS = 500;

/**
 * What `/metrics` answers: one collection pass (collect.ts) plus the operation counters
 * read from the event log. Concurrent scrapes share the pass in flight.
 */
export class MetricsExporter {
  private readonly ops: OpStats;
  private inflight: Promise<string> | undefined;
  private last: { at: number; text: string } | undefined;
  private scrapes = 0;

  constructor(
    private readonly drivers: DriverManager,
    events: EventLog,
    private readonly log: Logger,
    private readonly self: { version: string; eventLogWriteErrors: () => number },
  ) {
    this.ops = new OpStats(events);
  }

  /** Start counting operations from now. */
  start(): Promise<void> {
    return this.ops.start();
  }

  scrape(): Promise<string> {
    if (this.last && Date.now() - this.last.at < REUSE_MS) return Promise.resolve(this.last.text);
    this.inflight ??= this.run().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async run(): Promise<string> {
    const started = performance.now();
    const signal = AbortSignal.timeout(30_000);
    const [collected] = await Promise.all([collect(this.drivers, signal), this.ops.update(signal)]);
    this.scrapes++;
    const seconds = (performance.now() - started) / 1000;
    const selfFamilies: Family[] = [
      { name: 'novacron_build_info', type: 'gauge', help: 'NovaCron\'s version and the Node.js it runs on', samples: [{ labels: { version: this.self.version, node: process.version }, value: 1 }] },
      { name: 'novacron_scrape_duration_seconds', type: 'gauge', help: 'How long collecting this scrape took', samples: [{ labels: {}, value: Math.round(seconds * 1e6) / 1e6 }] },
      { name: 'novacron_scrapes_total', type: 'counter', help: 'Scrapes this server answered', samples: [{ labels: {}, value: this.scrapes }] },
      {
        name: 'novacron_event_log_write_errors_total',
        type: 'counter',
        help: 'Event log lines this process could not write',
        samples: [{ labels: {}, value: this.self.eventLogWriteErrors() }],
      },
    ];
    const text = render([...toFamilies(collected), ...this.ops.families(), ...selfFamilies]);
    this.log.debug({ durationMs: Math.round(seconds * 1000), workloads: collected.listed.reduce((n, l) => n + l.workloads.length, 0), sampled: collected.samples.size }, 'metrics scrape');
    this.last = { at: Date.now(), text };
    return text;
  }
}
