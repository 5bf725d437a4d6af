import { useState } from 'react';
import { nameProblem } from '../../../shared/schemas.js';
import type { SnapshotInfo, WorkloadInfo } from '../../../shared/model.js';
import { Field } from '../components/Field.js';
import { Modal } from '../components/Modal.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { notify } from '../stores/notices.js';
import { track, useOperation } from '../stores/operations.js';

const suggested = () => `snap-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;

/** Name a snapshot and take it, with the core's progress; the name is checked as the contract checks it. */
export function SnapshotDialog({ w, onClose, onTaken }: { w: WorkloadInfo; onClose: () => void; onTaken?: (s: SnapshotInfo) => void }) {
  const [name, setName] = useState(suggested);
  const [op, setOp] = useState<string | undefined>();
  const running = useOperation(op);
  const problem = nameProblem(name);
  const take = async () => {
    try {
      const snap = await track('snapshots.create', { id: w.id, name }, { label: `Snapshot ${w.name}`, workloadId: w.id, onOp: setOp });
      notify('info', `${w.name}: snapshot '${snap.name}' taken`, w.id);
      onTaken?.(snap);
      onClose();
    } catch (e) {
      notify('error', `${w.name}: snapshot failed: ${(e as Error).message}`, w.id);
      setOp(undefined);
    }
  };
  return (
    <Modal title={`Snapshot ${w.name}`} onClose={() => !op && onClose()} testId="snapshot-dialog">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!problem && !op) void take();
        }}
      >
        <Field name="snapshot-name" label="Name" error={problem}>
          <input value={name} onChange={(e) => setName(e.target.value)} disabled={op !== undefined} data-testid="snapshot-name" data-autofocus />
        </Field>
        <p className="muted">
          {w.state === 'running' || w.state === 'paused' ? 'Taken live where the driver can (a VM keeps its memory).' : 'Taken while stopped: the disk or filesystem only.'}
        </p>
        {op && <ProgressBar progress={running?.progress} testId="snapshot-progress" />}
        <div className="row end">
          <button type="button" onClick={onClose} disabled={op !== undefined}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={problem !== undefined || op !== undefined} data-testid="snapshot-take">
            {op ? 'Taking…' : 'Take snapshot'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
