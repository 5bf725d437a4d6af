/**
 * A recording stand-in for the `electron` module, so the shell's modules (window, IPC,
 * preload, main) run in a unit test where no Electron binary exists. It does nothing but
 * remember what the shell asked for; the test then checks that against Electron's
 * security checklist. Only the parts of the API the shell uses are here.
 */
type Handler = (...args: unknown[]) => unknown;

export class FakeEvent {
  prevented = false;
  constructor(readonly url?: string) {}
  preventDefault(): void {
    this.prevented = true;
  }
}

export interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
}

let nextId = 1;

export class FakeWebContents {
  readonly id = nextId++;
  readonly handlers = new Map<string, Handler[]>();
  windowOpenHandler: Handler | undefined;
  readonly sent: { channel: string; args: unknown[] }[] = [];
  destroyed = false;
  readonly mainFrame: FakeFrame;
  constructor(url = '') {
    this.mainFrame = { url, parent: null };
  }
  on(event: string, h: Handler): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), h]);
    return this;
  }
  once(event: string, h: Handler): this {
    return this.on(event, h);
  }
  emit(event: string, ...args: unknown[]): void {
    for (const h of this.handlers.get(event) ?? []) h(...args);
  }
  setWindowOpenHandler(h: Handler): void {
    this.windowOpenHandler = h;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getURL(): string {
    return this.mainFrame.url;
  }
}

export const recorded = {
  sandboxEnabled: false,
  windows: [] as FakeBrowserWindow[],
  appHandlers: new Map<string, Handler[]>(),
  permissionRequest: undefined as Handler | undefined,
  permissionCheck: undefined as Handler | undefined,
  beforeRequest: undefined as Handler | undefined,
  ipcHandlers: new Map<string, Handler>(),
  ipcListeners: new Map<string, Handler[]>(),
  exposed: new Map<string, unknown>(),
  rendererInvokes: [] as { channel: string; args: unknown[] }[],
  rendererSends: [] as { channel: string; args: unknown[] }[],
  /** What the preload listens to, by channel: a test delivers main's messages through these. */
  rendererListeners: new Map<string, Handler[]>(),
};

export class FakeBrowserWindow {
  readonly webContents: FakeWebContents;
  loaded: string | undefined;
  shown = false;
  constructor(readonly options: { webPreferences?: Record<string, unknown> } & Record<string, unknown>) {
    this.webContents = new FakeWebContents();
    recorded.windows.push(this);
  }
  static fromWebContents(wc: unknown): FakeBrowserWindow | null {
    return recorded.windows.find((w) => w.webContents === wc) ?? null;
  }
  static getAllWindows(): FakeBrowserWindow[] {
    return recorded.windows;
  }
  once(event: string, h: Handler): void {
    if (event === 'ready-to-show') queueMicrotask(() => h());
  }
  show(): void {
    this.shown = true;
  }
  loadURL(url: string): Promise<void> {
    this.loaded = url;
    this.webContents.mainFrame.url = url;
    return Promise.resolve();
  }
}

export const electronStub = {
  app: {
    enableSandbox: () => {
      recorded.sandboxEnabled = true;
    },
    whenReady: () => Promise.resolve(),
    on: (event: string, h: Handler) => {
      recorded.appHandlers.set(event, [...(recorded.appHandlers.get(event) ?? []), h]);
    },
    quit: () => undefined,
    exit: () => undefined,
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (h: Handler) => {
        recorded.permissionRequest = h;
      },
      setPermissionCheckHandler: (h: Handler) => {
        recorded.permissionCheck = h;
      },
      webRequest: {
        onBeforeRequest: (h: Handler) => {
          recorded.beforeRequest = h;
        },
      },
    },
  },
  BrowserWindow: FakeBrowserWindow,
  ipcMain: {
    handle: (channel: string, h: Handler) => {
      if (recorded.ipcHandlers.has(channel)) throw new Error(`second handler for ${channel}`);
      recorded.ipcHandlers.set(channel, h);
    },
    removeHandler: (channel: string) => recorded.ipcHandlers.delete(channel),
    on: (channel: string, h: Handler) => {
      recorded.ipcListeners.set(channel, [...(recorded.ipcListeners.get(channel) ?? []), h]);
    },
    off: (channel: string, h: Handler) => {
      recorded.ipcListeners.set(channel, (recorded.ipcListeners.get(channel) ?? []).filter((x) => x !== h));
    },
  },
  contextBridge: {
    exposeInMainWorld: (name: string, api: unknown) => {
      recorded.exposed.set(name, api);
    },
  },
  ipcRenderer: {
    invoke: (channel: string, ...args: unknown[]) => {
      recorded.rendererInvokes.push({ channel, args });
      return Promise.resolve({ ok: true, value: null });
    },
    send: (channel: string, ...args: unknown[]) => {
      recorded.rendererSends.push({ channel, args });
    },
    on: (channel: string, h: Handler) => {
      recorded.rendererListeners.set(channel, [...(recorded.rendererListeners.get(channel) ?? []), h]);
    },
  },
};

/** The web-contents-created listeners the shell registered, applied to a new contents. */
export function createContents(url = ''): FakeWebContents {
  const wc = new FakeWebContents(url);
  for (const h of recorded.appHandlers.get('web-contents-created') ?? []) h(new FakeEvent(), wc);
  return wc;
}
