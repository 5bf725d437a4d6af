import type { z } from 'zod';

/**
 * The building blocks of the contract. A method is an input schema plus a phantom output
 * type; a stream is an input schema plus a phantom event type. Nothing here runs at
 * call time except the schemas themselves.
 */
export interface MethodDef<I extends z.ZodType = z.ZodType, O = unknown> {
  readonly kind: 'method';
  readonly input: I;
  readonly summary: string;
  /** Long operations report progress and can be cancelled. */
  readonly long?: boolean;
  /** Phantom: never set at run time. */
  readonly _output?: O;
}

export interface StreamDef<I extends z.ZodType = z.ZodType, E = unknown> {
  readonly kind: 'stream';
  readonly input: I;
  readonly summary: string;
  readonly _event?: E;
}

export function method<I extends z.ZodType>(input: I, summary: string, opts: { long?: boolean } = {}) {
  return {
    returns: <O>(): MethodDef<I, O> => ({ kind: 'method', input, summary, ...opts }),
  };
}

export function stream<I extends z.ZodType>(input: I, summary: string) {
  return {
    emits: <E>(): StreamDef<I, E> => ({ kind: 'stream', input, summary }),
  };
}

export type InputOf<D> = D extends MethodDef<infer I, unknown> | StreamDef<infer I, unknown> ? z.input<I> : never;
export type ParsedInputOf<D> = D extends MethodDef<infer I, unknown> | StreamDef<infer I, unknown> ? z.output<I> : never;
export type OutputOf<D> = D extends MethodDef<z.ZodType, infer O> ? O : never;
export type EventOf<D> = D extends StreamDef<z.ZodType, infer E> ? E : never;
