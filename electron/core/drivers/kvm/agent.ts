import { connectUnix } from '../../base/unix-socket.js';

/**
 * The QEMU guest agent, where the guest runs one (qemu-ga on the virtio-serial port
 * org.qemu.guest_agent.0): the only place network byte counters of a user-mode NIC
 * exist. A guest without an agent never answers, so that is remembered for a while and
 * metrics stay cheap.
 */
const NO_AGENT_RETRY_MS = 30_000;
const silent = new Map<string, number>();

export interface NetBytes {
  rx: number;
  tx: number;
}

interface Iface {
  name: string;
  statistics?: { 'rx-bytes': number; 'tx-bytes': number };
}

export async function guestNetBytes(socketPath: string, timeoutMs = 400): Promise<NetBytes | undefined> {
  const quietUntil = silent.get(socketPath);
  if (quietUntil !== undefined && Date.now() < quietUntil) return undefined;
  try {
    const ifaces = await ask<Iface[]>(socketPath, 'guest-network-get-interfaces', timeoutMs);
    silent.delete(socketPath);
    let rx = 0;
    let tx = 0;
    for (const i of ifaces) {
      if (i.name === 'lo' || !i.statistics) continue;
      rx += i.statistics['rx-bytes'];
      tx += i.statistics['tx-bytes'];
    }
    return { rx, tx };
  } catch {
    silent.set(socketPath, Date.now() + NO_AGENT_RETRY_MS);
    if (silent.size > 1000) silent.clear();
    return undefined;
  }
}

/**
 * One command, after guest-sync-delimited: the agent answers the sync with 0xFF and the
 * id, so whatever an earlier, abandoned client left in the channel is skipped.
 */
function ask<T>(path: string, command: string, timeoutMs: number): Promise<T> {
  const id = Math.floor(Math.random() * 2 ** 31);
  return new Promise<T>((resolve, reject) => {
    let buf = '';
    let synced = false;
    let done = false;
    const finish = (err: Error | undefined, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock?.destroy();
      if (err) reject(err);
      else resolve(value as T);
    };
    const timer = setTimeout(() => finish(new Error('the guest agent did not answer')), timeoutMs);
    let sock: Awaited<ReturnType<typeof connectUnix>> | undefined;
    connectUnix(path, timeoutMs).then(
      (s) => {
        sock = s;
        if (done) return s.destroy();
        s.on('error', () => finish(new Error('guest agent channel failed')));
        s.on('data', (chunk: Buffer) => {
          let text = chunk.toString('latin1');
          if (!synced) {
            const ff = text.lastIndexOf('\xff');
            if (ff < 0) return;
            text = text.slice(ff + 1);
          }
          buf += text;
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            let msg: { return?: unknown; error?: { desc?: string } };
            try {
              msg = JSON.parse(line) as typeof msg;
            } catch {
              continue;
            }
            if (!synced) {
              if (msg.return === id) {
                synced = true;
                s.write(JSON.stringify({ execute: command }) + '\n');
              }
              continue;
            }
            if (msg.error) return finish(new Error(msg.error.desc ?? 'guest agent error'));
            return finish(undefined, msg.return as T);
          }
        });
        s.write(JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } }) + '\n');
      },
      (e: Error) => finish(e),
    );
  });
}
