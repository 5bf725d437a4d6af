import WebSocket from 'ws';
import { NovaClient } from '../../shared/contract/client.js';
import type { ClientMessage, ServerMessage, Transport } from '../../shared/contract/wire.js';
import type { Result } from '../../shared/errors.js';

/** A Node client of the headless server's WebSocket: what a browser does, without the browser. */
export async function wsClient(url: string, headers: Record<string, string>): Promise<{ client: NovaClient; ws: WebSocket; close(): void }> {
  const ws = new WebSocket(url, { headers });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  let next = 1;
  const pending = new Map<number, (r: Result<unknown>) => void>();
  const subs = new Map<number, (m: ServerMessage) => void>();
  ws.on('message', (raw) => {
    const m = JSON.parse((raw as Buffer).toString()) as ServerMessage;
    if (m.t === 'res') pending.get(m.id)?.(m.r);
    else subs.get(m.id)?.(m);
  });
  const send = (m: ClientMessage) => ws.send(JSON.stringify(m));
  const transport: Transport = {
    call: (m, i, op) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        send({ t: 'call', id, m, i, ...(op ? { op } : {}) });
      }),
    subscribe: (s, i, sink) => {
      const id = next++;
      subs.set(id, (m) => (m.t === 'ev' ? sink.event(m.e) : m.t === 'err' ? sink.error?.(m.error) : m.t === 'end' ? sink.end?.() : undefined));
      send({ t: 'sub', id, s, i });
      return () => send({ t: 'unsub', id });
    },
  };
  return { client: new NovaClient(transport), ws, close: () => ws.close() };
}
