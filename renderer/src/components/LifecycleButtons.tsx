import { Suspense, useState } from 'react';
import { whyNot, type Action } from '../../../shared/actions.js';
import type { WorkloadInfo } from '../../../shared/model.js';
import { ACTION_LABELS, DESTRUCTIVE, LIFECYCLE, isDirect, runAction } from '../actions.js';
import { MigrateDialog, ScaleDialog, SnapshotDialog } from '../dialogs/lazy.js';
import { useDrivers } from '../stores/drivers.js';
import { useWorkloads } from '../stores/workloads.js';
import { go } from '../router.js';
import { Confirm } from './Confirm.js';

/** What a row has room for: the everyday actions, when they apply. */
const COMPACT: Action[] = ['start', 'stop', 'pause', 'resume'];

export type Asking = Action | undefined;

/**
 * Buttons enabled by capability × state (the shared predicates, each disabled one says
 * why), busy while an action runs, a confirmation before what cannot be undone, and the
 * dialogs of snapshot, migrate and scale.
 */
export function LifecycleButtons({ w, compact = false }: { w: WorkloadInfo; compact?: boolean }) {
  const caps = useDrivers((s) => s.byId[w.driver]?.capabilities);
  const busy = useWorkloads((s) => s.busy[w.id]);
  const [asking, setAsking] = useState<Asking>();
  if (!caps) return null;

  const shown = compact ? COMPACT : LIFECYCLE;
  return (
    <div className="actions" role="group" aria-label={`Actions for ${w.name}`}>
      {shown.map((a) => {
        const reason = whyNot(a, w, caps);
        if (compact && reason) return null;
        return (
          <button
            key={a}
            className={DESTRUCTIVE.has(a) ? 'danger' : a === 'start' ? 'primary' : ''}
            disabled={reason !== undefined || busy !== undefined}
            title={reason ?? ACTION_LABELS[a]}
            aria-busy={busy === a}
            data-testid={`action-${a}-${w.id}`}
            onClick={(e) => {
              e.stopPropagation();
              if (DESTRUCTIVE.has(a) || !isDirect(a)) setAsking(a);
              else void runAction(w, a);
            }}
          >
            {busy === a ? `${ACTION_LABELS[a]}…` : ACTION_LABELS[a]}
          </button>
        );
      })}
      <ActionDialog w={w} action={asking} onClose={() => setAsking(undefined)} />
    </div>
  );
}

/** The dialog an action needs before it runs, if any: shared by the buttons and the command palette. */
export function ActionDialog({ w, action, onClose }: { w: WorkloadInfo; action: Asking; onClose: () => void }) {
  const Form = action === 'snapshot' ? SnapshotDialog : action === 'migrate' ? MigrateDialog : action === 'scale' ? ScaleDialog : undefined;
  if (Form) {
    return (
      <Suspense fallback={null}>
        <Form w={w} onClose={onClose} />
      </Suspense>
    );
  }
  if (action !== 'delete' && action !== 'forceStop') return null;
  const active = w.state === 'running' || w.state === 'paused';
  return (
    <Confirm
      title={action === 'delete' ? `Delete ${w.name}?` : `Force stop ${w.name}?`}
      body={
        action === 'delete'
          ? `This removes ${w.name} and everything NovaCron keeps for it${active ? ', stopping it first' : ''}. It cannot be undone.`
          : `${w.name} is killed at once, without a chance to save anything.`
      }
      confirmLabel={action === 'delete' ? 'Delete' : 'Force stop'}
      onCancel={onClose}
      onConfirm={() => {
        onClose();
        if (action === 'delete') go({ screen: 'workloads' });
        void runAction(w, action);
      }}
    />
  );
}
