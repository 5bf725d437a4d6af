import { connect, type Socket } from 'node:net';

/**
 * The least a program can do to drive QEMU: a bare socket, JSON lines, no retries beyond
 * waiting for the socket to appear. The baseline NovaCron's QMP client is held against.
 */
export interface BareQmp {
  /** When the greeting arrived (performance.now()). */
  greetedAt: number;
  cmd(execute: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Resolves with the first event for which pred holds. */
  event(pred: (e: { event: string; data?: Record<string, unknown> }) => boolean): Promise<void>;
  /** Resolves when QEMU closes the connection (it quit). */
  closed: Promise<void>;
  close(): void;
}

export async function bareQmp(path: string, timeoutMs = 30_000): Promise<BareQmp> {
  const sock = await connectWhenReady(path, timeoutMs);
  let buf = '';
  let next = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const events: { pred: (e: { event: string }) => boolean; resolve(): void }[] = [];
  let greeted!: () => void;
  const greeting = new Promise<void>((r) => (greeted = r));
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, nl)) as { QMP?: unknown; id?: number; return?: unknown; error?: { desc: string }; event?: string };
      buf = buf.slice(nl + 1);
      if (msg.QMP) greeted();
      else if (msg.event) {
        for (const [i, w] of events.entries()) {
          if (w.pred(msg as { event: string })) {
            events.splice(i, 1);
            w.resolve();
            break;
          }
        }
      } else if (msg.id !== undefined) {
        const w = waiting.get(msg.id);
        waiting.delete(msg.id);
        if (msg.error) w?.reject(new Error(msg.error.desc));
        else w?.resolve(msg.return);
      }
    }
  });
  sock.on('error', () => undefined);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  await greeting;
  const greetedAt = performance.now();
  const cmd = (execute: string, args?: Record<string, unknown>) =>
    new Promise<unknown>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      sock.write(JSON.stringify({ execute, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  await cmd('qmp_capabilities');
  return {
    greetedAt,
    cmd,
    event: (pred) => new Promise<void>((resolve) => events.push({ pred, resolve })),
    closed,
    close: () => sock.destroy(),
  };
}

/**
 * Connect to a unix socket QEMU has yet to create: it appears once QEMU has parsed its
 * options, so a 1 ms retry adds at most 1 ms to what is measured.
 */
export async function connectWhenReady(path: string, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}
