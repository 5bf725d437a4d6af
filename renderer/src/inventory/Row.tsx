import { memo } from 'react';
import { LifecycleButtons } from '../components/LifecycleButtons.js';
import { Sparkline } from '../components/Sparkline.js';
import { StateBadge } from '../components/StateBadge.js';
import { bytes, duration, percent } from '../../../shared/format.js';
import { go, href } from '../router.js';
import { useNow } from '../stores/clock.js';
import { useRowMetric } from '../stores/row-metrics.js';
import { useWorkload } from '../stores/workloads.js';

export const ROW_HEIGHT = 44;

/**
 * One inventory row. It subscribes to its own workload and its own numbers only, so a
 * change to another workload, or another row's sample, does not re-render it.
 */
export const Row = memo(function Row({ id, top, active, onFocusRow }: { id: string; top: number; active: boolean; onFocusRow: (id: string) => void }) {
  const w = useWorkload(id);
  if (!w) return null;
  const running = w.state === 'running' || w.state === 'paused';
  return (
    <div
      className={`vrow${active ? ' active' : ''}`}
      style={{ transform: `translateY(${top}px)`, height: ROW_HEIGHT }}
      role="row"
      data-testid={`workload-row-${id}`}
      data-state={w.state}
      onClick={() => go({ screen: 'workload', id, tab: 'overview' })}
    >
      <div className="cell-name" role="cell">
        <a href={href({ screen: 'workload', id, tab: 'overview' })} onClick={(e) => e.stopPropagation()} onFocus={() => onFocusRow(id)} data-testid={`workload-link-${id}`} tabIndex={active ? 0 : -1}>
          {w.name}
        </a>
        {!w.managed && <span className="muted"> (unmanaged)</span>}
        <div className="muted mono ellipsis small" title={w.summary}>
          {w.runtime && (
            <span className="badge runtime" title="accelerator or sandbox runtime" data-testid={`runtime-${id}`}>
              {w.runtime}
            </span>
          )}
          {w.summary}
        </div>
      </div>
      <div className="mono" role="cell" data-testid={`driver-${id}`}>
        {w.driver}
      </div>
      <div role="cell">
        <StateBadge state={w.state} testId={`state-${id}`} />
      </div>
      {running ? <LiveCells id={id} /> : <IdleCells id={id} />}
      <div role="cell" className="num" data-testid={`uptime-${id}`}>
        {running && w.startedAt ? <Uptime since={w.startedAt} /> : '—'}
      </div>
      <div role="cell" onClick={(e) => e.stopPropagation()}>
        <LifecycleButtons w={w} compact />
      </div>
    </div>
  );
});

function LiveCells({ id }: { id: string }) {
  const m = useRowMetric(id);
  return (
    <>
      <div role="cell" className="num cpu-cell">
        <span data-testid={`cpu-${id}`}>{m ? percent(m.cpu) : '…'}</span>
        <Sparkline values={m?.spark ?? []} testId={`spark-${id}`} />
      </div>
      <div role="cell" className="num" data-testid={`mem-${id}`}>
        {m ? bytes(m.mem) : '…'}
      </div>
    </>
  );
}

function IdleCells({ id }: { id: string }) {
  return (
    <>
      <div role="cell" className="num cpu-cell muted" data-testid={`cpu-${id}`}>
        —
      </div>
      <div role="cell" className="num muted" data-testid={`mem-${id}`}>
        —
      </div>
    </>
  );
}

function Uptime({ since }: { since: string }) {
  const now = useNow();
  return <>{duration(now - Date.parse(since))}</>;
}
