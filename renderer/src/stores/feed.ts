import { describeEvent } from '../../../shared/event-records.js';
import { client } from '../transport/client.js';
import { notify } from './notices.js';
import { onProgress, ownOps } from './operations.js';
import { queueChange } from './workloads.js';

let started = false;

/**
 * A crash often comes twice: the driver's own words (a notice) and the state change in the
 * event log. One toast is enough; the Events screen keeps both.
 */
const recentCrash = new Map<string, number>();
const SAME_CRASH_MS = 10_000;
function firstWordOnCrash(workloadId: string | undefined): boolean {
  if (!workloadId) return true;
  const now = Date.now();
  const prev = recentCrash.get(workloadId);
  recentCrash.set(workloadId, now);
  if (recentCrash.size > 1000) recentCrash.clear();
  return prev === undefined || now - prev > SAME_CRASH_MS;
}

/**
 * The page's two subscriptions for everything pushed: the core's events (workload changes,
 * progress, notices) and the durable event log (what other processes did, and the state
 * changes the drivers reported: a VM that crashed, a container killed for memory).
 * State arrives pushed, never polled per row.
 */
export function startFeeds(): void {
  if (started) return;
  started = true;
  client.subscribe('events', {}, {
    event: (e) => {
      if (e.type === 'workload') queueChange({ type: 'upsert', info: e.info });
      else if (e.type === 'workload-removed') queueChange({ type: 'removed', id: e.id });
      else if (e.type === 'progress') onProgress(e.progress);
      else if (e.level !== 'error' || firstWordOnCrash(e.workloadId)) notify(e.level, e.message, e.workloadId, { sticky: false });
    },
    error: (err) => notify('error', `Event feed failed: ${err.message}`),
  });
  // Only what happens from now on; the Events screen shows the past. Notices already came through `events`.
  client.subscribe('eventLog', { tail: 0, kinds: ['operation', 'state'] }, {
    event: (records) => {
      for (const r of records) {
        if (r.kind === 'operation') {
          if (ownOps.has(r.op)) continue;
          notify(r.result === 'ok' ? 'info' : 'error', describeEvent(r), r.workloadId, { sticky: false });
        } else if (r.kind === 'state' && r.state === 'crashed') {
          if (firstWordOnCrash(r.workloadId)) notify('error', describeEvent(r), r.workloadId, { sticky: false });
        } else {
          notify('info', describeEvent(r), r.workloadId, { sticky: false });
        }
      }
    },
    error: (err) => notify('warning', `The event log cannot be followed: ${err.message}`),
  });
}
