import type { ErrorData, Result } from '../errors.js';
import type { MethodName, StreamName } from './index.js';

/**
 * How the contract travels. Both transports (Electron IPC and the headless WebSocket)
 * carry the same envelopes; only the framing differs. Channel names are computed here
 * and nowhere else.
 */

export interface StreamSink<E = unknown> {
  event(e: E): void;
  error?(err: ErrorData): void;
  end?(): void;
}

/** What every client is built on: a call and a subscription. */
export interface Transport {
  call(method: MethodName, input: unknown, op?: string): Promise<Result<unknown>>;
  subscribe(stream: StreamName, input: unknown, sink: StreamSink): () => void;
}

// The WebSocket protocol: one JSON object per text frame; the server sends what it had for
// one turn of its event loop as one frame, a JSON array of ServerMessages in order.
export type ClientMessage =
  | { t: 'call'; id: number; m: string; i: unknown; op?: string }
  | { t: 'sub'; id: number; s: string; i: unknown }
  | { t: 'unsub'; id: number };

export type ServerMessage =
  | { t: 'res'; id: number; r: Result<unknown> }
  | { t: 'ev'; id: number; e: unknown }
  | { t: 'err'; id: number; error: ErrorData }
  | { t: 'end'; id: number };

/** A server frame's messages, in order: one object, or several in an array. */
export function framesOf(data: string): ServerMessage[] {
  const parsed = JSON.parse(data) as ServerMessage | ServerMessage[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

// Electron IPC: one invoke channel per method, three for streams.
export const IPC_PREFIX = 'novacron:';
export function ipcChannelOf(method: MethodName): string {
  return `${IPC_PREFIX}call:${method}`;
}
export const IPC_STREAM = {
  subscribe: `${IPC_PREFIX}sub`,
  unsubscribe: `${IPC_PREFIX}unsub`,
  /** main → renderer: an array of stream messages ({ id, ...ServerMessage minus res }), what one turn of the core's event loop sent */
  message: `${IPC_PREFIX}stream`,
} as const;

/** What the preload exposes as `window.novacron`: the contract's two verbs and nothing else. */
export interface PreloadApi {
  call(method: string, input: unknown, op?: string): Promise<Result<unknown>>;
  subscribe(stream: string, input: unknown, onMessage: (m: ServerMessage) => void): () => void;
  readonly methods: readonly string[];
  readonly streams: readonly string[];
}
