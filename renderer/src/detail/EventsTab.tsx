import { useEffect, useState } from 'react';
import { describeEvent, type EventRecord } from '../../../shared/observability.js';
import { time } from '../../../shared/format.js';
import { client } from '../transport/client.js';

/** This workload's story from the durable event log: operations (by whom), crashes, notices. Live. */
export function EventsTab({ id }: { id: string }) {
  const [events, setEvents] = useState<EventRecord[]>([]);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    setEvents([]);
    return client.subscribe('eventLog', { workloadId: id, tail: 200 }, {
      event: (recs) => setEvents((prev) => [...[...recs].reverse(), ...prev].slice(0, 500)),
      error: (e) => setError(e.message),
    });
  }, [id]);
  return (
    <div className="card">
      {error && <div className="banner banner-error">{error}</div>}
      <table className="list" data-testid="workload-events">
        <thead>
          <tr>
            <th>Time</th>
            <th>Kind</th>
            <th>What</th>
          </tr>
        </thead>
        <tbody>
          {events.map((r) => {
            const failed = (r.kind === 'operation' && r.result === 'error') || (r.kind === 'state' && r.state === 'crashed') || (r.kind === 'notice' && r.level === 'error');
            return (
              <tr key={r.id} className={failed ? 'state-crashed' : ''} data-kind={r.kind} data-testid={`wevent-${r.id}`}>
                <td className="mono">{time(r.ts)}</td>
                <td>{r.kind}</td>
                <td>{describeEvent(r)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {events.length === 0 && !error && <p className="muted empty">Nothing recorded yet.</p>}
    </div>
  );
}
