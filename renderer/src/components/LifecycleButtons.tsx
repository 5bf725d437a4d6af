import { useState } from 'react';
import { whyNot, type Action } from '../../../shared/actions.js';
import type { WorkloadInfo } from '../../../shared/model.js';
import { ACTION_LABELS, DESTRUCTIVE, runAction } from '../actions.js';
import { useDrivers } from '../stores/drivers.js';
import { useWorkloads } from '../stores/workloads.js';
import { go } from '../router.js';
import { Confirm } from './Confirm.js';

const SHOWN: Action[] = ['start', 'stop', 'forceStop', 'restart', 'pause', 'resume', 'delete'];

/** Buttons enabled by capability × state (the shared predicates), busy while an action runs. */
export function LifecycleButtons({ w, compact = false }: { w: WorkloadInfo; compact?: boolean }) {
  const caps = useDrivers((s) => s.byId[w.driver]?.capabilities);
  const busy = useWorkloads((s) => s.busy[w.id]);
  const [asking, setAsking] = useState<Action | undefined>();
  if (!caps) return null;

  const fire = (a: Action) => {
    if (DESTRUCTIVE.has(a)) setAsking(a);
    else void runAction(w, a);
  };
  return (
    <div className="actions" role="group" aria-label={`Actions for ${w.name}`}>
      {SHOWN.map((a) => {
        const reason = whyNot(a, w, caps);
        if (compact && reason) return null;
        return (
          <button
            key={a}
            className={DESTRUCTIVE.has(a) ? 'danger' : ''}
            disabled={reason !== undefined || busy !== undefined}
            title={reason ?? ACTION_LABELS[a]}
            aria-busy={busy === a}
            data-testid={`action-${a}-${w.id}`}
            onClick={() => fire(a)}
          >
            {busy === a ? `${ACTION_LABELS[a]}…` : ACTION_LABELS[a]}
          </button>
        );
      })}
      {asking && (
        <Confirm
          title={asking === 'delete' ? `Delete ${w.name}?` : `Force stop ${w.name}?`}
          body={
            asking === 'delete'
              ? `This removes ${w.name} and everything NovaCron keeps for it${w.state === 'running' || w.state === 'paused' ? ', stopping it first' : ''}. It cannot be undone.`
              : `${w.name} is killed at once, without a chance to save anything.`
          }
          confirmLabel={asking === 'delete' ? 'Delete' : 'Force stop'}
          onCancel={() => setAsking(undefined)}
          onConfirm={() => {
            const a = asking;
            setAsking(undefined);
            void runAction(w, a).then(() => {
              if (a === 'delete') go({ screen: 'workloads' });
            });
          }}
        />
      )}
    </div>
  );
}
