import { ipcMain, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents, type WebFrameMain } from 'electron';
import { METHOD_NAMES } from '../../shared/contract/index.js';
import { IPC_STREAM, ipcChannelOf, type ServerMessage } from '../../shared/contract/wire.js';
import type { Router } from '../core/api/router.js';
import type { Disposable } from '../core/base/lifecycle.js';
import { coalescer } from '../core/transport/coalesce.js';
import { subscribeFor, unsubscribe } from '../core/transport/stream-subs.js';

/**
 * The contract over Electron IPC, derived from the contract: one handler per method, one
 * pair of channels for streams. Only our own window may call; everything a window
 * subscribed to is disposed when it goes away.
 */
export function registerIpc(router: Router, isTrusted: (sender: WebContents, frame: WebFrameMain | null | undefined) => boolean): Disposable {
  const perWindow = new Map<number, Map<number, Disposable>>();

  /** A window's connection id: what its terminal sessions are bound to. */
  const clientOf = (wc: WebContents) => `ipc-${wc.id}`;
  const trusted = (e: IpcMainInvokeEvent | IpcMainEvent) => isTrusted(e.sender, e.senderFrame);
  const denied = { ok: false, error: { code: 'UNAVAILABLE', message: 'this window may not call NovaCron' } } as const;

  for (const m of METHOD_NAMES) {
    ipcMain.handle(ipcChannelOf(m), async (e, payload: { input?: unknown; op?: unknown } | undefined) => {
      if (!trusted(e)) return denied;
      const op = typeof payload?.op === 'string' ? payload.op : undefined;
      return router.call(m, payload?.input, { origin: 'desktop', client: clientOf(e.sender), ...(op ? { op } : {}) });
    });
  }

  /**
   * A window's stream messages, as the WebSocket sends them (coalesce.ts): what one turn of
   * the event loop sends leaves as one IPC message, an array, in order. A call's answer
   * (ipcMain.handle) is not in that queue and may reach the page before the stream
   * messages of its last turn; the page takes neither as older than the other (an op's
   * progress after its answer is dropped, the upsert an op publishes carries its answer).
   */
  const queues = new Map<number, (m: ServerMessage) => void>();
  const sendTo = (wc: WebContents) => {
    let q = queues.get(wc.id);
    if (!q) {
      q = coalescer<ServerMessage>((batch) => {
        if (!wc.isDestroyed()) wc.send(IPC_STREAM.message, batch);
      });
      queues.set(wc.id, q);
      wc.once('destroyed', () => queues.delete(wc.id));
    }
    return q;
  };

  const subsOf = (wc: WebContents) => {
    let subs = perWindow.get(wc.id);
    if (!subs) {
      const fresh = new Map<number, Disposable>();
      perWindow.set(wc.id, fresh);
      wc.once('destroyed', () => {
        for (const d of fresh.values()) d.dispose();
        perWindow.delete(wc.id);
      });
      subs = fresh;
    }
    return subs;
  };

  const onSubscribe = (e: IpcMainEvent, msg: { id?: unknown; stream?: unknown; input?: unknown }) => {
    if (!trusted(e) || typeof msg?.id !== 'number') return;
    const id = msg.id;
    const wc = e.sender;
    subscribeFor(router, subsOf(wc), id, msg.stream, msg.input, sendTo(wc), { origin: 'desktop', client: clientOf(wc) });
  };
  const onUnsubscribe = (e: IpcMainEvent, msg: { id?: unknown }) => {
    if (!trusted(e) || typeof msg?.id !== 'number') return;
    unsubscribe(perWindow.get(e.sender.id), msg.id);
  };
  ipcMain.on(IPC_STREAM.subscribe, onSubscribe);
  ipcMain.on(IPC_STREAM.unsubscribe, onUnsubscribe);

  return {
    dispose() {
      for (const m of METHOD_NAMES) ipcMain.removeHandler(ipcChannelOf(m));
      ipcMain.off(IPC_STREAM.subscribe, onSubscribe);
      ipcMain.off(IPC_STREAM.unsubscribe, onUnsubscribe);
      for (const subs of perWindow.values()) for (const d of subs.values()) d.dispose();
      perWindow.clear();
      queues.clear();
    },
  };
}
