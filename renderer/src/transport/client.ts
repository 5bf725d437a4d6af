import { NovaClient } from '../../../shared/contract/client.js';
import type { PreloadApi } from '../../../shared/contract/wire.js';
import { ipcTransport } from './ipc.js';
import { wsTransport } from './ws.js';
import { useConnection } from '../stores/connection.js';

declare global {
  interface Window {
    novacron?: PreloadApi;
  }
}

/** Same React code either way: Electron's preload when present, else the headless server's WebSocket. */
export const transportKind: 'electron' | 'web' = window.novacron ? 'electron' : 'web';

export const client = new NovaClient(
  window.novacron ? ipcTransport(window.novacron) : wsTransport(undefined, (up) => useConnection.getState().set(up)),
);
