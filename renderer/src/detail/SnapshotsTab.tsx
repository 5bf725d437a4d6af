import { useCallback, useEffect, useState } from 'react';
import type { SnapshotInfo, WorkloadInfo } from '../../../shared/model.js';
import { Confirm } from '../components/Confirm.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { SnapshotDialog } from '../dialogs/SnapshotDialog.js';
import { bytes, time } from '../../../shared/format.js';
import { notify } from '../stores/notices.js';
import { track, useOperation } from '../stores/operations.js';
import { useWorkloads } from '../stores/workloads.js';
import { client } from '../transport/client.js';

type Asking = { kind: 'revert' | 'delete'; name: string } | undefined;

/** A workload's snapshots: list, take one (with progress), revert to one (asked first), delete. */
export function SnapshotsTab({ w, canTake }: { w: WorkloadInfo; canTake: string | undefined }) {
  const [list, setList] = useState<SnapshotInfo[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [taking, setTaking] = useState(false);
  const [asking, setAsking] = useState<Asking>();
  const [op, setOp] = useState<string | undefined>();
  const [busyName, setBusyName] = useState<string | undefined>();
  const running = useOperation(op);

  const load = useCallback(() => {
    client.call('snapshots.list', { id: w.id }).then(
      (l) => {
        setList(l);
        setError(undefined);
      },
      (e: Error) => setError(e.message),
    );
  }, [w.id]);
  useEffect(load, [load]);

  const act = async (kind: 'revert' | 'delete', name: string) => {
    setBusyName(name);
    try {
      if (kind === 'revert') {
        useWorkloads.getState().upsert(await track('snapshots.revert', { id: w.id, name }, { label: `Revert ${w.name} to ${name}`, workloadId: w.id, onOp: setOp }));
        notify('info', `${w.name}: reverted to '${name}'`, w.id);
      } else {
        await track('snapshots.delete', { id: w.id, name }, { label: `Delete snapshot ${name}`, workloadId: w.id, onOp: setOp });
        notify('info', `${w.name}: snapshot '${name}' deleted`, w.id);
      }
    } catch (e) {
      notify('error', `${w.name}: ${kind} '${name}' failed: ${(e as Error).message}`, w.id);
    } finally {
      setBusyName(undefined);
      setOp(undefined);
      load();
    }
  };

  return (
    <div className="card">
      <div className="toolbar">
        <button className="primary" disabled={canTake !== undefined} title={canTake ?? 'Take a snapshot'} onClick={() => setTaking(true)} data-testid="snapshot-new">
          Take snapshot…
        </button>
        <button onClick={load}>Refresh</button>
      </div>
      {error && <div className="banner banner-error">{error}</div>}
      {busyName && <ProgressBar progress={running?.progress} testId="snapshot-op-progress" />}
      <table className="list" data-testid="snapshot-list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Kind</th>
            <th>Taken</th>
            <th>Size</th>
            <th aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {list?.map((s) => (
            <tr key={s.name} data-testid={`snapshot-${s.name}`}>
              <td className="mono">{s.name}</td>
              <td>{s.kind ?? '—'}</td>
              <td>{time(s.createdAt)}</td>
              <td>{bytes(s.sizeBytes)}</td>
              <td className="actions">
                <button disabled={busyName !== undefined} onClick={() => setAsking({ kind: 'revert', name: s.name })} data-testid={`snapshot-revert-${s.name}`}>
                  Revert
                </button>
                <button className="danger" disabled={busyName !== undefined} onClick={() => setAsking({ kind: 'delete', name: s.name })} data-testid={`snapshot-delete-${s.name}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list && list.length === 0 && <p className="muted empty">No snapshots yet.</p>}
      {taking && <SnapshotDialog w={w} onClose={() => setTaking(false)} onTaken={load} />}
      {asking && (
        <Confirm
          title={asking.kind === 'revert' ? `Revert ${w.name} to '${asking.name}'?` : `Delete snapshot '${asking.name}'?`}
          body={asking.kind === 'revert' ? `Everything ${w.name} did since '${asking.name}' is lost.` : `The snapshot '${asking.name}' is removed for good.`}
          confirmLabel={asking.kind === 'revert' ? 'Revert' : 'Delete'}
          onCancel={() => setAsking(undefined)}
          onConfirm={() => {
            const a = asking;
            setAsking(undefined);
            void act(a.kind, a.name);
          }}
        />
      )}
    </div>
  );
}
