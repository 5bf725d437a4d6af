// The preload: the page's only door to the core. It exposes the contract's two verbs,
// checks names against the contract, and nothing else: no ipcRenderer, no Node, no env.
import { contextBridge, ipcRenderer } from 'electron';
import type { MethodName, StreamName } from '../../shared/contract/index.js';
import { IPC_STREAM, ipcChannelOf, type PreloadApi, type ServerMessage } from '../../shared/contract/wire.js';
import type { Result } from '../../shared/errors.js';

// Inlined at build time from the contract (scripts/build-node.mjs): the names, not the schemas.
declare const __NOVACRON_METHODS__: readonly MethodName[];
declare const __NOVACRON_STREAMS__: readonly StreamName[];
const METHOD_NAMES = __NOVACRON_METHODS__;
const STREAM_NAMES = __NOVACRON_STREAMS__;
const isMethodName = (n: unknown): n is MethodName => METHOD_NAMES.includes(n as MethodName);
const isStreamName = (n: unknown): n is StreamName => STREAM_NAMES.includes(n as StreamName);

let nextId = 1;
const listeners = new Map<number, (m: ServerMessage) => void>();

// One IPC message holds what the core sent in one turn of its event loop, in order (shell/ipc.ts).
ipcRenderer.on(IPC_STREAM.message, (_event, batch: ServerMessage[]) => {
  for (const m of batch) {
    const l = listeners.get(m.id);
    if (!l) continue;
    if (m.t === 'err' || m.t === 'end') listeners.delete(m.id);
    l(m);
  }
});

const api: PreloadApi = {
  methods: METHOD_NAMES,
  streams: STREAM_NAMES,
  async call(method, input, op) {
    if (!isMethodName(method)) {
      return { ok: false, error: { code: 'INVALID_ARGUMENT', message: `method: '${String(method)}' is not a NovaCron method`, field: 'method' } };
    }
    return (await ipcRenderer.invoke(ipcChannelOf(method), { input, op })) as Result<unknown>;
  },
  subscribe(stream, input, onMessage) {
    const id = nextId++;
    if (!isStreamName(stream)) {
      onMessage({ t: 'err', id, error: { code: 'INVALID_ARGUMENT', message: `stream: '${String(stream)}' is not a NovaCron stream` } });
      return () => undefined;
    }
    listeners.set(id, onMessage);
    ipcRenderer.send(IPC_STREAM.subscribe, { id, stream, input });
    return () => {
      if (listeners.delete(id)) ipcRenderer.send(IPC_STREAM.unsubscribe, { id });
    };
  },
};

contextBridge.exposeInMainWorld('novacron', api);
