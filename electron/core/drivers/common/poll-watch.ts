import type { WorkloadInfo } from '../../../../shared/model.js';
import type { Disposable } from '../../base/lifecycle.js';
import type { WorkloadChange } from '../driver.js';
import { emitListingChanges, type Listing } from './listing-diff.js';

/**
 * For drivers whose engine pushes nothing (plain processes, files other NovaCron
 * processes write): ONE timer lists everything and emits only what changed. Runs only
 * while someone watches; a failed pass is reported once, not every tick.
 */
export function pollWatch(
  list: (signal: AbortSignal) => Promise<WorkloadInfo[]>,
  emit: (c: WorkloadChange) => void,
  everyMs: number,
  label: string,
): Disposable {
  let last: Listing | undefined;
  let running = false;
  let failing = false;
  const ac = new AbortController();

  const tick = async () => {
    if (running) return; // a slow pass is never stacked on another
    running = true;
    try {
      last = emitListingChanges(last, await list(ac.signal), emit);
      if (failing) emit({ type: 'notice', level: 'info', message: `${label}: listing works again` });
      failing = false;
    } catch (e) {
      if (!failing && !ac.signal.aborted) emit({ type: 'notice', level: 'error', message: `${label}: ${(e as Error).message}` });
      failing = true;
    } finally {
      running = false;
    }
  };
  void tick();
  const h = setInterval(() => void tick(), everyMs);
  h.unref();
  return {
    dispose() {
      ac.abort();
      clearInterval(h);
    },
  };
}
