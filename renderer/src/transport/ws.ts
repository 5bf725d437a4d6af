import type { ClientMessage, ServerMessage, StreamSink, Transport } from '../../../shared/contract/wire.js';
import type { Result } from '../../../shared/errors.js';

interface Sub {
  stream: string;
  input: unknown;
  sink: StreamSink;
}

/**
 * The headless mode's transport: the contract over one WebSocket to the server that
 * served the page (the token travels in its HttpOnly cookie). It reconnects by itself
 * and re-opens the subscriptions it had; calls in flight when the link drops fail with
 * UNAVAILABLE rather than hang.
 */
export function wsTransport(url = defaultUrl(), onStatus?: (connected: boolean) => void): Transport {
  let ws: WebSocket | undefined;
  let nextId = 1;
  let retry = 250;
  const pending = new Map<number, (r: Result<unknown>) => void>();
  const subs = new Map<number, Sub>();
  const queue: ClientMessage[] = [];

  const send = (m: ClientMessage) => {
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
    else queue.push(m);
  };

  const connect = () => {
    const sock = new WebSocket(url);
    ws = sock;
    sock.onopen = () => {
      retry = 250;
      onStatus?.(true);
      for (const [id, s] of subs) sock.send(JSON.stringify({ t: 'sub', id, s: s.stream, i: s.input } satisfies ClientMessage));
      for (const m of queue.splice(0)) if (m.t !== 'sub') sock.send(JSON.stringify(m));
    };
    sock.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data)) as ServerMessage;
      switch (m.t) {
        case 'res':
          pending.get(m.id)?.(m.r);
          pending.delete(m.id);
          return;
        case 'ev':
          subs.get(m.id)?.sink.event(m.e);
          return;
        case 'err': {
          const s = subs.get(m.id);
          subs.delete(m.id);
          s?.sink.error?.(m.error);
          return;
        }
        case 'end': {
          const s = subs.get(m.id);
          subs.delete(m.id);
          s?.sink.end?.();
          return;
        }
      }
    };
    sock.onclose = () => {
      onStatus?.(false);
      for (const [id, resolve] of pending) {
        resolve({ ok: false, error: { code: 'UNAVAILABLE', message: 'the connection to NovaCron was lost; retrying' } });
        pending.delete(id);
      }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 5000);
    };
  };
  connect();

  return {
    call(method, input, op) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        send({ t: 'call', id, m: method, i: input, ...(op ? { op } : {}) });
      });
    },
    subscribe(stream, input, sink) {
      const id = nextId++;
      subs.set(id, { stream, input, sink });
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ t: 'sub', id, s: stream, i: input } satisfies ClientMessage));
      return () => {
        if (subs.delete(id)) send({ t: 'unsub', id });
      };
    },
  };
}

function defaultUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}
