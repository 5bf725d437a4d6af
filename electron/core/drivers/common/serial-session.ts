import { open } from 'node:fs/promises';
import { Emitter } from '../../base/lifecycle.js';
import type { TerminalSession } from '../driver.js';

/** How much of a serial log a new session shows first, so the banner printed before it connected is there. */
export const SERIAL_BACKLOG_BYTES = 4096;

/**
 * A serial line shared by every session of this process (one connection per console:
 * QEMU serves one client per chardev socket, and two readers of one PTY would each get
 * half the bytes). Reference-counted: the last session to let go closes it.
 */
export abstract class SharedSerialLine {
  readonly data = new Emitter<string>();
  readonly ended = new Emitter<void>();
  private refs = 0;
  protected closed = false;

  abstract write(text: string): void;
  /** Let go of the connection (and forget the line, so the next session opens a new one). */
  protected abstract release(): void;

  ref(): void {
    this.refs++;
  }

  unref(): void {
    if (--this.refs <= 0) this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
  }

  /** The console could not be followed to a new QEMU: every session over the line ends. */
  protected giveUp(): void {
    if (this.closed) return;
    this.close();
    this.ended.fire();
  }
}

/**
 * One session over a line the caller has already ref()'d (taken before any await, so
 * another session's unref cannot close the line under it); dispose gives that ref back.
 * The backlog goes to the first data listener, ahead of live bytes; what the guest prints
 * between the backlog's read and that listener (the stream subscribing) is kept for it too.
 */
export function serialSession(line: SharedSerialLine, backlog: string | undefined): TerminalSession {
  let early: string[] | undefined = backlog ? [backlog] : [];
  const tap = line.data.event((d) => early?.push(d));
  const subs: { dispose(): void }[] = [tap];
  let disposed = false;
  return {
    onData(listener) {
      const d = line.data.event(listener);
      subs.push(d);
      if (early) {
        const b = early.join('');
        early = undefined;
        tap.dispose();
        if (b) queueMicrotask(() => listener(b));
      }
      return d;
    },
    onExit(listener) {
      const d = line.ended.event(() => listener(undefined));
      subs.push(d);
      return d;
    },
    write: (text) => line.write(text),
    // A serial line carries no window size: the terminal fits itself, the guest learns it with `stty` if it cares.
    resize: () => undefined,
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const s of subs) s.dispose();
      line.unref();
    },
  };
}

/** The end of a serial log (undefined if there is none or it is empty). */
export async function readSerialTail(path: string | undefined, bytes = SERIAL_BACKLOG_BYTES): Promise<string | undefined> {
  if (!path) return undefined;
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const size = (await fh.stat()).size;
    const len = Math.min(size, bytes);
    if (len === 0) return undefined;
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    // Start at a line boundary so the first line shown is whole.
    const text = buf.toString('utf8');
    const nl = size > len ? text.indexOf('\n') : -1;
    return nl >= 0 ? text.slice(nl + 1) : text;
  } finally {
    await fh.close();
  }
}
