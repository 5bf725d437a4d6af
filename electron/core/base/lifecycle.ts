/**
 * Everything that holds a resource (a subscription, a timer, a socket, a child) is a
 * Disposable, and whoever opens one owns its disposal. Closing a window or a WebSocket
 * disposes the store that collected what it opened.
 */
export interface Disposable {
  dispose(): void;
}

export function toDisposable(fn: () => void): Disposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      fn();
    },
  };
}

export class DisposableStore implements Disposable {
  private readonly items = new Set<Disposable>();
  private disposed = false;

  add<T extends Disposable>(d: T): T {
    if (this.disposed) d.dispose();
    else this.items.add(d);
    return d;
  }

  delete(d: Disposable): void {
    if (this.items.delete(d)) d.dispose();
  }

  /** Forget without disposing: the item was released by its own path. */
  forget(d: Disposable): void {
    this.items.delete(d);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const errors: unknown[] = [];
    for (const d of [...this.items].reverse()) {
      try {
        d.dispose();
      } catch (e) {
        errors.push(e);
      }
    }
    this.items.clear();
    if (errors.length) throw new AggregateError(errors, 'dispose failed');
  }
}

/** A typed event source: private emitter, public `event` to subscribe to. */
export class Emitter<T> implements Disposable {
  private listeners = new Set<(value: T) => void>();

  readonly event = (listener: (value: T) => void): Disposable => {
    this.listeners.add(listener);
    return toDisposable(() => this.listeners.delete(listener));
  };

  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(value);
      } catch (e) {
        // One broken listener must not starve the others.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}

/** An interval that is a Disposable, so no timer outlives its owner. */
export function interval(ms: number, fn: () => void): Disposable {
  const h = setInterval(fn, ms);
  h.unref?.();
  return toDisposable(() => clearInterval(h));
}
