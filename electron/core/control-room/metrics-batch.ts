import type { MetricsBatch } from '../../../shared/control-room.js';
import type { MetricsSample } from '../../../shared/model.js';
import { DisposableStore, interval } from '../base/lifecycle.js';
import type { StreamImpl } from '../api/router.js';
import type { Core } from '../core.js';

/** What the inventory's sparklines show by default: the last minute. */
const DEFAULT_HISTORY = 60;
const FLUSH_MS = 1000;

/**
 * `metricsBatch`: the live numbers of the rows an inventory shows. Each id is watched
 * through the MetricsService (so it is sampled only while somebody looks, by the one
 * timer, and shares its sampler and history with any detail page open on it); what
 * arrives is collected and sent as ONE message a second, not one per workload.
 */
export function metricsBatchStream(core: Core): Pick<StreamImpl, 'metricsBatch'> {
  return {
    metricsBatch: ({ ids, history }, sink) => {
      const store = new DisposableStore();
      const keep = history ?? DEFAULT_HISTORY;
      const pending = new Map<string, MetricsSample[]>();
      let first = true;
      for (const id of new Set(ids)) {
        store.add(
          core.metrics.watch(id, (samples) => {
            // The first call per id is its kept history (possibly long): only the tail matters here.
            const add = first ? samples.slice(-keep) : samples;
            if (add.length === 0) return;
            const list = pending.get(id);
            if (list) list.push(...add);
            else pending.set(id, [...add]);
          }),
        );
      }
      first = false;
      const flush = () => {
        if (pending.size === 0) return;
        const batch: MetricsBatch = [...pending].map(([id, samples]) => ({ id, samples: samples.slice(-keep) }));
        pending.clear();
        sink.event(batch);
      };
      // The history goes at once, so a row shows its sparkline as soon as it scrolls in.
      flush();
      store.add(interval(FLUSH_MS, flush));
      return store;
    },
  };
}
