import type { Progress } from '../../../shared/model.js';
import { bytes } from '../../../shared/format.js';

/** A long operation's progress as the core reports it: a bar when there is a total, else a moving stripe. */
export function ProgressBar({ progress, testId }: { progress: Progress | undefined; testId?: string }) {
  const total = progress?.total;
  const done = progress?.done ?? 0;
  const pct = total ? Math.min(100, Math.round((done / total) * 100)) : undefined;
  const figures =
    progress?.unit === 'bytes' && total ? `${bytes(done)} of ${bytes(total)}` : progress?.unit === 'steps' && total ? `step ${Math.min(done + 1, total)} of ${total}` : pct !== undefined ? `${pct}%` : '';
  return (
    <div className="progress" data-testid={testId} data-done={done} data-total={total ?? ''}>
      <div className="progress-track" role="progressbar" aria-valuemin={0} aria-valuemax={100} {...(pct !== undefined ? { 'aria-valuenow': pct } : {})}>
        <div className={`progress-fill${pct === undefined ? ' indeterminate' : ''}`} style={pct !== undefined ? { width: `${pct}%` } : undefined} />
      </div>
      <div className="progress-text">
        <span>{progress?.label ?? 'Working…'}</span>
        <span className="muted">{figures}</span>
      </div>
    </div>
  );
}
