import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type {
  MethodName,
  MethodOutput,
  MethodParsedInput,
  StreamEvent,
  StreamName,
  StreamParsedInput,
} from '../../../shared/contract/index.js';
import { isMethodName, isStreamName, methods, streams } from '../../../shared/contract/index.js';
import type { StreamSink } from '../../../shared/contract/wire.js';
import type { Result } from '../../../shared/errors.js';
import type { Progress } from '../../../shared/model.js';
import { validate } from '../../../shared/validate.js';
import { toErrorData } from '../base/errors.js';
import { type Disposable, toDisposable } from '../base/lifecycle.js';
import type { OpContext, Origin } from '../drivers/driver.js';

/** Who is calling, and the client's id for a long operation (to cancel it and tie progress to it). */
export interface CallMeta {
  origin: Origin;
  op?: string;
  /** The connection: one id per window, WebSocket or in-process client, chosen by the transport, never by the caller. */
  client?: string;
}

/** One answered call, for the event log and the structured log (observability/recorder.ts). */
export interface CallRecord {
  method: MethodName;
  /** The validated input: the recorder picks ids from it and never logs it whole. */
  input: unknown;
  meta: { origin: Origin; op: string };
  durationMs: number;
  result: Result<unknown>;
}

export type MethodImpl = {
  [M in MethodName]: (input: MethodParsedInput<M>, ctx: OpContext) => Promise<MethodOutput<M>>;
};
export type StreamImpl = {
  [S in StreamName]: (input: StreamParsedInput<S>, sink: StreamSink<StreamEvent<S>>, meta: CallMeta) => Disposable;
};

/**
 * The one entry into the core. Every transport hands raw, untrusted input here; it is
 * validated against the contract's schema before any handler sees it, and every error
 * leaves as data.
 */
export class Router {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly methodImpl: MethodImpl,
    private readonly streamImpl: StreamImpl,
    private readonly onProgress: (p: Progress) => void,
    private readonly onCall: (c: CallRecord) => void = () => undefined,
    /** Told before a validated call runs; onCall is then always told when it ends. */
    private readonly onBegin: (method: MethodName, input: unknown) => void = () => undefined,
  ) {}

  async call(name: unknown, input: unknown, meta: CallMeta): Promise<Result<unknown>> {
    if (!isMethodName(name)) {
      return { ok: false, error: { code: 'INVALID_ARGUMENT', message: `method: '${String(name).slice(0, 100)}' is not a NovaCron method`, field: 'method' } };
    }
    const parsed = validate(methods[name].input, input);
    if (!parsed.ok) return parsed;
    const op = typeof meta.op === 'string' && meta.op.length <= 128 ? meta.op : randomUUID();
    const ac = new AbortController();
    // One call may fan out to a request per container of a busy engine, each listening on this signal.
    setMaxListeners(0, ac.signal);
    if (methods[name].long) this.running.set(op, ac);
    const workloadId = typeof (parsed.value as { id?: unknown }).id === 'string' ? (parsed.value as { id: string }).id : undefined;
    const ctx: OpContext = {
      signal: ac.signal,
      origin: meta.origin,
      ...(meta.client !== undefined ? { client: meta.client } : {}),
      progress: (p) => this.onProgress({ ...p, op, ...(workloadId && !p.workloadId ? { workloadId } : {}) }),
    };
    try {
      this.onBegin(name, parsed.value);
    } catch {
      // As onCall below: recording never changes a call.
    }
    const started = performance.now();
    let result: Result<unknown>;
    try {
      const impl = this.methodImpl[name] as (i: unknown, c: OpContext) => Promise<unknown>;
      result = { ok: true, value: await impl(parsed.value, ctx) };
    } catch (e) {
      result = { ok: false, error: toErrorData(e) };
    } finally {
      this.running.delete(op);
    }
    try {
      this.onCall({ method: name, input: parsed.value, meta: { origin: meta.origin, op }, durationMs: performance.now() - started, result });
    } catch {
      // Recording is best effort: it never changes a call's answer.
    }
    return result;
  }

  cancel(op: string): boolean {
    const ac = this.running.get(op);
    ac?.abort();
    return ac !== undefined;
  }

  subscribe(name: unknown, input: unknown, sink: StreamSink, meta: CallMeta): Disposable {
    if (!isStreamName(name)) {
      sink.error?.({ code: 'INVALID_ARGUMENT', message: `stream: '${String(name).slice(0, 100)}' is not a NovaCron stream`, field: 'stream' });
      return toDisposable(() => undefined);
    }
    const parsed = validate(streams[name].input, input);
    if (!parsed.ok) {
      sink.error?.(parsed.error);
      return toDisposable(() => undefined);
    }
    try {
      const impl = this.streamImpl[name] as (i: unknown, s: StreamSink, m: CallMeta) => Disposable;
      return impl(parsed.value, sink, meta);
    } catch (e) {
      sink.error?.(toErrorData(e));
      return toDisposable(() => undefined);
    }
  }

  dispose(): void {
    for (const ac of this.running.values()) ac.abort();
    this.running.clear();
  }
}
