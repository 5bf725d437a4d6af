import { StringDecoder } from 'node:string_decoder';
import { driverError } from '../../base/errors.js';
import { Emitter } from '../../base/lifecycle.js';
import type { TerminalSession } from '../driver.js';
import type { ContainerContext } from './context.js';
import { call, D } from './errors.js';

export const DEFAULT_SHELL = ['/bin/sh'];

/**
 * `docker exec -it`: a process in the running container with a TTY, its socket hijacked
 * from the engine's HTTP connection. With a TTY there is no stream multiplexing: the
 * bytes are the terminal's.
 */
export async function openTerminal(
  ctx: ContainerContext,
  local: string,
  opts: { cols: number; rows: number; command?: string[] },
  signal: AbortSignal,
): Promise<TerminalSession> {
  const found = await ctx.find(local, signal);
  if (!found.c.State.Running || found.c.State.Paused) {
    throw driverError(D, 'CONFLICT', `'${found.c.Name.slice(1)}' is ${found.c.State.Paused ? 'paused' : 'not running'}: a terminal needs it running`);
  }
  const command = opts.command?.length ? opts.command : DEFAULT_SHELL;
  const exec = await call('exec', () =>
    found.container.exec({
      Cmd: command,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      // No COLUMNS/LINES: shells would trust them over the TTY size a resize sets.
      Env: ['TERM=xterm-256color'],
      abortSignal: signal,
    }),
  );
  const socket = await call('exec start', () => exec.start({ hijack: true, stdin: true, Tty: true }));
  const data = new Emitter<string>();
  const exited = new Emitter<number | undefined>();
  const dec = new StringDecoder('utf8');
  let done = false;
  let resizing: Promise<unknown> = Promise.resolve();
  const resize = (cols: number, rows: number) => {
    // The engine refuses a resize before the process runs; a late one is harmless.
    resizing = resizing.then(() => exec.resize({ h: rows, w: cols }).catch(() => undefined));
  };
  socket.on('data', (b: Buffer) => data.fire(dec.write(b)));
  const end = () => {
    if (done) return;
    done = true;
    const rest = dec.end();
    if (rest) data.fire(rest);
    void exec.inspect().then(
      (i) => exited.fire((i as { ExitCode?: number | null }).ExitCode ?? undefined),
      () => exited.fire(undefined),
    );
  };
  socket.once('end', end);
  socket.once('close', end);
  socket.once('error', end);
  resize(opts.cols, opts.rows);
  return {
    onData: data.event,
    onExit: exited.event,
    write(text) {
      if (!done) socket.write(text);
    },
    resize,
    dispose() {
      done = true;
      socket.destroy();
      data.dispose();
      exited.dispose();
    },
  };
}
