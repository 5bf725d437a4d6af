import { useNotices } from '../stores/notices.js';

/** Operation results and driver notices; errors stay until dismissed, so the real message can be read. */
export function Toasts() {
  const toasts = useNotices((s) => s.toasts);
  const dismiss = useNotices((s) => s.dismiss);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.level}`} data-testid={`toast-${t.level}`}>
          <span>{t.message}</span>
          <button className="link" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
