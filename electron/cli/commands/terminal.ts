import { NovaError } from '../../core/base/errors.js';
import { parse, resolveWorkload } from '../args.js';
import type { Command } from '../context.js';

/**
 * `terminal ID [--cmd PROGRAM --arg A…]`: a TTY in the workload (`docker exec -it`). The
 * local terminal goes raw while attached; from a pipe, input is typed as it comes and the
 * session ends when the program exits.
 */
export const terminal: Command = async (argv, ctx) => {
  const { values, positionals } = parse(argv, { cmd: { type: 'string' }, arg: { type: 'string', multiple: true } }, { min: 1, max: 1, names: 'ID' });
  const id = await resolveWorkload(ctx.client, positionals[0]!);
  const command = values.cmd !== undefined ? [String(values.cmd), ...((values.arg as string[] | undefined) ?? [])] : undefined;
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  return new Promise<number>((resolve, reject) => {
    let session: string | undefined;
    const pending: string[] = [];
    const send = (data: string) => {
      if (session) void ctx.client.call('terminal.input', { session, data }).catch(() => undefined);
      else pending.push(data);
    };
    const onInput = (b: Buffer) => send(b.toString('utf8'));
    const cleanup = () => {
      stdin.off('data', onInput);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      stop();
    };
    const stop = ctx.client.subscribe(
      'terminal',
      { id, cols: process.stdout.columns || 80, rows: process.stdout.rows || 24, ...(command ? { command } : {}) },
      {
        event: (e) => {
          if (e.type === 'ready' && e.session) {
            session = e.session;
            for (const d of pending.splice(0)) send(d);
          } else if (e.type === 'data' && e.data) process.stdout.write(e.data);
          else if (e.type === 'exit') {
            cleanup();
            resolve(e.code ?? 0);
          }
        },
        error: (err) => {
          cleanup();
          reject(new NovaError(err.code, err.message));
        },
        end: () => {
          cleanup();
          resolve(0);
        },
      },
    );
    if (tty) stdin.setRawMode(true);
    stdin.on('data', onInput);
    stdin.resume();
  });
};
