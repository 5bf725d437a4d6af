/**
 * An engine tells of each operation through its event stream, and a watcher reads the
 * workload on each event to show it. For this process's own operations that read lands
 * beside the operation (or the next one) and contends with it in the engine: a start or a
 * stop sends two or more events. So while an operation of ours runs on a workload, the
 * watcher holds that workload's events and reads it once the operation has ended, once for
 * all of them. Used by the docker and containerd watchers.
 */

/** How long an event waits for this process's operation on its workload before it is read anyway. */
const OP_WAIT_MAX_MS = 10_000;

/**
 * An operation counts as ended this long after it settled. The caller has the new state in
 * the answer, so the held read (for other clients and the event log) is in no hurry, and a
 * client that sends its next command on the workload as the answer comes (a script, a bulk
 * action, a page over the WebSocket: a millisecond or two later) begins it within this
 * time: the read then waits for that one too, and is made once, after both. Read at once,
 * it landed in the next command and slowed it by up to ~1.4 ms (bench lifecycle figures,
 * WebSocket path).
 */
const OP_GRACE_MS = 25;

const noop = () => undefined;

/** Settles when p does, or after ms, whichever comes first. */
function boundedWait(p: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    void p.then(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Operations of this process under way, by workload (local id), each settled when it ends. */
export class OwnOps {
  private readonly ops = new Map<string, Promise<void>>();

  /** Track `op` on `local` while it runs. Call it once the workload's lock is held: a call refused for a busy lock is no operation of ours. */
  track<T>(local: string, op: Promise<T>): Promise<T> {
    // Ended OP_GRACE_MS later: the router has recorded the operation and its answer has left
    // long before, so a read the watcher held back does not lengthen the answer.
    const ended = op.then(noop, noop).then(() => new Promise<void>((resolve) => setTimeout(resolve, OP_GRACE_MS).unref()));
    this.ops.set(local, ended);
    void ended.then(() => {
      if (this.ops.get(local) === ended) this.ops.delete(local);
    });
    return op;
  }

  /** Settles when this process's operation on `local` has ended; undefined when none runs. */
  busy(local: string): Promise<void> | undefined {
    return this.ops.get(local);
  }
}

/**
 * An engine's events, handled in order per workload (a die must not overtake the start
 * before it), while other workloads' events go on beside them.
 */
export class EventChains {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly newest = new Map<string, number>();
  private seq = 0;

  /**
   * Handle an event of `key` after that key's earlier ones. `busy` says which operation of
   * this process runs on it now (OwnOps.busy). `handle` calls `shouldRead()` before it reads
   * the workload: when an operation ran as the event came, that waits for it to end, and for
   * any operation of ours on the workload begun meanwhile (a UI or a script sends its next
   * command as the answer comes: a read let go between two operations would land in the
   * second), 10 s at most in all; then it says whether this is still the key's newest event:
   * if not, the newer one reads it.
   */
  push(key: string, busy: () => Promise<void> | undefined, handle: (shouldRead: () => Promise<boolean>) => Promise<unknown>): void {
    const n = ++this.seq;
    this.newest.set(key, n);
    const first = busy();
    const shouldRead = async () => {
      if (!first) return true;
      const deadline = Date.now() + OP_WAIT_MAX_MS;
      for (let op: Promise<void> | undefined = first; op && Date.now() < deadline; ) {
        await boundedWait(op, deadline - Date.now());
        const now = busy();
        op = now === op ? undefined : now;
      }
      return this.newest.get(key) === n;
    };
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() => handle(shouldRead)).then(noop, noop);
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) !== next) return;
      this.chains.delete(key);
      this.newest.delete(key);
    });
  }
}
