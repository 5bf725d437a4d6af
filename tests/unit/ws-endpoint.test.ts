import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import type { Router } from '../../electron/core/api/router.js';
import { toDisposable } from '../../electron/core/base/lifecycle.js';
import { serveContract } from '../../electron/core/transport/ws-endpoint.js';
import { framesOf, type ServerMessage, type StreamSink } from '../../shared/contract/wire.js';

/** A socket that records the frames sent to the page. */
function fakeSocket() {
  const ws = Object.assign(new EventEmitter(), { OPEN: 1, readyState: 1, bufferedAmount: 0, sent: [] as string[], send: (d: string) => ws.sent.push(d), close: () => undefined });
  return ws;
}
const turn = () => new Promise((r) => setImmediate(r));

describe('the WebSocket endpoint', () => {
  it('sends what one turn produced as one frame, in order, and a lone message as itself', async () => {
    let sink: StreamSink | undefined;
    const router = {
      subscribe: (_s: unknown, _i: unknown, k: StreamSink) => ((sink = k), toDisposable(() => undefined)),
      call: async () => ({ ok: true, value: 'done' }),
    } as unknown as Router;
    const ws = fakeSocket();
    serveContract(ws as unknown as WebSocket, router, 'headless');
    ws.emit('message', Buffer.from(JSON.stringify({ t: 'sub', id: 1, s: 'events', i: {} })), false);
    for (let i = 0; i < 1000; i++) sink!.event({ n: i });
    sink!.end!();
    expect(ws.sent).toEqual([]);
    await turn();
    expect(ws.sent).toHaveLength(1);
    const batch = framesOf(ws.sent[0]!);
    expect(batch).toHaveLength(1001);
    expect(batch.slice(0, 1000).map((m) => (m as Extract<ServerMessage, { t: 'ev' }>).e)).toEqual(Array.from({ length: 1000 }, (_, n) => ({ n })));
    expect(batch[1000]).toEqual({ t: 'end', id: 1 });

    ws.emit('message', Buffer.from(JSON.stringify({ t: 'call', id: 2, m: 'drivers.list', i: {} })), false);
    await turn();
    await turn();
    expect(JSON.parse(ws.sent[1]!)).toEqual({ t: 'res', id: 2, r: { ok: true, value: 'done' } });
  });

  it('drops what was queued for a socket that closed meanwhile', async () => {
    let sink: StreamSink | undefined;
    const router = { subscribe: (_s: unknown, _i: unknown, k: StreamSink) => ((sink = k), toDisposable(() => undefined)) } as unknown as Router;
    const ws = fakeSocket();
    serveContract(ws as unknown as WebSocket, router, 'headless');
    ws.emit('message', Buffer.from(JSON.stringify({ t: 'sub', id: 1, s: 'events', i: {} })), false);
    sink!.event({ n: 1 });
    ws.readyState = 3;
    await turn();
    expect(ws.sent).toEqual([]);
  });
});
