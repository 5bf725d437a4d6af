import { describeEvent } from '../../../shared/observability.js';
import { time } from '../../../shared/format.js';
import { isFailure, useEventLog } from '../stores/event-log.js';

/** This workload's story from the durable event log: operations (by whom), crashes, notices. Live. */
export function EventsTab({ id }: { id: string }) {
  const { events, error } = useEventLog({ workloadId: id });
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
            const failed = isFailure(r);
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
