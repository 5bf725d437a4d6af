import { create } from 'zustand';

export interface Notice {
  id: number;
  level: 'info' | 'warning' | 'error';
  message: string;
  workloadId?: string;
  at: number;
}

interface NoticesState {
  toasts: Notice[];
  /** Everything said this session, newest first. */
  log: Notice[];
  /** Toasts held back in the current burst (see notify). */
  suppressed: number;
  dismiss: (id: number) => void;
}

let seq = 1;
const TOAST_MS = 5000;
/** Toasts on screen at once: errors are kept over infos when there are more. */
const SHOWN = 3;
/** More than this many toasts within BURST_MS collapse into one "and N more" line. */
const BURST = 6;
const BURST_MS = 3000;
const recent: number[] = [];

export const useNotices = create<NoticesState>((set) => ({
  toasts: [],
  log: [],
  suppressed: 0,
  dismiss: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
}));

/**
 * Show a toast tied (optionally) to a workload, and keep it in the log. Errors stay until
 * dismissed. A burst (a script creating a thousand workloads) does not bury the screen:
 * past a few toasts, the rest are counted and pointed to the Events screen.
 */
export function notify(level: Notice['level'], message: string, workloadId?: string, opts: { sticky?: boolean } = {}): void {
  // An error the admin caused stays until read; what engines report by themselves goes by (it stays in the log).
  const sticky = opts.sticky ?? level === 'error';
  const now = Date.now();
  const n: Notice = { id: seq++, level, message, at: now, ...(workloadId ? { workloadId } : {}) };
  while (recent.length && now - recent[0]! > BURST_MS) recent.shift();
  recent.push(now);
  if (recent.length > BURST && !sticky) {
    useNotices.setState((s) => ({ suppressed: s.suppressed + 1, log: [n, ...s.log].slice(0, 500) }));
    return;
  }
  useNotices.setState((s) => ({ toasts: keep([...s.toasts, n]), log: [n, ...s.log].slice(0, 500) }));
  if (!sticky) setTimeout(() => useNotices.getState().dismiss(n.id), level === 'error' ? 3 * TOAST_MS : TOAST_MS);
}

/** Forget the burst counter (the toast that shows it was dismissed or expired). */
export const clearSuppressed = () => useNotices.setState({ suppressed: 0 });

/** The newest SHOWN toasts, dropping the oldest infos before any error. */
function keep(list: Notice[]): Notice[] {
  const out = [...list];
  while (out.length > SHOWN) {
    const info = out.findIndex((t) => t.level !== 'error');
    out.splice(info >= 0 ? info : 0, 1);
  }
  return out;
}
