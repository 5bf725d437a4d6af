import type { PreloadApi, Transport } from '../../../shared/contract/wire.js';

/** The desktop transport: the preload's `window.novacron`, which Electron's IPC carries to the core. */
export function ipcTransport(api: PreloadApi): Transport {
  return {
    call: (method, input, op) => api.call(method, input, op),
    subscribe: (stream, input, sink) =>
      api.subscribe(stream, input, (m) => {
        if (m.t === 'ev') sink.event(m.e);
        else if (m.t === 'err') sink.error?.(m.error);
        else if (m.t === 'end') sink.end?.();
      }),
  };
}
