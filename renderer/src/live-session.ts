/**
 * What a VNC console and a terminal have in common: a connection that lives outside React
 * (so switching tabs moves its element instead of reconnecting), an observable state for
 * useSyncExternalStore, and the rule for following the workload across restarts.
 */
export abstract class LiveSession<S extends { status: string; error?: string }> {
  readonly element: HTMLDivElement;
  private readonly listeners = new Set<() => void>();
  /** Bumped per connection, so the events of an old connection never touch the new state. */
  protected generation = 0;
  /** Which run of the workload (its start time) the connection belongs to; see follow(). */
  private runKey: string | undefined;

  protected constructor(
    className: string,
    protected state: S,
  ) {
    this.element = document.createElement('div');
    this.element.className = className;
  }

  get snapshot(): S {
    return this.state;
  }

  readonly subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  protected set(patch: Partial<S>): void {
    this.state = { ...this.state, ...patch };
    this.notify();
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  abstract connect(): void | Promise<void>;

  /** Drop the current connection (if any) so that nothing it still sends lands. */
  protected abstract close(): void;

  /**
   * The workload now runs as `runKey` (a start time). When that changes (a restart, a
   * migration onto a new QEMU) the old screen or TTY is gone: connect to the new one,
   * whether or not a view was showing it at that moment.
   */
  follow(runKey: string | undefined, available: boolean): void {
    const before = this.runKey;
    this.runKey = runKey;
    if (before !== undefined && before !== runKey && available && this.state.status !== 'connecting' && this.state.status !== 'idle') void this.connect();
  }

  /** The workload stopped: back to idle, so it connects again by itself when it runs. */
  reset(): void {
    if (this.state.status === 'idle') return;
    this.close();
    // Spelled out rather than through set(): a Partial<S> cannot name a status for every S.
    this.state = { ...this.state, status: 'idle', error: undefined };
    this.notify();
  }

  dispose(): void {
    this.close();
    this.listeners.clear();
    this.element.remove();
  }
}

/**
 * The sessions kept open in the background, most recently shown last; past `keep`, the
 * least recently shown are disposed (each holds a socket and, for VNC, a canvas).
 */
export class SessionCache<T extends { dispose(): void }> {
  private readonly sessions = new Map<string, T>();

  constructor(private readonly keep: number) {}

  get(key: string, make: () => T): T {
    let s = this.sessions.get(key);
    if (s) this.sessions.delete(key);
    else s = make();
    this.sessions.set(key, s);
    for (const [k, old] of this.sessions) {
      if (this.sessions.size <= this.keep) break;
      if (k !== key) {
        old.dispose();
        this.sessions.delete(k);
      }
    }
    return s;
  }

  drop(key: string): void {
    this.sessions.get(key)?.dispose();
    this.sessions.delete(key);
  }
}
