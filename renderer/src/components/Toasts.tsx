import { href } from '../router.js';
import { clearSuppressed, useNotices } from '../stores/notices.js';

/** Operation results and what the drivers reported; errors stay until dismissed, so the real message can be read. */
export function Toasts() {
  const toasts = useNotices((s) => s.toasts);
  const suppressed = useNotices((s) => s.suppressed);
  const dismiss = useNotices((s) => s.dismiss);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.level}`} data-testid={`toast-${t.level}`} data-workload={t.workloadId ?? ''}>
          <span>
            {t.message}
            {t.workloadId && (
              <>
                {' '}
                <a href={href({ screen: 'workload', id: t.workloadId, tab: 'overview' })}>Open</a>
              </>
            )}
          </span>
          <button className="link" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
      {suppressed > 0 && (
        <div className="toast toast-info" data-testid="toast-more">
          <span>
            …and {suppressed} more: <a href={href({ screen: 'events' })} onClick={clearSuppressed}>Events</a>
          </span>
          <button className="link" aria-label="Dismiss" onClick={clearSuppressed}>
            ×
          </button>
        </div>
      )}
    </div>
  );
}
