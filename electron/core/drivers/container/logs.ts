import { PassThrough, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { LogLine } from '../../../../shared/model.js';
import { DisposableStore, toDisposable, type Disposable } from '../../base/lifecycle.js';
import type { LogSink } from '../driver.js';
import type { ContainerContext } from './context.js';
import { call } from './errors.js';

/** "2024-05-01T10:00:00.123456789Z text" → its parts; the engine adds the stamp with timestamps=true. */
export function splitStamp(line: string): { ts?: string; line: string } {
  const sp = line.indexOf(' ');
  if (sp > 0 && /^\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)$/.test(line.slice(0, sp))) return { ts: line.slice(0, sp), line: line.slice(sp + 1) };
  return { line };
}

/** Bytes of one stream → whole lines, each handed on; the last partial line is flushed at the end. */
function lines(stream: LogLine['stream'], emit: (l: LogLine) => void) {
  const dec = new StringDecoder('utf8');
  let buf = '';
  // Written to synchronously by the demultiplexer, so no line can arrive after the end.
  const out = {
    write(chunk: Buffer) {
      buf += dec.write(chunk);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const raw = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        emit({ stream, ...splitStamp(raw) });
      }
      return true;
    },
  };
  const flush = () => {
    buf += dec.end();
    if (buf) emit({ stream, ...splitStamp(buf) });
    buf = '';
  };
  return { out, flush };
}

/**
 * A container's stdout and stderr with the engine's timestamps, following when asked.
 * Without a TTY the engine multiplexes both streams in one (8-byte frame headers); with
 * one, everything arrives as stdout.
 */
export function containerLogs(ctx: ContainerContext, local: string, opts: { follow: boolean; tail?: number }, sink: LogSink): Disposable {
  const store = new DisposableStore();
  const ac = new AbortController();
  store.add(toDisposable(() => ac.abort()));
  void (async () => {
    const found = await ctx.find(local, ac.signal);
    const raw = (await call('logs', () =>
      found.container.logs({
        follow: opts.follow,
        stdout: true,
        stderr: true,
        timestamps: true,
        ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
        abortSignal: ac.signal,
      } as { follow: true }),
    )) as unknown as Readable | Buffer;
    if (store.isDisposed) {
      if (!Buffer.isBuffer(raw)) raw.destroy();
      return;
    }
    const stdout = lines('stdout', (l) => sink.line(l));
    const stderr = lines('stderr', (l) => sink.line(l));
    const finish = () => {
      stdout.flush();
      stderr.flush();
      sink.end();
    };
    // Without follow, the engine answers with the whole log at once (a buffer, not a stream).
    const source: Readable = Buffer.isBuffer(raw) ? new PassThrough().end(raw) : raw;
    store.add(toDisposable(() => source.destroy()));
    if (found.c.Config.Tty) source.on('data', (b: Buffer) => stdout.out.write(b));
    else found.engine.docker.modem.demuxStream(source, stdout.out as unknown as NodeJS.WritableStream, stderr.out as unknown as NodeJS.WritableStream);
    source.once('end', finish);
    source.once('error', (e) => {
      if (!ac.signal.aborted) sink.error(e);
    });
  })().catch((e: unknown) => {
    if (!ac.signal.aborted) sink.error(e);
  });
  return store;
}
