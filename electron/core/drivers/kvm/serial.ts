import type { Socket } from 'node:net';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { NovaError } from '../../base/errors.js';
import { Emitter } from '../../base/lifecycle.js';
import { connectUnix } from '../../base/unix-socket.js';
import type { TerminalSession } from '../driver.js';

/** How much of the serial log a new session shows first, so the banner printed before it connected is there. */
const BACKLOG_BYTES = 4096;

/**
 * The serial console as a terminal session: bytes from QEMU's serial chardev socket out,
 * keystrokes in. QEMU serves one client per chardev socket, so a session follows the VM
 * to a new socket when it moves (a live migration swaps the QEMU under it) instead of ending.
 */
export async function openSerialSession(opts: {
  /** The current serial socket, or undefined when the VM is not running. */
  socketPath: () => Promise<string | undefined>;
  logPath: string;
  signal: AbortSignal;
}): Promise<TerminalSession> {
  const first = await opts.socketPath();
  if (!first) throw new NovaError('CONFLICT', 'the VM is not running: its serial console is closed');
  const data = new Emitter<string>();
  const exit = new Emitter<number | undefined>();
  let sock: Socket | undefined;
  let disposed = false;
  let backlog: string | undefined = await readTail(opts.logPath, BACKLOG_BYTES);

  const attach = async (path: string): Promise<void> => {
    const s = await connectUnix(path, 5_000);
    if (disposed) {
      s.destroy();
      return;
    }
    sock = s;
    const decoder = new StringDecoder('utf8');
    s.on('data', (b: Buffer) => {
      const text = decoder.write(b);
      if (text) data.fire(text);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (sock !== s || disposed) return;
      sock = undefined;
      void reattach();
    });
  };

  const reattach = async () => {
    // A migration replaces the socket within a moment; a VM that stopped has none.
    const deadline = Date.now() + 5_000;
    let last: string | undefined;
    while (!disposed && Date.now() < deadline) {
      const path = await opts.socketPath().catch(() => undefined);
      if (path && path !== last) {
        last = path;
        try {
          await attach(path);
          return;
        } catch {
          // the new QEMU may not listen yet
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!disposed) exit.fire(undefined);
  };

  await attach(first);
  opts.signal.throwIfAborted();

  return {
    onData(listener) {
      const d = data.event(listener);
      if (backlog) {
        const b = backlog;
        backlog = undefined;
        queueMicrotask(() => listener(b));
      }
      return d;
    },
    onExit: (listener) => exit.event(listener),
    write(text) {
      sock?.write(text);
    },
    // A serial line carries no window size: the terminal fits itself, the guest learns it with `stty` if it cares.
    resize: () => undefined,
    dispose() {
      if (disposed) return;
      disposed = true;
      sock?.destroy();
      data.dispose();
      exit.dispose();
    },
  };
}

async function readTail(path: string, bytes: number): Promise<string | undefined> {
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
