import { z } from 'zod';
import { DRIVER_IDS } from './ids.js';
import { EVENT_KINDS, ORIGINS, type EventRecord } from './event-records.js';
import { absolutePathSchema, workloadIdSchema } from './schemas.js';

/**
 * The filters the CLI and the Events screen read the durable event log with, and the
 * contract's inputs over it. The records themselves and their one-line description are in
 * event-records.ts, without zod: the page's start toasts them without loading schemas.
 */
export { describeEvent, EVENT_KINDS, ORIGINS } from './event-records.js';
export type { EventKind, EventOrigin, EventRecord, NoticeRecord, OperationRecord, StateRecord } from './event-records.js';

const isoTime = z
  .string({ error: 'must be a time' })
  .max(64)
  .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO time like 2025-01-31T12:00:00Z');

/** Filters of `events.list`, the `eventLog` stream and `novacron events`. All optional, all ANDed. */
export const eventFilterShape = {
  kinds: z.array(z.enum(EVENT_KINDS, { error: `must be one of ${EVENT_KINDS.join(', ')}` })).max(3).optional(),
  origin: z.enum(ORIGINS, { error: `must be one of ${ORIGINS.join(', ')}` }).optional(),
  driver: z.enum(DRIVER_IDS, { error: `must be one of ${DRIVER_IDS.join(', ')}` }).optional(),
  workloadId: workloadIdSchema.optional(),
  result: z.enum(['ok', 'error'], { error: 'must be ok or error' }).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  /** Case-insensitive substring of the name, method, message or error. */
  text: z.string().max(200, 'is too long').optional(),
};
export const eventFilterSchema = z.object(eventFilterShape).strict();
export type EventFilter = z.output<typeof eventFilterSchema>;

export const EVENTS_LIST_MAX = 10_000;

/** Pure, so the core, the CLI and the tests agree on what a filter keeps. */
export function matchesFilter(r: EventRecord, f: EventFilter): boolean {
  if (f.kinds && f.kinds.length && !f.kinds.includes(r.kind)) return false;
  if (f.origin && (r.kind !== 'operation' || r.origin !== f.origin)) return false;
  if (f.driver && r.driver !== f.driver) return false;
  if (f.workloadId && r.workloadId !== f.workloadId) return false;
  if (f.result && (r.kind !== 'operation' || r.result !== f.result)) return false;
  if (f.since && Date.parse(r.ts) < Date.parse(f.since)) return false;
  if (f.until && Date.parse(r.ts) > Date.parse(f.until)) return false;
  if (f.text) {
    const needle = f.text.toLowerCase();
    const hay = [r.name, r.workloadId, r.kind === 'operation' ? `${r.method} ${r.error?.message ?? ''} ${r.target ?? ''}` : r.kind === 'notice' ? r.message : `${r.state} ${r.exit?.reason ?? ''}`]
      .filter(Boolean)
      .join(' ')
      .toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  return true;
}

/** What a diagnostics bundle holds, as `diag.create` reports it. */
export interface DiagnosticsResult {
  file: string;
  bytes: number;
  entries: string[];
}

/** Inputs of the contract's observability methods and stream (shared/contract/index.ts). */
export const eventsListInput = z
  .object({ ...eventFilterShape, limit: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(EVENTS_LIST_MAX, `must be at most ${EVENTS_LIST_MAX}`).optional() })
  .strict();

export const eventLogInput = z
  .object({ ...eventFilterShape, tail: z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative').max(EVENTS_LIST_MAX, `must be at most ${EVENTS_LIST_MAX}`).optional() })
  .strict();

export const diagInput = z
  .object({
    /** A directory or a new file inside the data dir (the core checks, links resolved); default: <data dir>/diagnostics/. */
    out: absolutePathSchema.optional(),
    events: z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative').max(EVENTS_LIST_MAX, `must be at most ${EVENTS_LIST_MAX}`).optional(),
    logLines: z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative').max(100_000, 'must be at most 100000').optional(),
  })
  .strict();

export const DIAG_DEFAULTS = { events: 1000, logLines: 2000 } as const;
