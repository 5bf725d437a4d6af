import { useEffect, useState } from 'react';
import type { EventFilter, EventRecord } from '../../../shared/observability.js';
import { client } from '../transport/client.js';

/** How many records a view keeps; older ones are a filter away. */
const KEEP = 500;
const TAIL = 200;

/**
 * The event log every NovaCron process writes, filtered on the core's side and kept live
 * through the eventLog stream (no polling), newest first. Used by the Events screen and a
 * workload's Events tab, so both read the log the same way.
 */
export function useEventLog(filter: EventFilter): { events: EventRecord[]; error: string | undefined } {
  const [events, setEvents] = useState<EventRecord[]>([]);
  const [error, setError] = useState<string | undefined>();
  // The filter is a fresh object each render: its text is what says it changed.
  const key = JSON.stringify(filter);
  useEffect(() => {
    setEvents([]);
    setError(undefined);
    const f = JSON.parse(key) as EventFilter;
    return client.subscribe('eventLog', { ...f, tail: TAIL }, {
      // Newest first on screen; the stream sends oldest first.
      event: (recs) => setEvents((prev) => [...[...recs].reverse(), ...prev].slice(0, KEEP)),
      error: (e) => setError(e.message),
    });
  }, [key]);
  return { events, error };
}

/** A record worth showing in red: a failed operation, a crash, an error notice. */
export const isFailure = (r: EventRecord): boolean => (r.kind === 'operation' && r.result === 'error') || (r.kind === 'state' && r.state === 'crashed') || (r.kind === 'notice' && r.level === 'error');
