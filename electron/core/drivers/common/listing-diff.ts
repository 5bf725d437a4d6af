import type { WorkloadInfo } from '../../../../shared/model.js';
import type { WorkloadChange } from '../driver.js';

export type Listing = Map<string, WorkloadInfo>;

const same = (a: WorkloadInfo, b: WorkloadInfo) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The watchers of drivers whose engine tells "something changed" but not what (or tells
 * nothing at all) list everything and emit only the difference to the last listing. The
 * first listing only sets the baseline: subscribers get it from list() themselves.
 * `crashNotice` words the error notice of a workload that turned crashed (undefined: none).
 */
export function emitListingChanges(
  last: Listing | undefined,
  list: WorkloadInfo[],
  emit: (c: WorkloadChange) => void,
  crashNotice?: (w: WorkloadInfo, before: WorkloadInfo | undefined) => string | undefined,
): Listing {
  const now: Listing = new Map(list.map((w) => [w.id, w]));
  if (!last) return now;
  for (const [id, w] of now) {
    const before = last.get(id);
    // A driver that found nothing changed gives the very object it gave last time: no serialising.
    if (before && (before === w || same(before, w))) continue;
    emit({ type: 'upsert', info: w });
    const message = crashNotice?.(w, before);
    if (message !== undefined) emit({ type: 'notice', level: 'error', message, workloadId: id });
  }
  for (const id of last.keys()) if (!now.has(id)) emit({ type: 'removed', id });
  return now;
}

/**
 * A pass that is never run twice at once: a call while one runs asks for exactly one
 * more pass after it, so a change seen mid-pass is not lost and a burst costs two passes.
 */
export function coalesced(pass: () => Promise<void>, stopped: () => boolean): () => Promise<void> {
  let running = false;
  let again = false;
  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await pass();
    } finally {
      running = false;
      if (again && !stopped()) {
        again = false;
        void run();
      }
    }
  };
  return run;
}
