import { href } from '../router.js';
import { useNotices } from '../stores/notices.js';
import { Modal } from './Modal.js';

/**
 * Everything the toasts said this session, newest first, including what a burst kept off
 * the screen; each tied to its workload. The durable record is the Events screen.
 */
export function NotificationCenter({ onClose }: { onClose: () => void }) {
  const log = useNotices((s) => s.log);
  return (
    <Modal title="Notifications" onClose={onClose} testId="notifications" wide>
      <ul className="notifications">
        {log.slice(0, 200).map((n) => (
          <li key={n.id} className={`toast-${n.level}`} data-testid="notification" data-level={n.level} data-workload={n.workloadId ?? ''}>
            <span className="muted mono small">{new Date(n.at).toLocaleTimeString()}</span>
            <span>{n.message}</span>
            {n.workloadId ? (
              <a href={href({ screen: 'workload', id: n.workloadId })} onClick={onClose}>
                Open
              </a>
            ) : (
              <span />
            )}
          </li>
        ))}
        {log.length === 0 && <li className="muted">Nothing yet.</li>}
      </ul>
      <div className="row end">
        <a href={href({ screen: 'events' })} onClick={onClose}>
          The event log
        </a>
        <button onClick={() => useNotices.setState({ log: [] })}>Clear</button>
        <button className="primary" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}
