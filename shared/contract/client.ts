import type { ErrorCode, ErrorData } from '../errors.js';
import type {
  MethodInput,
  MethodName,
  MethodOutput,
  StreamEvent,
  StreamInput,
  StreamName,
} from './index.js';
import type { StreamSink, Transport } from './wire.js';

/** An error that came back from the core, with its code and the core's own message. */
export class RemoteError extends Error implements ErrorData {
  readonly code: ErrorCode;
  readonly driver?: string;
  readonly field?: string;
  constructor(data: ErrorData) {
    super(data.message);
    this.name = 'RemoteError';
    this.code = data.code;
    if (data.driver !== undefined) this.driver = data.driver;
    if (data.field !== undefined) this.field = data.field;
  }
}

/** The typed face of any transport: the CLI, the renderer and the tests all use this. */
export class NovaClient {
  constructor(private readonly transport: Transport) {}

  async call<M extends MethodName>(
    method: M,
    input: MethodInput<M>,
    opts: { op?: string } = {},
  ): Promise<MethodOutput<M>> {
    const r = await this.transport.call(method, input, opts.op);
    if (!r.ok) throw new RemoteError(r.error);
    return r.value as MethodOutput<M>;
  }

  subscribe<S extends StreamName>(
    stream: S,
    input: StreamInput<S>,
    sink: StreamSink<StreamEvent<S>>,
  ): () => void {
    // The sink is never called before subscribe has returned: an in-process core refuses bad
    // input at once, from inside this call, and a sink that stops its stream (every one does,
    // on an error) would then call a stop it has not been given yet. What comes that early
    // is handed over a microtask later, in order, ahead of anything after it.
    let early: (() => void)[] | undefined = [];
    const later =
      <A extends unknown[]>(f: (...a: A) => void) =>
      (...a: A) => {
        if (early) early.push(() => f(...a));
        else f(...a);
      };
    const stop = this.transport.subscribe(stream, input, {
      event: later((e: unknown) => sink.event(e as StreamEvent<S>)),
      ...(sink.error ? { error: later((e: ErrorData) => sink.error!(e)) } : {}),
      ...(sink.end ? { end: later(() => sink.end!()) } : {}),
    });
    const waiting = early;
    if (waiting.length === 0) early = undefined;
    else
      void Promise.resolve().then(() => {
        for (let f = waiting.shift(); f; f = waiting.shift()) f();
        early = undefined;
      });
    return stop;
  }
}
