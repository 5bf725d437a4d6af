import { useEffect } from 'react';
import { create } from 'zustand';
import type { MetricsSample } from '../../../shared/model.js';
import { mergeSamples } from '../metrics-math.js';
import { client } from '../transport/client.js';

interface HistoryState {
  byId: Record<string, MetricsSample[]>;
  errors: Record<string, string | undefined>;
}

/** Ten minutes of samples per workload the page has looked at; the core keeps the same, so a reload shows the past too. */
export const useMetricsHistory = create<HistoryState>(() => ({ byId: {}, errors: {} }));

const refs = new Map<string, { count: number; stop: () => void }>();

function watch(id: string): () => void {
  let r = refs.get(id);
  if (!r) {
    const stop = client.subscribe('metrics', { id }, {
      event: (batch) =>
        useMetricsHistory.setState((s) => ({
          byId: { ...s.byId, [id]: mergeSamples(s.byId[id] ?? [], batch) },
          errors: s.errors[id] ? { ...s.errors, [id]: undefined } : s.errors,
        })),
      error: (e) => useMetricsHistory.setState((s) => ({ errors: { ...s.errors, [id]: e.message } })),
    });
    r = { count: 0, stop };
    refs.set(id, r);
  }
  r.count++;
  const entry = r;
  return () => {
    if (--entry.count === 0) {
      entry.stop();
      refs.delete(id);
    }
  };
}

/** The live samples of one workload while the component is mounted and `on` holds; one subscription per workload however many parts show it. */
export function useSamples(id: string, on: boolean): { samples: MetricsSample[]; error: string | undefined } {
  useEffect(() => (on ? watch(id) : undefined), [id, on]);
  const samples = useMetricsHistory((s) => s.byId[id]);
  const error = useMetricsHistory((s) => s.errors[id]);
  return { samples: samples ?? EMPTY, error };
}

const EMPTY: MetricsSample[] = [];
