import type { ExitInfo, WorkloadState } from './model.js';

/**
 * The durable event log's records (one per line of `state/events.jsonl`; every NovaCron
 * process appends) and how one reads to a human. The filters and the contract's inputs
 * over them are in observability.ts.
 */

/** Who asked for an operation (the router's CallMeta.origin). */
export const ORIGINS = ['desktop', 'cli', 'headless', 'test'] as const;
export type EventOrigin = (typeof ORIGINS)[number];

export const EVENT_KINDS = ['operation', 'state', 'notice'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

interface RecordBase {
  /** ISO time; always the first key of a line, which is how a torn line is told apart. */
  ts: string;
  /** Unique: `<pid>.<seq>.<random>`, so a reader can remember where it stopped. */
  id: string;
  /** node_id of the host, and the process that wrote the line. */
  host: string;
  pid: number;
  workloadId?: string;
  driver?: string;
  name?: string;
}

/** A lifecycle operation, written when it ends. Its inputs are never logged (env may hold secrets). */
export interface OperationRecord extends RecordBase {
  kind: 'operation';
  origin: EventOrigin;
  /** The contract method: `workloads.start`, `snapshots.create`… */
  method: string;
  op: string;
  result: 'ok' | 'error';
  durationMs: number;
  /** The workload's state after a successful operation ('removed' after a delete). */
  state?: WorkloadState | 'removed';
  /** What else the operation named: a snapshot, an image ref, the config keys set. */
  target?: string;
  error?: { code: string; message: string };
}

/** A state change a driver reported by itself: a crash, an exit, a removal elsewhere. */
export interface StateRecord extends RecordBase {
  kind: 'state';
  state: WorkloadState | 'removed';
  exit?: ExitInfo;
}

/** Something a driver said: an OOM kill, a finished migration, an engine going away. */
export interface NoticeRecord extends RecordBase {
  kind: 'notice';
  level: 'info' | 'warning' | 'error';
  message: string;
}

export type EventRecord = OperationRecord | StateRecord | NoticeRecord;

/** One line for humans: the CLI's output and the Events screen's summary column. */
export function describeEvent(r: EventRecord): string {
  const who = r.name ? `${r.name} (${r.workloadId ?? '?'})` : (r.workloadId ?? '');
  switch (r.kind) {
    case 'operation': {
      const what = `${r.origin} ${r.method}${r.target ? ` ${r.target}` : ''}`;
      const outcome = r.result === 'ok' ? `ok${r.state ? ` → ${r.state}` : ''}` : `failed: ${r.error?.code ?? ''} ${r.error?.message ?? ''}`.trim();
      return `${what} ${who} ${outcome} (${r.durationMs} ms)`.replace(/\s+/g, ' ');
    }
    case 'state':
      return `${who} is ${r.state}${r.exit ? `: ${r.exit.reason}` : ''}`.trim();
    case 'notice':
      return `${r.level}: ${r.message}`;
  }
}
