import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { ClientMessage, ServerMessage } from '../../../shared/contract/wire.js';
import type { Disposable } from '../base/lifecycle.js';
import type { Router } from '../api/router.js';
import type { Origin } from '../drivers/driver.js';
import { coalescer } from './coalesce.js';
import { subscribeFor, unsubscribe } from './stream-subs.js';

/** Frames larger than this are refused: no client of ours sends them. */
export const MAX_FRAME = 2 * 1024 * 1024;
/** A socket whose client stops reading is cut off instead of buffering without end. */
const MAX_BUFFERED = 16 * 1024 * 1024;

/**
 * The contract over one WebSocket: calls, and subscriptions with their ids. Everything a
 * socket opened is disposed when it closes.
 */
export function serveContract(ws: WebSocket, router: Router, origin: Origin): Disposable {
  const subs = new Map<number, Disposable>();
  // What this socket opens (a terminal session) only this socket may use.
  const client = `ws-${randomUUID()}`;
  // One frame per turn of the event loop (coalesce.ts): a JSON array when there are several.
  const queue = coalescer<ServerMessage>((batch) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.close(1011, 'client is not reading');
      return;
    }
    ws.send(JSON.stringify(batch.length === 1 ? batch[0] : batch));
  });
  const send = (m: ServerMessage) => {
    if (ws.readyState === ws.OPEN) queue(m);
  };

  ws.on('message', (raw, isBinary) => {
    if (isBinary) return ws.close(1003, 'text frames only');
    let msg: ClientMessage;
    try {
      msg = JSON.parse((raw as Buffer).toString('utf8')) as ClientMessage;
    } catch {
      return ws.close(1007, 'not JSON');
    }
    if (typeof msg !== 'object' || msg === null || typeof msg.id !== 'number') return ws.close(1008, 'bad message');
    const id = msg.id;
    switch (msg.t) {
      case 'call':
        void router.call(msg.m, msg.i, { origin, client, ...(typeof msg.op === 'string' ? { op: msg.op } : {}) }).then((r) => send({ t: 'res', id, r }));
        return;
      case 'sub':
        if (subs.has(id)) return ws.close(1008, 'duplicate subscription id');
        subscribeFor(router, subs, id, msg.s, msg.i, send, { origin, client });
        return;
      case 'unsub':
        unsubscribe(subs, id);
        return;
      default:
        return ws.close(1008, 'unknown message type');
    }
  });

  const dispose = () => {
    for (const d of subs.values()) d.dispose();
    subs.clear();
  };
  ws.on('close', dispose);
  return { dispose };
}
