import { useEffect, useState } from 'react';
import { DRIVER_IDS } from '../../../shared/ids.js';
import { EVENT_KINDS, ORIGINS, type EventFilter, type EventRecord } from '../../../shared/observability.js';
import { isFailure, useEventLog } from '../stores/event-log.js';
import { href } from '../router.js';
import { Options } from '../components/Options.js';

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

const time = (iso: string) => {
  const d = new Date(iso);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString()}`;
};

export function EventsScreen() {
  const [kind, setKind] = useState('');
  const [origin, setOrigin] = useState('');
  const [driver, setDriver] = useState('');
  const [result, setResult] = useState('');
  const [text, setText] = useState('');
  const q = useDebounced(text.trim(), 300);
  const filter: EventFilter = {
    ...(kind ? { kinds: [kind as EventRecord['kind']] } : {}),
    ...(origin ? { origin: origin as EventFilter['origin'] } : {}),
    ...(driver ? { driver: driver as EventFilter['driver'] } : {}),
    ...(result ? { result: result as 'ok' | 'error' } : {}),
    ...(q ? { text: q } : {}),
  };
  const { events, error } = useEventLog(filter);
  const select = (label: string, value: string, set: (v: string) => void, options: readonly string[], testId: string) => (
    <select value={value} onChange={(e) => set(e.target.value)} aria-label={label} data-testid={testId}>
      <option value="">{label}: any</option>
      <Options values={options} />
    </select>
  );
  return (
    <section className="screen">
      <header className="screen-head">
        <h1>Events</h1>
        <p className="muted">Operations from the desktop, the CLI and the web, and what the drivers reported, from every NovaCron process on this host.</p>
      </header>
      <div className="filters row">
        <input type="search" placeholder="Search name, operation, message" value={text} onChange={(e) => setText(e.target.value)} aria-label="Search events" data-testid="events-search" />
        {select('Kind', kind, setKind, EVENT_KINDS, 'events-filter-kind')}
        {select('Origin', origin, setOrigin, ORIGINS, 'events-filter-origin')}
        {select('Driver', driver, setDriver, DRIVER_IDS, 'events-filter-driver')}
        {select('Result', result, setResult, ['ok', 'error'], 'events-filter-result')}
      </div>
      {error && (
        <div className="banner banner-error" data-testid="events-error">
          Cannot read the event log: {error}
        </div>
      )}
      <table className="list" data-testid="events-table">
        <thead>
          <tr>
            <th>Time</th>
            <th>Kind</th>
            <th>Workload</th>
            <th>What</th>
            <th>Who</th>
            <th>Result</th>
            <th>Took</th>
          </tr>
        </thead>
        <tbody>
          {events.map((r) => (
            <EventRow key={r.id} r={r} />
          ))}
        </tbody>
      </table>
      {events.length === 0 && !error && <p className="muted empty" data-testid="events-empty">No events match.</p>}
    </section>
  );
}

function EventRow({ r }: { r: EventRecord }) {
  const what = r.kind === 'operation' ? `${r.method}${r.target ? ` ${r.target}` : ''}` : r.kind === 'state' ? `${r.state}${r.exit ? `: ${r.exit.reason}` : ''}` : r.message;
  const failed = isFailure(r);
  return (
    <tr data-testid={`event-row-${r.id}`} data-kind={r.kind} data-workload={r.workloadId ?? ''} className={failed ? 'state-crashed' : ''}>
      <td className="mono" title={r.ts}>
        {time(r.ts)}
      </td>
      <td>{r.kind}</td>
      <td>
        {r.workloadId ? (
          <a href={href({ screen: 'workload', id: r.workloadId })} title={r.workloadId}>
            {r.name ?? r.workloadId}
          </a>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="ellipsis" title={what} data-testid="event-what">
        {what}
      </td>
      <td data-testid="event-origin">{r.kind === 'operation' ? r.origin : (r.driver ?? '')}</td>
      <td data-testid="event-result">{r.kind === 'operation' ? (r.result === 'ok' ? 'ok' : `${r.error?.code ?? 'error'}: ${r.error?.message ?? ''}`) : ''}</td>
      <td className="mono">{r.kind === 'operation' ? `${r.durationMs} ms` : ''}</td>
    </tr>
  );
}
