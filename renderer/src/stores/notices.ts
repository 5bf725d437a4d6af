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
  /** Everything said this session, newest first, for the event screen. */
  log: Notice[];
  dismiss: (id: number) => void;
}

let seq = 1;
const TOAST_MS = 6000;

export const useNotices = create<NoticesState>((set) => ({
  toasts: [],
  log: [],
  dismiss: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
}));

/** Show a toast tied (optionally) to a workload, and keep it in the log. Errors stay until dismissed. */
export function notify(level: Notice['level'], message: string, workloadId?: string): void {
  const n: Notice = { id: seq++, level, message, at: Date.now(), ...(workloadId ? { workloadId } : {}) };
  useNotices.setState((s) => ({ toasts: [...s.toasts.slice(-4), n], log: [n, ...s.log].slice(0, 500) }));
  if (level !== 'error') setTimeout(() => useNotices.getState().dismiss(n.id), TOAST_MS);
}
