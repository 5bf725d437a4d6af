import type { Socket } from 'node:net';
import { NovaError } from '../../base/errors.js';
import { Emitter, type Disposable } from '../../base/lifecycle.js';
import { connectUnix } from '../../base/unix-socket.js';

/**
 * Our own small QMP client: JSON lines over a unix socket, each command with an id,
 * asynchronous events (STOP, RESUME, SHUTDOWN, MIGRATION, JOB_STATUS_CHANGE…) fanned out
 * to listeners, a timeout on every command, and an optional reconnect for holders of a
 * long-lived connection.
 *
 * QEMU serves one client per monitor socket; the next connection waits in the listen
 * backlog until the current one closes. So connections are short (one operation) and a
 * connect that never gets its greeting times out instead of hanging.
 */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpError extends Error {
  constructor(
    readonly qmpClass: string,
    desc: string,
  ) {
    super(desc);
    this.name = 'QmpError';
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export interface QmpConnectOptions {
  /** Give up connecting (socket missing, greeting never comes) after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Reconnect when the connection drops, until closed; pending commands fail with UNAVAILABLE. */
  reconnect?: boolean;
  /** Pause between connect attempts while the socket is not there yet (a QEMU starting). */
  retryMs?: number;
  /** One attempt: a missing or refused socket fails at once (a QEMU that is up has it listening). */
  once?: boolean;
}

const DEFAULT_COMMAND_TIMEOUT = 10_000;

export class QmpClient implements Disposable {
  private socket: Socket | undefined;
  private buf = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly events = new Emitter<QmpEvent>();
  private readonly closedEmitter = new Emitter<void>();
  private closedByUs = false;
  /** Fires each event QEMU sends. */
  readonly onEvent = this.events.event;
  /** Fires when the connection is gone for good (QEMU quit, or reconnect gave up). */
  readonly onClose = this.closedEmitter.event;

  private constructor(
    readonly path: string,
    private readonly opts: QmpConnectOptions,
  ) {}

  static async connect(path: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const c = new QmpClient(path, opts);
    await c.open(opts.timeoutMs ?? 5_000, opts.signal);
    return c;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  /** The connection was closed by QEMU's side, not by close() here. */
  get endedByPeer(): boolean {
    return !this.connected && !this.closedByUs;
  }

  private async open(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      signal?.throwIfAborted();
      try {
        await this.handshake(deadline - Date.now());
        this.established = true;
        return;
      } catch (e) {
        lastError = e;
        // The socket appears a moment after QEMU starts; a refused connect is retried.
        const code = (e as NodeJS.ErrnoException).code;
        if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || this.opts.once) break;
        await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 25));
      }
    }
    throw new NovaError('UNAVAILABLE', `QMP at ${this.path}: ${(lastError as Error | undefined)?.message ?? 'timed out'}`);
  }

  private async handshake(ms: number): Promise<void> {
    const sock = await connectUnix(this.path, ms);
    this.socket = sock;
    this.buf = '';
    const greeting = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no QMP greeting within ${Math.round(ms)} ms (another client holds the monitor?)`)), Math.max(ms, 1));
      this.greeted = () => {
        clearTimeout(timer);
        resolve();
      };
      sock.once('close', () => {
        clearTimeout(timer);
        reject(new Error('QMP connection closed during the greeting'));
      });
    });
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => this.onData(chunk));
    sock.on('error', () => undefined); // 'close' follows and says it
    sock.on('close', () => this.onSocketClose(sock));
    try {
      await greeting;
      await this.execute('qmp_capabilities', undefined, Math.max(ms, 1000));
    } catch (e) {
      sock.destroy();
      throw e;
    }
  }

  private greeted: (() => void) | undefined;
  /** Set after the first handshake: only an established connection is worth reconnecting. */
  private established = false;

  private onData(chunk: string): void {
    this.buf += chunk;
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) break;
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // not ours to crash on: QEMU only sends JSON here
      }
      this.dispatch(msg);
    }
  }

  private dispatch(msg: Record<string, unknown>): void {
    if ('QMP' in msg) {
      this.greeted?.();
      this.greeted = undefined;
      return;
    }
    if (typeof msg.event === 'string') {
      this.events.fire(msg as unknown as QmpEvent);
      return;
    }
    const id = typeof msg.id === 'number' ? msg.id : undefined;
    const p = id !== undefined ? this.pending.get(id) : undefined;
    if (!p || id === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('error' in msg) {
      const err = msg.error as { class?: string; desc?: string };
      p.reject(new QmpError(err.class ?? 'GenericError', err.desc ?? 'QMP error'));
    } else p.resolve(msg.return);
  }

  private onSocketClose(sock: Socket): void {
    if (this.socket !== sock) return;
    this.socket = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new NovaError('UNAVAILABLE', 'the QMP connection closed (QEMU ended?)'));
      this.pending.delete(id);
    }
    if (!this.established) return; // open() is still retrying and reports failure itself
    if (this.closedByUs || !this.opts.reconnect) {
      this.closedEmitter.fire();
      return;
    }
    void this.open(this.opts.timeoutMs ?? 5_000).catch(() => this.closedEmitter.fire());
  }

  /** Run a command; rejects with QmpError for QEMU's own errors and TIMEOUT after timeoutMs. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = DEFAULT_COMMAND_TIMEOUT): Promise<T> {
    const sock = this.socket;
    if (!sock || sock.destroyed) return Promise.reject(new NovaError('UNAVAILABLE', 'the QMP connection is closed'));
    // A number, the shortest id: QEMU's monitor reads its input a byte per main-loop turn (~4 µs a byte here).
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NovaError('TIMEOUT', `QMP ${command}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: (v) => resolve(v as T), reject, timer });
      sock.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }

  /** Wait for an event matching `pred`, up to timeoutMs; resolves undefined on timeout or abort. */
  waitEvent(pred: (e: QmpEvent) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<QmpEvent | undefined> {
    return new Promise((resolve) => {
      const done = (e: QmpEvent | undefined) => {
        clearTimeout(timer);
        sub.dispose();
        closed.dispose();
        signal?.removeEventListener('abort', onAbort);
        resolve(e);
      };
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const sub = this.onEvent((e) => pred(e) && done(e));
      const closed = this.onClose(() => done(undefined));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.closedByUs = true;
    this.socket?.destroy();
  }

  dispose(): void {
    this.close();
    this.events.dispose();
    this.closedEmitter.dispose();
  }
}

/** Open, run fn, close: the way every short operation talks to QEMU. */
export async function withQmp<T>(path: string, fn: (q: QmpClient) => Promise<T>, opts: QmpConnectOptions = {}): Promise<T> {
  const q = await QmpClient.connect(path, opts);
  try {
    return await fn(q);
  } finally {
    q.dispose();
  }
}
