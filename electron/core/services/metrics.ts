import { setMaxListeners } from 'node:events';
import type { MetricsSample } from '../../../shared/model.js';
import { parseWorkloadId, type DriverId } from '../../../shared/ids.js';
import { type Disposable, interval, toDisposable } from '../base/lifecycle.js';
import { NovaError } from '../base/errors.js';
import type { Driver, RawSample } from '../drivers/driver.js';
import type { DriverManager } from '../drivers/manager.js';

/** Ten minutes of one-second samples per watched workload. */
export const HISTORY = 600;

class Ring<T> {
  private buf: T[] = [];
  private head = 0;
  constructor(private readonly size: number) {}
  push(v: T) {
    if (this.buf.length < this.size) this.buf.push(v);
    else {
      this.buf[this.head] = v;
      this.head = (this.head + 1) % this.size;
    }
  }
  toArray(): T[] {
    return [...this.buf.slice(this.head), ...this.buf.slice(0, this.head)];
  }
}

interface Watched {
  listeners: Set<(s: MetricsSample[]) => void>;
  history: Ring<MetricsSample>;
  prev?: RawSample;
  /** The driver's own stream, for drivers that push samples; such workloads skip the tick. */
  push?: Disposable;
  /** Kept a while after the last watcher leaves, so reopening a tab shows the past. */
  idleSince?: number;
  /**
   * Its driver, once resolved: asked of the manager once, not every tick. The manager's
   * require() re-runs the driver's detection every few seconds (docker's /info is costly
   * for dockerd), and a driver whose engine went away just fails its reads meanwhile.
   */
  source?: { driver: Driver; local: string };
}

/** How long a tick waits for its slowest readings before it delivers the ones it has. */
export const GATHER_MS = 250;

/** How long a workload nobody watches keeps its history before it is dropped. */
const KEEP_IDLE_MS = 10 * 60_000;

/** CPU% from two cumulative samples, as `docker stats` does: 100% = one core. */
export function cpuPercent(prev: RawSample | undefined, cur: RawSample): number {
  if (cur.cpuPercent !== undefined) return cur.cpuPercent;
  if (!prev || prev.cpuNs === undefined || cur.cpuNs === undefined) return 0;
  const dt = cur.ts - prev.ts;
  const dcpu = cur.cpuNs - prev.cpuNs;
  if (dt <= 0 || dcpu < 0) return 0;
  return Math.round(((dcpu / 1e6 / dt) * 100) * 10) / 10;
}

export function toSample(prev: RawSample | undefined, cur: RawSample): MetricsSample {
  const { cpuNs: _cpuNs, ...rest } = cur;
  return { ...rest, cpuPercent: cpuPercent(prev, cur) };
}

/**
 * Samples only what someone watches, with ONE timer for all of them; one sampler per
 * workload is shared by every watcher of it.
 */
export class MetricsService implements Disposable {
  private readonly watched = new Map<string, Watched>();
  private timer: Disposable | undefined;
  private ticking = false;

  constructor(private readonly drivers: DriverManager) {}

  watch(id: string, listener: (s: MetricsSample[]) => void): Disposable {
    let w = this.watched.get(id);
    if (!w) {
      w = { listeners: new Set(), history: new Ring(HISTORY) };
      this.watched.set(id, w);
    }
    delete w.idleSince;
    w.listeners.add(listener);
    const past = w.history.toArray();
    if (past.length) listener(past);
    this.timer ??= interval(1000, () => void this.tick());
    if (w.listeners.size === 1) void this.begin(id, w);
    const entry = w;
    return toDisposable(() => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) {
        entry.idleSince = Date.now();
        entry.push?.dispose();
        delete entry.push;
      }
    });
  }

  /** First watcher: open the driver's push stream if it has one, else take a first reading. */
  private async begin(id: string, w: Watched): Promise<void> {
    const ref = parseWorkloadId(id);
    const driver = ref ? await this.drivers.require(ref.driver, 'metrics').catch(() => undefined) : undefined;
    if (!ref || !driver) return;
    w.source = { driver, local: ref.local };
    if (driver.watchMetrics) {
      if (w.push || w.listeners.size === 0) return;
      const push = driver.watchMetrics(ref.local, (cur) => this.record(w, cur), () => undefined);
      if (push) {
        w.push = push;
        return;
      }
    }
    if (!w.prev) await this.sampleOne(id, w);
  }

  private record(w: Watched, cur: RawSample): void {
    const sample = this.advance(w, cur);
    if (sample) this.deliver(w, sample);
  }

  /** The sample a reading makes, from the one before it; undefined for a first reading that only primes the CPU delta. */
  private advance(w: Watched, cur: RawSample): MetricsSample | undefined {
    const prev = w.prev;
    w.prev = cur;
    // The first reading only primes the CPU delta, unless the driver gives a rate itself.
    if (prev === undefined && cur.cpuPercent === undefined) return undefined;
    return toSample(prev, cur);
  }

  /** Into the history and to the watchers together, so a watcher who joins meanwhile never gets it twice. */
  private deliver(w: Watched, sample: MetricsSample): void {
    w.history.push(sample);
    for (const l of w.listeners) l([sample]);
  }

  /** One sample now, for `novacron stats`: two readings half a second apart give a CPU rate. */
  async once(id: string, signal: AbortSignal): Promise<MetricsSample> {
    const w = this.watched.get(id);
    if (w && w.listeners.size) {
      const last = w.history.toArray().at(-1);
      if (last) return last;
    }
    const read = await this.reader(id);
    const a = await read(signal);
    if (a.cpuPercent !== undefined) return toSample(undefined, a);
    await new Promise((r) => setTimeout(r, 500));
    return toSample(a, await read(signal));
  }

  private async resolve(id: string, drivers?: Map<DriverId, Promise<Driver>>): Promise<{ driver: Driver; local: string }> {
    const ref = parseWorkloadId(id);
    if (!ref) throw new NovaError('INVALID_ARGUMENT', `id: '${id}' is not a workload id`, { field: 'id' });
    let driver = drivers?.get(ref.driver);
    if (!driver) {
      driver = this.drivers.require(ref.driver, 'metrics');
      drivers?.set(ref.driver, driver);
    }
    return { driver: await driver, local: ref.local };
  }

  private async reader(id: string) {
    const { driver, local } = await this.resolve(id);
    return (signal: AbortSignal) => driver.metrics!(local, signal);
  }

  /** A first reading, outside the ticks. */
  private async sampleOne(id: string, w: Watched): Promise<void> {
    const cur = await this.read(id, w, AbortSignal.timeout(5000));
    if (cur) this.record(w, cur);
  }

  /** drivers: what this tick already resolved, so a tick asks each driver once, not once per workload. */
  private async read(id: string, w: Watched, signal: AbortSignal, drivers?: Map<DriverId, Promise<Driver>>): Promise<RawSample | undefined> {
    try {
      const { driver, local } = (w.source ??= await this.resolve(id, drivers));
      return await driver.metrics!(local, signal);
    } catch {
      // The workload is gone or its engine is down: the event stream says so; metrics just pause.
      return undefined;
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = Date.now();
      for (const [id, w] of this.watched) {
        if (w.idleSince !== undefined && now - w.idleSince > KEEP_IDLE_MS) this.watched.delete(id);
      }
      const active = [...this.watched].filter(([, w]) => w.listeners.size > 0 && !w.push);
      if (active.length === 0 && this.watched.size === 0) {
        this.timer?.dispose();
        this.timer = undefined;
        return;
      }
      // One deadline for the whole tick, not a timer per workload; every sample listens to it.
      const signal = AbortSignal.timeout(5000);
      setMaxListeners(0, signal);
      const drivers = new Map<DriverId, Promise<Driver>>();
      // The tick's samples go to the watchers together, in one turn of the event loop (so over a
      // WebSocket they leave as one frame), not each as its reading ends: a VM's comes a QMP round
      // trip after the files read at once. A reading slower than GATHER_MS does not hold the rest back.
      const ready: [Watched, MetricsSample][] = [];
      let gathering = true;
      const all = Promise.all(
        active.map(([id, w]) =>
          this.read(id, w, signal, drivers).then((cur) => {
            const sample = cur && this.advance(w, cur);
            if (!sample) return;
            if (gathering) ready.push([w, sample]);
            else this.deliver(w, sample);
          }),
        ),
      );
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, GATHER_MS)))]);
      clearTimeout(timer);
      gathering = false;
      for (const [w, sample] of ready) this.deliver(w, sample);
      await all;
    } finally {
      this.ticking = false;
    }
  }

  dispose(): void {
    this.timer?.dispose();
    for (const w of this.watched.values()) w.push?.dispose();
    this.watched.clear();
  }
}
