import type { Socket } from 'node:net';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { NovaError } from '../../base/errors.js';
import { Emitter } from '../../base/lifecycle.js';
import { connectUnix } from '../../base/unix-socket.js';
import type { TerminalSession } from '../driver.js';

/** How much of the serial log a new session shows first, so the banner printed before it connected is there. */
const BACKLOG_BYTES = 4096;

interface SerialSource {
  /** The current serial socket, or undefined when the VM is not running. */
  socketPath: () => Promise<string | undefined>;
  logPath: string;
}

/**
 * One connection to a VM's serial chardev, shared by every session of this process: QEMU
 * serves one client per chardev socket, so two tabs on the same server must not each
 * connect (the second would wait, silent, in the listen backlog). It follows the VM to a
 * new socket when a live migration swaps the QEMU under it.
 */
class SerialLine {
  readonly data = new Emitter<string>();
  readonly ended = new Emitter<void>();
  private sock: Socket | undefined;
  private refs = 0;
  private closed = false;

  constructor(
    private readonly key: string,
    private readonly src: SerialSource,
  ) {}

  async open(): Promise<void> {
    const path = await this.src.socketPath();
    if (!path) throw new NovaError('CONFLICT', 'the VM is not running: its serial console is closed');
    await this.attach(path);
  }

  private async attach(path: string): Promise<void> {
    const s = await connectUnix(path, 5_000);
    if (this.closed) {
      s.destroy();
      return;
    }
    this.sock = s;
    const decoder = new StringDecoder('utf8');
    s.on('data', (b: Buffer) => {
      const text = decoder.write(b);
      if (text) this.data.fire(text);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.sock !== s || this.closed) return;
      this.sock = undefined;
      void this.reattach(path);
    });
  }

  private async reattach(old: string): Promise<void> {
    // A migration replaces the socket within a moment; a VM that stopped has none.
    const deadline = Date.now() + 5_000;
    while (!this.closed && Date.now() < deadline) {
      const path = await this.src.socketPath().catch(() => undefined);
      if (path && path !== old) {
        try {
          await this.attach(path);
          return;
        } catch {
          // the new QEMU may not listen yet
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!this.closed) {
      this.close();
      this.ended.fire();
    }
  }

  write(text: string): void {
    this.sock?.write(text);
  }

  ref(): void {
    this.refs++;
  }

  unref(): void {
    if (--this.refs <= 0) this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    lines.delete(this.key);
    this.sock?.destroy();
  }
}

const lines = new Map<string, SerialLine>();

/** The serial console as a terminal session: bytes from the guest's serial port out, keystrokes in. */
export async function openSerialSession(key: string, src: SerialSource, signal: AbortSignal): Promise<TerminalSession> {
  let line = lines.get(key);
  if (!line) {
    const fresh = new SerialLine(key, src);
    lines.set(key, fresh);
    try {
      await fresh.open();
    } catch (e) {
      fresh.close();
      throw e;
    }
    line = fresh;
  }
  line.ref();
  const shared = line;
  let backlog = await readTail(src.logPath, BACKLOG_BYTES);
  if (signal.aborted) {
    shared.unref();
    signal.throwIfAborted();
  }
  const subs: { dispose(): void }[] = [];
  let disposed = false;
  return {
    onData(listener) {
      const d = shared.data.event(listener);
      subs.push(d);
      if (backlog) {
        const b = backlog;
        backlog = undefined;
        queueMicrotask(() => listener(b));
      }
      return d;
    },
    onExit(listener) {
      const d = shared.ended.event(() => listener(undefined));
      subs.push(d);
      return d;
    },
    write: (text) => shared.write(text),
    // A serial line carries no window size: the terminal fits itself, the guest learns it with `stty` if it cares.
    resize: () => undefined,
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const s of subs) s.dispose();
      shared.unref();
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
