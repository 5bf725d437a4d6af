import type { MethodName } from '../../../shared/contract/index.js';
import { parseWorkloadId } from '../../../shared/ids.js';
import type { WorkloadInfo, WorkloadState } from '../../../shared/model.js';
import type { EventRecord, OperationRecord } from '../../../shared/observability.js';
import type { CallRecord } from '../api/router.js';
import type { DriverId } from '../../../shared/ids.js';
import type { WorkloadChange } from '../drivers/driver.js';
import type { EventLog, NewRecord } from './event-log.js';
import type { Logger } from './logger.js';
import { OBSERVED_LAG_MS, ObservedHold } from './observed-hold.js';

/** The lifecycle operations the event log records; reads (list, inspect, stats…) are only logged at debug. */
export const RECORDED_METHODS: ReadonlySet<MethodName> = new Set<MethodName>([
  'workloads.create',
  'workloads.start',
  'workloads.stop',
  'workloads.restart',
  'workloads.pause',
  'workloads.resume',
  'workloads.delete',
  'workloads.scale',
  'workloads.migrate',
  'workloads.convert',
  'snapshots.create',
  'snapshots.revert',
  'snapshots.delete',
  'images.import',
  'images.delete',
  'config.set',
  'vnc.save',
  'vnc.delete',
]);

/** Notices repeated by several processes within this long are one notice. */
const NOTICE_DEDUP_MS = 30_000;

const isWorkloadInfo = (v: unknown): v is WorkloadInfo =>
  typeof v === 'object' && v !== null && typeof (v as WorkloadInfo).id === 'string' && typeof (v as WorkloadInfo).state === 'string' && typeof (v as WorkloadInfo).name === 'string';

type Input = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** What else an operation named, for the log line: never a full input (env, secrets). */
function targetOf(method: MethodName, input: Input): string | undefined {
  switch (method) {
    case 'snapshots.create':
    case 'snapshots.revert':
    case 'snapshots.delete':
      return str(input.name);
    case 'images.import':
      return str(input.name);
    case 'images.delete':
      return str(input.ref);
    case 'workloads.migrate':
      return str(input.to);
    case 'workloads.convert':
      return typeof input.to === 'string' ? `to ${input.to}` : undefined;
    case 'workloads.scale':
      return [typeof input.memoryMB === 'number' ? `memory ${input.memoryMB} MiB` : '', typeof input.cpus === 'number' ? `cpus ${input.cpus}` : ''].filter(Boolean).join(', ');
    case 'vnc.save':
      return str(input.label);
    case 'config.set':
      return Object.keys((input.values as Record<string, unknown> | undefined) ?? {}).join(', ');
    default:
      return undefined;
  }
}

/**
 * Whether the log already says the state a watcher saw at seenAt (its records of the
 * workload, newest first). Said by the latest record; or, when that record is of an
 * operation that may have begun after the watcher read the workload (another process's
 * start landing within the grace, say), by the record before that operation: the state
 * seen is then the one the operation began from, and written after its record it would
 * read as a change that followed it. Only another process's operation is looked past this
 * way (`own` tells this process's records): the hold orders what was seen around our own.
 */
export function alreadySaid(records: Iterable<EventRecord>, state: WorkloadState | 'removed', seenAt: number, own: (r: EventRecord) => boolean): boolean {
  let began: number | undefined;
  for (const r of records) {
    if (began === undefined) {
      if (stateOf(r) === state) return true;
      // Our own operations order what was seen around them themselves (ObservedHold).
      if (r.kind !== 'operation' || own(r)) return false;
      began = Date.parse(r.ts) - r.durationMs;
      if (seenAt - OBSERVED_LAG_MS >= began) return false;
    } else if (Date.parse(r.ts) <= began) {
      return stateOf(r) === state;
    }
  }
  return false;
}

/**
 * Turns what the core does into the event log and the structured log: every call the
 * router answers (a lifecycle operation becomes a record with who, what, result and
 * duration), and every change a driver reports by itself.
 */
export class Recorder {
  /** Names of workloads seen lately, so a delete can say what it deleted. */
  private readonly names = new Map<string, string>();
  private readonly hold = new ObservedHold((driver, change, seenAt) => this.writeObserved(driver, change, seenAt));
  writeErrors = 0;

  constructor(
    private readonly events: EventLog,
    private readonly log: Logger,
  ) {}

  private learn(w: WorkloadInfo): void {
    if (this.names.size > 10_000) this.names.clear();
    this.names.set(w.id, w.name);
  }

  private learnFrom(value: unknown): void {
    if (isWorkloadInfo(value)) this.learn(value);
    const list = (value as { workloads?: unknown } | undefined)?.workloads;
    if (Array.isArray(list)) for (const w of list) if (isWorkloadInfo(w)) this.learn(w);
  }

  /** The key an operation holds observed changes under (see ObservedHold): its workload, or for a create its driver. */
  private static holdKey(method: MethodName, input: Input): string | undefined {
    if (!RECORDED_METHODS.has(method)) return undefined;
    if (method === 'workloads.create') return typeof input.driver === 'string' ? `create:${input.driver}` : undefined;
    return str(input.id);
  }

  /** A call is about to run: what a watcher sees of its workload meanwhile waits for its record. */
  onBegin(method: MethodName, input: unknown): void {
    const key = Recorder.holdKey(method, (typeof input === 'object' && input !== null ? input : {}) as Input);
    if (key) this.hold.begin(key);
  }

  onCall(c: CallRecord): void {
    const input = (typeof c.input === 'object' && c.input !== null ? c.input : {}) as Input;
    const holdKey = Recorder.holdKey(c.method, input);
    if (holdKey) this.hold.end(holdKey); // its record is written below, before the held changes are
    const value = c.result.ok ? c.result.value : undefined;
    const workloadId = str(input.id) ?? (c.method === 'workloads.create' && isWorkloadInfo(value) ? value.id : undefined);
    const driver = workloadId ? parseWorkloadId(workloadId)?.driver : str(input.driver);
    this.learnFrom(value);
    const recorded = RECORDED_METHODS.has(c.method);
    const name = isWorkloadInfo(value) ? value.name : ((workloadId && (this.names.get(workloadId) ?? (recorded ? this.safeRecentName(workloadId) : undefined))) || str(input.name));

    const fields = { method: c.method, origin: c.meta.origin, op: c.meta.op, durationMs: Math.round(c.durationMs * 10) / 10, ...(workloadId ? { workloadId } : {}) };
    const result = c.result;
    this.logLater(() => {
      if (!result.ok) this.log[recorded ? 'warn' : 'debug']({ ...fields, code: result.error.code, error: result.error.message }, 'operation failed');
      else this.log[recorded ? 'info' : 'debug'](fields, recorded ? 'operation done' : 'call');
    });
    if (!recorded) return;

    const state: WorkloadState | 'removed' | undefined =
      c.method === 'workloads.delete' ? 'removed' : isWorkloadInfo(value) && c.method !== 'snapshots.create' ? value.state : undefined;
    const target = targetOf(c.method, input);
    const rec: Omit<OperationRecord, 'ts' | 'id' | 'host' | 'pid'> = {
      kind: 'operation',
      origin: c.meta.origin,
      method: c.method,
      op: c.meta.op,
      result: c.result.ok ? 'ok' : 'error',
      durationMs: Math.round(c.durationMs),
      ...(workloadId ? { workloadId } : {}),
      ...(driver ? { driver } : {}),
      ...(name ? { name } : {}),
      ...(c.result.ok && state ? { state } : {}),
      ...(target ? { target } : {}),
      ...(!c.result.ok ? { error: { code: c.result.error.code, message: c.result.error.message } } : {}),
    };
    this.write(rec);
  }

  /** Log lines of answered calls, waiting for their answer to leave (logLater). */
  private logQueue: (() => void)[] = [];

  /**
   * The structured-log line of a call is written after its answer has left: formatting and
   * writing it cost ~0.1 ms a call, on the path of every operation. The router answers right
   * after onCall and the WebSocket sends its turn's messages from a setImmediate queued after
   * this one, so the line waits two. The event-log record, the audit, is still written before
   * the answer; a crash in between loses only this copy of it. dispose() writes what waits.
   */
  private logLater(write: () => void): void {
    if (this.logQueue.push(write) === 1) setImmediate(() => setImmediate(() => this.flushLog()));
  }

  /** Write the log lines still waiting (on dispose: a CLI exits right after its answer). */
  flushLog(): void {
    const queue = this.logQueue;
    this.logQueue = [];
    for (const write of queue) write();
  }

  /** A change a driver's watcher reported (not one of our own operations: those are above); written after a moment (ObservedHold). */
  onObserved(driver: DriverId, change: WorkloadChange): void {
    this.hold.add(driver, change);
  }

  /** Write the observed changes still held (on dispose). */
  flushObserved(): void {
    this.hold.dispose();
  }

  private writeObserved(driver: DriverId, change: WorkloadChange, seenAt: number): void {
    try {
      if (change.type === 'notice') {
        const workloadId = change.workloadId;
        const rec: NewRecord = { kind: 'notice', level: change.level, message: change.message, driver, ...(workloadId ? { workloadId, ...this.nameOf(workloadId) } : {}) };
        this.events.appendObserved(
          rec,
          ([prev]) => prev !== undefined && Date.now() - Date.parse(prev.ts) < NOTICE_DEDUP_MS,
          (prev) => prev.kind === 'notice' && prev.message === change.message && prev.workloadId === workloadId,
        );
        this.log[change.level === 'info' ? 'info' : change.level === 'warning' ? 'warn' : 'error']({ driver, workloadId }, change.message);
        return;
      }
      const id = change.type === 'upsert' ? change.info.id : change.id;
      const state = change.type === 'upsert' ? change.info.state : 'removed';
      if (change.type === 'upsert') this.learn(change.info);
      const rec: NewRecord = {
        kind: 'state',
        state,
        workloadId: id,
        driver,
        ...this.nameOf(id),
        ...(change.type === 'upsert' && change.info.exit && (state === 'crashed' || state === 'exited') ? { exit: change.info.exit } : {}),
      };
      const written = this.events.appendObserved(
        rec,
        (records) => alreadySaid(records, state, seenAt, (r) => this.events.wrote(r)),
        (prev) => prev.workloadId === id && stateOf(prev) !== undefined,
      );
      if (written) this.log.info({ driver, workloadId: id, state }, 'workload state changed');
    } catch (e) {
      this.failed(e);
    }
  }

  private safeRecentName(id: string): string | undefined {
    try {
      return this.events.recentName(id);
    } catch {
      return undefined; // a name is nice to have; the record is written without it
    }
  }

  private nameOf(id: string): { name?: string } {
    const name = this.names.get(id) ?? this.safeRecentName(id);
    return name ? { name } : {};
  }

  private write(rec: NewRecord): void {
    try {
      this.events.append(rec);
    } catch (e) {
      this.failed(e);
    }
  }

  private failed(e: unknown): void {
    // The operation itself succeeded or failed on its own; a full disk must not change that.
    this.writeErrors++;
    this.log.error({ err: (e as Error).message, file: this.events.file.path }, 'cannot write the event log');
  }
}

/** The state a record says a workload is in, when it says one. */
function stateOf(r: EventRecord): WorkloadState | 'removed' | undefined {
  if (r.kind === 'state') return r.state;
  if (r.kind === 'operation' && r.result === 'ok') return r.state;
  return undefined;
}
