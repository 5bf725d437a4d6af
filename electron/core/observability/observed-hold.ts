import type { DriverId } from '../../../shared/ids.js';
import type { WorkloadChange } from '../drivers/driver.js';

/** Observed changes wait this long, so an operation that caused one (here or in another NovaCron process) records it first. */
export const OBSERVED_GRACE_MS = 100;
/** However long an operation of ours runs, what a watcher saw meanwhile is written after this long. */
export const OBSERVED_MAX_HOLD_MS = 10_000;
/** A watcher reports what it read up to this long before (a listing reads its workloads one after another). */
export const OBSERVED_LAG_MS = 50;

interface Held {
  driver: DriverId;
  change: WorkloadChange;
  since: number;
  /** An operation of this process on its workload was running when it came: it waits for that one's end. */
  duringOp: boolean;
}

const workloadOf = (c: WorkloadChange): string | undefined => (c.type === 'upsert' ? c.info.id : c.type === 'removed' ? c.id : c.workloadId);

/**
 * What the drivers' watchers report, held back a moment before it becomes an event-log
 * record. A state change is usually the effect of one of our own operations: a watcher that
 * lists while a stop is under way sees the process gone before the stop returns and writes
 * its record. Written first, such a "stopped" is not recognised as what the stop's record
 * says, and the Events screen shows the same change twice. So a change waits:
 * - while an operation of this process on that workload (or a create on that driver) runs;
 *   then only its last state is kept, the states in between being the operation's doing;
 * - OBSERVED_GRACE_MS in any case, for an operation of another process (the CLI's start)
 *   to append its record, which the state's record is then compared with (the recorder
 *   also tells a state seen before that operation began from its effect: seenAt).
 * Order is kept per workload; a notice waits behind that workload's held states, and what
 * was seen before an operation began is written while it runs, before its record.
 */
export class ObservedHold {
  private readonly running = new Map<string, number>();
  private queue: Held[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly write: (driver: DriverId, change: WorkloadChange, seenAt: number) => void) {}

  /**
   * An operation began: on a workload (its id), or a create on a driver (no id yet). What
   * was seen of that workload before it is not its doing: it is written now, before the
   * operation's own record can be.
   */
  begin(key: string): void {
    const mine = (h: Held) => (key.startsWith('create:') ? `create:${h.driver}` === key : workloadOf(h.change) === key);
    const before = this.queue.filter(mine);
    if (before.length > 0) {
      this.queue = this.queue.filter((h) => !mine(h));
      // Written while the operation waits for its engine, not on its way there; end() writes them if it comes first.
      this.before.push(...before);
      this.beforeTimer ??= setImmediate(() => this.writeBefore());
    }
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
  }

  end(key: string): void {
    this.writeBefore();
    const n = (this.running.get(key) ?? 1) - 1;
    if (n > 0) this.running.set(key, n);
    else this.running.delete(key);
  }

  /** What was seen before operations began, not written yet: before any of their records. */
  private before: Held[] = [];
  private beforeTimer: NodeJS.Immediate | undefined;

  private writeBefore(): void {
    if (this.beforeTimer) clearImmediate(this.beforeTimer);
    this.beforeTimer = undefined;
    const before = this.before;
    this.before = [];
    for (const h of before) this.write(h.driver, h.change, h.since);
  }

  add(driver: DriverId, change: WorkloadChange): void {
    this.queue.push({ driver, change, since: Date.now(), duringOp: this.opRuns(driver, change) });
    this.timer ??= setTimeout(() => this.flush(false), OBSERVED_GRACE_MS).unref();
  }

  /** Write what may go now (all of it when `all`: the process is about to exit). */
  flush(all: boolean): void {
    this.timer = undefined;
    this.writeBefore(); // older than anything in the queue
    const now = Date.now();
    const blocked = new Set<string>();
    const ready: Held[] = [];
    const rest: Held[] = [];
    for (const h of this.queue) {
      const id = workloadOf(h.change);
      const wait =
        !all &&
        ((id !== undefined && blocked.has(id)) ||
          now - h.since < OBSERVED_GRACE_MS ||
          (h.duringOp && this.opRuns(h.driver, h.change) && now - h.since < OBSERVED_MAX_HOLD_MS));
      if (wait) {
        if (id !== undefined) blocked.add(id);
        rest.push(h);
      } else ready.push(h);
    }
    this.queue = rest;
    // Of the states seen of a workload during an operation of ours, the last one (a map, not a scan per item: a restarted engine reports every workload at once).
    const lastDuringOp = new Map<string | undefined, Held>();
    for (const h of ready) if (h.duringOp && h.change.type !== 'notice') lastDuringOp.set(workloadOf(h.change), h);
    for (const h of ready) {
      if (h.duringOp && h.change.type !== 'notice' && lastDuringOp.get(workloadOf(h.change)) !== h) continue;
      this.write(h.driver, h.change, h.since);
    }
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(false), OBSERVED_GRACE_MS).unref();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.writeBefore();
    this.flush(true);
  }

  private opRuns(driver: DriverId, change: WorkloadChange): boolean {
    if (change.type === 'notice') return false;
    const id = workloadOf(change);
    return (id !== undefined && this.running.has(id)) || this.running.has(`create:${driver}`);
  }
}
