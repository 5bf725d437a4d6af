import { useEffect } from 'react';
import { create } from 'zustand';
import type { MetricsBatch } from '../../../shared/control-room.js';
import { client } from '../transport/client.js';

/** What a row shows: the last CPU % and memory, and the last minute of CPU for its sparkline. */
export interface RowMetrics {
  cpu: number;
  mem: number;
  spark: number[];
  ts: number;
}

const SPARK = 60;

interface RowMetricsState {
  byId: Record<string, RowMetrics>;
}

/** Keyed by workload id: a row's selector picks its own entry, so a batch re-renders only the rows it changed. */
export const useRowMetrics = create<RowMetricsState>(() => ({ byId: {} }));

export const useRowMetric = (id: string) => useRowMetrics((s) => s.byId[id]);

function applyBatch(batch: MetricsBatch): void {
  if (batch.length === 0) return;
  const byId = { ...useRowMetrics.getState().byId };
  for (const { id, samples } of batch) {
    const last = samples.at(-1);
    if (!last) continue;
    const prev = byId[id];
    const fresh = prev ? samples.filter((s) => s.ts > prev.ts) : samples;
    if (fresh.length === 0) continue;
    const spark = [...(prev?.spark ?? []), ...fresh.map((s) => s.cpuPercent)].slice(-SPARK);
    byId[id] = { cpu: last.cpuPercent, mem: last.memoryBytes, spark, ts: last.ts };
  }
  useRowMetrics.setState({ byId });
}

/**
 * Watch the live numbers of these rows (the ones on screen that run): ONE metricsBatch
 * subscription, renewed when the set changes after scrolling settles. The core samples
 * only these, once a second, and sends them in one message.
 */
export function useWatchRows(ids: readonly string[]): void {
  const key = [...ids].sort().join(' ');
  useEffect(() => {
    if (!key) return;
    let unsubscribe: (() => void) | undefined;
    // Scrolling changes the set many times a second: subscribe once it settles.
    const t = setTimeout(() => {
      unsubscribe = client.subscribe('metricsBatch', { ids: key.split(' ') }, { event: applyBatch });
    }, 200);
    return () => {
      clearTimeout(t);
      unsubscribe?.();
    };
  }, [key]);
}
