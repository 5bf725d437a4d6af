import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { EventFilter, EventRecord } from '../../../shared/observability.js';
import { matchesFilter } from '../../../shared/observability.js';
import type { Disposable } from '../base/lifecycle.js';
import { endOf, followLines, type FollowPosition } from './follow.js';
import { JsonlAppender, parseRecoverable, readLinesBackward, tailLines, type RotatingFile } from './jsonl.js';

/** What a caller gives; the log adds when, where and who. Distributes over the union. */
export type NewRecord = EventRecord extends infer R ? (R extends EventRecord ? Omit<R, 'ts' | 'id' | 'host' | 'pid'> : never) : never;

export const EVENT_LOG_FILE = 'events.jsonl';

const isRecord = (v: unknown): v is EventRecord =>
  typeof v === 'object' && v !== null && typeof (v as EventRecord).ts === 'string' && typeof (v as EventRecord).kind === 'string';

export function parseEventLine(line: string): EventRecord | undefined {
  const v = parseRecoverable<unknown>(line, 'ts');
  return isRecord(v) ? v : undefined;
}

/**
 * The durable event log: `state/events.jsonl` (+ .1 … .N once rotated). Every NovaCron
 * process appends to it; `events.list`, `novacron events` and the metrics exporter read it.
 */
export class EventLog implements Disposable {
  readonly file: RotatingFile;
  private readonly appender: JsonlAppender;
  private seq = 0;
  private readonly tag = randomBytes(3).toString('hex');

  constructor(
    stateDir: string,
    private readonly host: () => string,
    scrub: (line: string) => string,
    limits: { maxBytes: number; keep: number } = { maxBytes: 4 * 1024 * 1024, keep: 3 },
  ) {
    this.file = { path: join(stateDir, EVENT_LOG_FILE), ...limits };
    this.appender = new JsonlAppender(this.file, scrub);
  }

  private stamp(r: NewRecord): EventRecord {
    // `ts` first: readers recover a torn line by looking for it.
    return { ts: new Date().toISOString(), id: `${process.pid}.${++this.seq}.${this.tag}`, host: this.host(), pid: process.pid, ...r };
  }

  /** Whether this log (this process's writer) appended the record. */
  wrote(r: EventRecord): boolean {
    return r.id.endsWith(`.${this.tag}`) && r.pid === process.pid;
  }

  append(r: NewRecord): EventRecord {
    const rec = this.stamp(r);
    this.appender.append(JSON.stringify(rec));
    return rec;
  }

  /**
   * Append a change a driver reported unless the log already says it (`said`, given the
   * recent relevant records, newest first): every long-lived NovaCron process watches the
   * drivers, and each would otherwise write the same crash. Decided under the log's lock,
   * so two processes never both write it.
   */
  appendObserved(r: NewRecord, said: (relevantNewestFirst: Iterable<EventRecord>) => boolean, relevant: (rec: EventRecord) => boolean): EventRecord | undefined {
    const rec = this.stamp(r);
    // Read and parsed only as far as `said` looks: usually the newest few lines.
    const written = this.appender.appendUnless(JSON.stringify(rec), (recent) =>
      said(
        (function* () {
          for (const line of recent) {
            const prev = parseEventLine(line);
            if (prev && relevant(prev)) yield prev;
          }
        })(),
      ),
    );
    return written ? rec : undefined;
  }

  /** The name the latest records give a workload: a delete by id knows no other way to say what it deleted. */
  recentName(workloadId: string): string | undefined {
    for (const line of tailLines(this.file.path, 256 * 1024)) {
      const r = parseEventLine(line);
      if (r?.workloadId === workloadId && r.name) return r.name;
    }
    return undefined;
  }

  /** The newest `limit` records that match, oldest first; `more` when older matches may exist. */
  async list(filter: EventFilter, limit: number, signal?: AbortSignal): Promise<{ events: EventRecord[]; more: boolean }> {
    const out: EventRecord[] = [];
    const since = filter.since ? Date.parse(filter.since) : undefined;
    for await (const line of readLinesBackward(this.file, signal)) {
      const r = parseEventLine(line);
      if (!r) continue;
      // Lines are in time order (give or take a rotation's instant): stop well before `since`.
      if (since !== undefined && Date.parse(r.ts) < since - 60_000) break;
      if (!matchesFilter(r, filter)) continue;
      if (out.length === limit) return { events: out.reverse(), more: true };
      out.push(r);
    }
    return { events: out.reverse(), more: false };
  }

  /** Records newer than the one with `afterId`, oldest first (all of them when it is gone or undefined). */
  async since(afterId: string | undefined, signal?: AbortSignal): Promise<EventRecord[]> {
    const out: EventRecord[] = [];
    for await (const line of readLinesBackward(this.file, signal)) {
      const r = parseEventLine(line);
      if (!r) continue;
      if (r.id === afterId) break;
      out.push(r);
    }
    return out.reverse();
  }

  async newestId(): Promise<string | undefined> {
    for await (const line of readLinesBackward(this.file)) {
      const r = parseEventLine(line);
      if (r) return r.id;
    }
    return undefined;
  }

  position(): Promise<FollowPosition | undefined> {
    return endOf(this.file);
  }

  /** Records appended from `from` on, by any process, as they come. */
  follow(from: FollowPosition | undefined, filter: EventFilter, onRecords: (r: EventRecord[]) => void, onError: (e: unknown) => void): Disposable {
    return followLines(
      this.file,
      from,
      (lines) => {
        const recs = lines.map(parseEventLine).filter((r): r is EventRecord => r !== undefined && matchesFilter(r, filter));
        if (recs.length) onRecords(recs);
      },
      onError,
    );
  }

  dispose(): void {
    this.appender.dispose();
  }
}
