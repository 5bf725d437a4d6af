import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { NovaError } from '../../base/errors.js';
import { connectUnix } from '../../base/unix-socket.js';
import type { TerminalSession } from '../driver.js';
import { readSerialTail, serialSession, SharedSerialLine } from '../common/serial-session.js';

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
class SerialLine extends SharedSerialLine {
  private sock: Socket | undefined;

  constructor(
    private readonly key: string,
    private readonly src: SerialSource,
  ) {
    super();
  }

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
    this.giveUp();
  }

  write(text: string): void {
    this.sock?.write(text);
  }

  protected release(): void {
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
  const backlog = await readSerialTail(src.logPath);
  if (signal.aborted) {
    shared.unref();
    signal.throwIfAborted();
  }
  return serialSession(shared, backlog);
}
