import { CAPABILITIES, CAPABILITY_LABELS } from '../../../shared/capabilities.js';
import { useDrivers } from '../stores/drivers.js';

/** The capability matrix: rows are drivers, columns capabilities, every "no" with its reason. */
export function DriversScreen() {
  const list = useDrivers((s) => s.list);
  const load = useDrivers((s) => s.load);
  return (
    <section className="screen">
      <header className="screen-head">
        <h1>Drivers</h1>
        <button onClick={() => void load(true)} data-testid="drivers-refresh">
          Detect again
        </button>
      </header>
      <div className="matrix-wrap">
        <table className="matrix" data-testid="capability-matrix">
          <thead>
            <tr>
              <th scope="col">Driver</th>
              <th scope="col">Available</th>
              <th scope="col">Version</th>
              {CAPABILITIES.map((c) => (
                <th scope="col" key={c} className="cap-head">
                  <span>{CAPABILITY_LABELS[c]}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.id} data-testid={`driver-row-${d.id}`}>
                <th scope="row">
                  {d.name}
                  <div className="muted mono">{d.id}</div>
                </th>
                <td>
                  <Cell yes={d.available} reason={d.reason} testId={`driver-available-${d.id}`} />
                </td>
                <td className="mono">{d.version ?? '—'}</td>
                {CAPABILITIES.map((c) => (
                  <td key={c}>
                    <Cell yes={d.capabilities[c].available} reason={d.capabilities[c].reason} testId={`cap-${d.id}-${c}`} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** One cell: yes or no, the reason on hover and on keyboard focus. */
function Cell({ yes, reason, testId }: { yes: boolean; reason: string | undefined; testId: string }) {
  const tipId = `${testId}-why`;
  return (
    <span
      className={`cell ${yes ? 'yes' : 'no'}`}
      tabIndex={0}
      data-testid={testId}
      data-available={yes}
      aria-label={yes ? 'yes' : `no: ${reason ?? ''}`}
      aria-describedby={reason ? tipId : undefined}
    >
      {yes ? '✓' : '✗'}
      {reason && (
        <span role="tooltip" id={tipId} className="tip">
          {reason}
        </span>
      )}
    </span>
  );
}
