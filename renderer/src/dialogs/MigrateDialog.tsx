import { useRef, useState } from 'react';
import type { WorkloadInfo } from '../../../shared/model.js';
import { Field } from '../components/Field.js';
import { Modal } from '../components/Modal.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { notify } from '../stores/notices.js';
import { cancelOperation, track, useOperation } from '../stores/operations.js';
import { useWorkloads } from '../stores/workloads.js';

/** What a driver's migration target looks like, by example; the core checks it. */
const HINTS: Partial<Record<string, string>> = {
  kvm: '`local` for a fresh QEMU on this host, or tcp:HOST:PORT of a VM prepared with --incoming',
  container: 'Another Docker engine: unix:///path/docker.sock, tcp://host:2375 or ssh://user@host',
};

/** The downtime QEMU reports rides in the progress label ("…, downtime 12 ms"). */
const downtimeOf = (label: string | undefined) => /downtime (\d+) ms/.exec(label ?? '')?.[1];

/**
 * Move a workload: the target, a progress bar with transferred/total and the downtime as
 * the core reports them, and Cancel (operations.cancel with this operation's id).
 */
export function MigrateDialog({ w, onClose }: { w: WorkloadInfo; onClose: () => void }) {
  const [to, setTo] = useState(w.driver === 'kvm' ? 'local' : '');
  const [op, setOp] = useState<string | undefined>();
  const [cancelling, setCancelling] = useState(false);
  const [result, setResult] = useState<string | undefined>();
  const running = useOperation(op);
  // The last label outlives the operation: the final downtime is in it.
  const lastLabel = useRef<string | undefined>(undefined);
  if (running?.progress?.label) lastLabel.current = running.progress.label;

  const start = async () => {
    setResult(undefined);
    try {
      const after = await track('workloads.migrate', { id: w.id, to: to.trim() }, { label: `Migrate ${w.name}`, workloadId: w.id, onOp: setOp });
      useWorkloads.getState().upsert(after);
      const downtime = downtimeOf(lastLabel.current);
      notify('info', `${w.name}: migrated to ${to.trim()}${downtime ? `, downtime ${downtime} ms` : ''}`, w.id);
      onClose();
    } catch (e) {
      setResult((e as Error).message);
      notify('error', `${w.name}: migration failed: ${(e as Error).message}`, w.id);
    } finally {
      setOp(undefined);
      setCancelling(false);
    }
  };
  const downtime = downtimeOf(running?.progress?.label ?? lastLabel.current);
  return (
    <Modal title={`Migrate ${w.name}`} onClose={() => !op && onClose()} testId="migrate-dialog">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (to.trim() && !op) void start();
        }}
      >
        <Field name="migrate-to" label="Target" error={to.trim() ? undefined : 'is required'} hint={HINTS[w.driver] ?? 'Where the driver should move it'}>
          <input value={to} onChange={(e) => setTo(e.target.value)} className="mono" disabled={op !== undefined} data-testid="migrate-to" data-autofocus />
        </Field>
        {op && (
          <>
            <ProgressBar progress={running?.progress} testId="migrate-progress" />
            <div className="muted" data-testid="migrate-downtime">
              {downtime ? `Downtime ${downtime} ms` : 'Downtime: not known yet'}
            </div>
          </>
        )}
        {result && (
          <div className="banner banner-error" data-testid="migrate-error">
            {result}
          </div>
        )}
        <div className="row end">
          {op ? (
            <button
              type="button"
              className="danger"
              disabled={cancelling}
              onClick={() => {
                setCancelling(true);
                void cancelOperation(op);
              }}
              data-testid="migrate-cancel"
            >
              {cancelling ? 'Cancelling…' : 'Cancel migration'}
            </button>
          ) : (
            <button type="button" onClick={onClose}>
              Close
            </button>
          )}
          <button type="submit" className="primary" disabled={!to.trim() || op !== undefined} data-testid="migrate-start">
            {op ? 'Migrating…' : 'Migrate'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
