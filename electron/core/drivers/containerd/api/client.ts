import * as grpc from '@grpc/grpc-js';
import type { ErrorCode } from '../../../../../shared/errors.js';
import { NovaError } from '../../../base/errors.js';
import type { Disposable } from '../../../base/lifecycle.js';
import { methodOf } from './codec.js';
import type { StreamRpcs, UnaryRpcs } from './messages.js';

/** gRPC status → our error code: data, not branches. The engine's message is kept. */
const CODES: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.NOT_FOUND]: 'NOT_FOUND',
  [grpc.status.ALREADY_EXISTS]: 'CONFLICT',
  [grpc.status.FAILED_PRECONDITION]: 'CONFLICT',
  [grpc.status.ABORTED]: 'CONFLICT',
  [grpc.status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [grpc.status.OUT_OF_RANGE]: 'INVALID_ARGUMENT',
  [grpc.status.UNAVAILABLE]: 'UNAVAILABLE',
  [grpc.status.DEADLINE_EXCEEDED]: 'TIMEOUT',
  [grpc.status.CANCELLED]: 'CANCELLED',
  [grpc.status.UNIMPLEMENTED]: 'NOT_SUPPORTED',
};

/** A containerd error: our code for the UI, the gRPC status for the driver's own decisions. */
export class ContainerdError extends NovaError {
  constructor(
    readonly status: grpc.status,
    driver: string,
    /** What failed and containerd's words for why, without our driver prefix. */
    readonly detail: string,
  ) {
    super(CODES[status] ?? 'INTERNAL', `${driver}: ${detail}`, { driver });
  }
}

/** grpc-js wraps a refused connection in words an admin does not need. */
const tidy = (s: string) =>
  s
    .replace(/^No connection established\. Last error: (Error: )?/, '')
    .replace(/\.?\s*Resolution note:.*$/s, '')
    .trim();

export const isGrpcStatus = (e: unknown, status: grpc.status): boolean => e instanceof ContainerdError && e.status === status;
export const isNotFound = (e: unknown) => isGrpcStatus(e, grpc.status.NOT_FOUND);
export const isAlreadyExists = (e: unknown) => isGrpcStatus(e, grpc.status.ALREADY_EXISTS);

export interface CallOptions {
  /** Defaults to the client's namespace. */
  namespace?: string;
  /** Resources created during the call are held by this lease until it is deleted. */
  lease?: string;
  signal?: AbortSignal;
  /** No deadline when 0 (waits); 30 s by default. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * containerd's gRPC API over its unix socket. One channel per client; every call
 * carries the namespace (and lease, when asked) as metadata, takes an AbortSignal and
 * turns a gRPC failure into a NovaError that keeps containerd's message.
 */
export class ContainerdClient implements Disposable {
  private readonly client: grpc.Client;

  constructor(
    readonly address: string,
    readonly namespace: string,
    private readonly driver: string,
  ) {
    this.client = new grpc.Client(`unix://${address}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
    });
  }

  /** The same socket, another namespace (listing others read-only). */
  metadata(opts: CallOptions = {}): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set('containerd-namespace', opts.namespace ?? this.namespace);
    if (opts.lease) md.set('containerd-lease', opts.lease);
    return md;
  }

  private callOptions(opts: CallOptions): grpc.CallOptions {
    const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return ms > 0 ? { deadline: Date.now() + ms } : {};
  }

  error(key: string, e: unknown): NovaError {
    if (e instanceof NovaError) return e;
    const se = e as Partial<grpc.ServiceError>;
    const detail = tidy(se.details || se.message || String(e));
    const status = se.code ?? grpc.status.UNKNOWN;
    if (status === grpc.status.UNAVAILABLE) return new ContainerdError(status, this.driver, `cannot reach containerd at ${this.address}: ${detail}`);
    return new ContainerdError(status, this.driver, `${key}: ${detail}`);
  }

  call<K extends keyof UnaryRpcs>(key: K, request: UnaryRpcs[K][0], opts: CallOptions = {}): Promise<UnaryRpcs[K][1]> {
    const m = methodOf(key);
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(new NovaError('CANCELLED', 'the operation was cancelled'));
        return;
      }
      const call = this.client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        this.metadata(opts),
        this.callOptions(opts),
        (err, res) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (err) reject(this.error(key, err));
          else resolve(res);
        },
      );
      const onAbort = () => call.cancel();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A server stream, as an async iterable; breaking out of the loop cancels the call. */
  async *stream<K extends keyof StreamRpcs>(key: K, request: StreamRpcs[K][0], opts: CallOptions = {}): AsyncGenerator<StreamRpcs[K][1]> {
    const m = methodOf(key);
    const call = this.client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, request, this.metadata(opts), this.callOptions(opts));
    const onAbort = () => call.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const msg of call as AsyncIterable<StreamRpcs[K][1]>) yield msg;
    } catch (e) {
      throw this.error(key, e);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  /** A bidirectional stream (content writes). */
  duplex<Req, Res>(key: string, opts: CallOptions = {}): grpc.ClientDuplexStream<Req, Res> {
    const m = methodOf(key) as unknown as { path: string; requestSerialize: (v: Req) => Buffer; responseDeserialize: (b: Buffer) => Res };
    return this.client.makeBidiStreamRequest<Req, Res>(m.path, m.requestSerialize, m.responseDeserialize, this.metadata(opts), this.callOptions(opts));
  }

  dispose(): void {
    this.client.close();
  }
}
