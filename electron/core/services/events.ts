import type { CoreEvent } from '../../../shared/model.js';
import type { DriverId } from '../../../shared/ids.js';
import { Emitter, type Disposable, DisposableStore, interval, toDisposable } from '../base/lifecycle.js';
import type { DriverManager } from '../drivers/manager.js';
import type { Driver, WorkloadChange } from '../drivers/driver.js';

/** How often drivers that could not be watched (their engine was down) are tried again. */
const RECHECK_MS = 2_000;
/**
 * How often a driver whose software is not installed (Kata on Debian) is looked for again:
 * its detection (a search of PATH, some 1 ms of CPU) would otherwise run every few
 * seconds for as long as anyone watches, and installing it is rare.
 */
export const ABSENT_RECHECK_MS = 60_000;

/**
 * The core's event stream. Local operations publish here at once; drivers' own watchers
 * (engine events, or one timer per driver for what pushes nothing) run only while
 * somebody is subscribed, and stop when the last one leaves.
 */
export class EventService implements Disposable {
  private readonly emitter = new Emitter<CoreEvent>();
  private readonly observed = new Emitter<{ driver: DriverId; change: WorkloadChange }>();
  /** Changes the drivers reported by themselves (the event log records these; see observability/). */
  readonly onDidObserve = this.observed.event;
  private watchers: DisposableStore | undefined;
  private subscribers = 0;

  constructor(private readonly drivers: DriverManager) {}

  publish(e: CoreEvent): void {
    this.emitter.fire(e);
  }

  subscribe(listener: (e: CoreEvent) => void): Disposable {
    const sub = this.emitter.event(listener);
    if (this.subscribers++ === 0) this.startWatching();
    return toDisposable(() => {
      sub.dispose();
      if (--this.subscribers === 0) this.stopWatching();
    });
  }

  private startWatching(): void {
    const store = new DisposableStore();
    this.watchers = store;
    const attached = new Set<DriverId>();
    const attach = (d: Driver) => {
      if (!d.watch || store.isDisposed || attached.has(d.id)) return;
      attached.add(d.id);
      store.add(
        d.watch((c) => {
          this.observed.fire({ driver: d.id, change: c });
          this.publish(toEvent(d.id, c));
        }),
      );
    };
    void this.drivers.available().then(({ drivers }) => drivers.forEach(attach), () => undefined);
    // A driver whose engine was down when watching began is watched as soon as the engine answers
    // (a watcher, once started, reports its engine going and coming back by itself).
    const absentSince = new Map<DriverId, number>();
    store.add(
      interval(RECHECK_MS, () => {
        const now = Date.now();
        for (const id of this.drivers.ids) {
          const d = this.drivers.cached(id);
          if (!d?.watch || attached.has(id)) continue;
          const absent = absentSince.get(id);
          if (absent !== undefined && now - absent < ABSENT_RECHECK_MS) continue;
          // An engine that is down (not one that is not installed) is asked afresh, past the detection cache.
          void this.drivers
            .detect(id, absent !== undefined)
            .then((det) => (det.available || det.absent ? det : this.drivers.detect(id, true)))
            .then((det) => {
              if (det.absent) absentSince.set(id, Date.now());
              else absentSince.delete(id);
              if (det.available) attach(d);
            }, () => undefined);
        }
      }),
    );
  }

  private stopWatching(): void {
    this.watchers?.dispose();
    this.watchers = undefined;
  }

  dispose(): void {
    this.stopWatching();
    this.emitter.dispose();
    this.observed.dispose();
  }
}

function toEvent(driver: DriverId, c: WorkloadChange): CoreEvent {
  switch (c.type) {
    case 'upsert':
      return { type: 'workload', info: c.info };
    case 'removed':
      return { type: 'workload-removed', id: c.id };
    case 'notice':
      return {
        type: 'notice',
        level: c.level,
        message: c.message.startsWith(`${driver}:`) ? c.message : `${driver}: ${c.message}`,
        ...(c.workloadId ? { workloadId: c.workloadId } : {}),
        at: new Date().toISOString(),
      };
  }
}
