import type { NovaClient } from '../../shared/contract/client.js';
import type { Core } from '../core/core.js';
import type { Output } from './format.js';

/** What every command gets: a client over the in-process core, and where to print. */
export interface CliContext {
  client: NovaClient;
  core: Core;
  io: Output;
  /** The op id of the long operation in flight, so Ctrl-C can cancel it. */
  op: string;
}

export type Command = (argv: string[], ctx: CliContext) => Promise<number>;
