/**
 * What a transport sends in one turn of the event loop waits here and leaves as ONE
 * message at the end of that turn (setImmediate), in order: a second of 1,000 workload
 * changes is one message the page handles in one task, not 1,000 tasks that starve its
 * frames, and one crossing of the transport (a WebSocket frame, an IPC message) instead
 * of 1,000.
 */
export function coalescer<T>(deliver: (batch: T[]) => void): (m: T) => void {
  let pending: T[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    deliver(batch);
  };
  return (m) => {
    if (pending.push(m) === 1) setImmediate(flush);
  };
}
