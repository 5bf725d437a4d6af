import type { ServerMessage } from '../../../shared/contract/wire.js';
import type { CallMeta, Router } from '../api/router.js';
import type { Disposable } from '../base/lifecycle.js';

/**
 * One subscription of a remote client (a WebSocket, a window over IPC), kept in that
 * client's map by the id the client chose: events, errors and the end go out as wire
 * messages, and a stream that ends or fails leaves the map by itself. A stream may end
 * or fail before subscribe() even returns: then it is disposed at once, never kept.
 */
export function subscribeFor(
  router: Router,
  subs: Map<number, Disposable>,
  id: number,
  stream: unknown,
  input: unknown,
  send: (m: ServerMessage) => void,
  meta: CallMeta,
): void {
  let finished = false;
  const finish = () => {
    finished = true;
    const d = subs.get(id);
    subs.delete(id);
    d?.dispose();
  };
  const d = router.subscribe(
    stream,
    input,
    {
      event: (e) => send({ t: 'ev', id, e }),
      error: (error) => {
        send({ t: 'err', id, error });
        finish();
      },
      end: () => {
        send({ t: 'end', id });
        finish();
      },
    },
    meta,
  );
  if (finished) d.dispose();
  else subs.set(id, d);
}

/** The client's unsubscribe: an unknown id (a stream that already ended) is no error. */
export function unsubscribe(subs: Map<number, Disposable> | undefined, id: number): void {
  subs?.get(id)?.dispose();
  subs?.delete(id);
}
