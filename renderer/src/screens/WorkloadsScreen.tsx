import { useMemo, useState } from 'react';
import { DRIVER_IDS } from '../../../shared/ids.js';
import { WORKLOAD_STATES } from '../../../shared/model.js';
import { StateBadge } from '../components/StateBadge.js';
import { LifecycleButtons } from '../components/LifecycleButtons.js';
import { useDrivers } from '../stores/drivers.js';
import { useWorkload, useWorkloads } from '../stores/workloads.js';
import { go, href } from '../router.js';

/** Every workload of every driver in one list, filterable by driver, state and name. */
export function WorkloadsScreen() {
  const ids = useWorkloads((s) => s.ids);
  const byId = useWorkloads((s) => s.byId);
  const errors = useWorkloads((s) => s.errors);
  const drivers = useDrivers((s) => s.list);
  const [q, setQ] = useState('');
  const [driver, setDriver] = useState('');
  const [state, setState] = useState('');
  const shown = useMemo(
    () =>
      ids.filter((id) => {
        const w = byId[id];
        if (!w) return false;
        if (driver && w.driver !== driver) return false;
        if (state && w.state !== state) return false;
        return !q || w.name.toLowerCase().includes(q.toLowerCase()) || w.summary.toLowerCase().includes(q.toLowerCase());
      }),
    [ids, byId, q, driver, state],
  );
  const creatable = drivers.filter((d) => d.capabilities.create.available);
  return (
    <section className="screen">
      <header className="screen-head">
        <h1>Workloads</h1>
        <div className="row">
          {creatable.map((d) => (
            <a key={d.id} className="button primary" href={href({ screen: 'create', driver: d.id })} data-testid={`create-${d.id}`}>
              New {d.name.toLowerCase()}
            </a>
          ))}
        </div>
      </header>
      {errors.map((e) => (
        <div key={e.driver} className="banner banner-error" data-testid={`list-error-${e.driver}`}>
          {e.message}
        </div>
      ))}
      <div className="filters row">
        <input type="search" placeholder="Search by name or command" value={q} onChange={(e) => setQ(e.target.value)} aria-label="Search workloads" data-testid="workload-search" />
        <select value={driver} onChange={(e) => setDriver(e.target.value)} aria-label="Filter by driver">
          <option value="">All drivers</option>
          {DRIVER_IDS.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
        <select value={state} onChange={(e) => setState(e.target.value)} aria-label="Filter by state">
          <option value="">Any state</option>
          {WORKLOAD_STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <table className="list" data-testid="workload-list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Driver</th>
            <th>State</th>
            <th>What</th>
            <th aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {shown.map((id) => (
            <Row key={id} id={id} />
          ))}
        </tbody>
      </table>
      {shown.length === 0 && <p className="muted empty">{ids.length === 0 ? 'No workloads yet.' : 'Nothing matches the filters.'}</p>}
    </section>
  );
}

/** A row subscribes to its own workload only, so a change elsewhere does not re-render it. */
function Row({ id }: { id: string }) {
  const w = useWorkload(id);
  if (!w) return null;
  return (
    <tr data-testid={`workload-row-${id}`} className="clickable" onClick={() => go({ screen: 'workload', id })}>
      <td>
        <a href={href({ screen: 'workload', id })} onClick={(e) => e.stopPropagation()} data-testid={`workload-link-${id}`}>
          {w.name}
        </a>
        {!w.managed && <span className="muted"> (unmanaged)</span>}
      </td>
      <td className="mono">{w.driver}</td>
      <td>
        <StateBadge state={w.state} testId={`state-${id}`} />
      </td>
      <td className="mono ellipsis">
        {w.runtime && (
          <span className="badge runtime" title="sandbox runtime" data-testid={`runtime-${id}`}>
            {w.runtime}
          </span>
        )}{' '}
        {w.summary}
      </td>
      <td onClick={(e) => e.stopPropagation()}>
        <LifecycleButtons w={w} compact />
      </td>
    </tr>
  );
}
