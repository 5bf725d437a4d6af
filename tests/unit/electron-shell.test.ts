import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { METHOD_NAMES, STREAM_NAMES } from '../../shared/contract/index.js';
import { IPC_STREAM, ipcChannelOf, type PreloadApi } from '../../shared/contract/wire.js';
import { rendererDir } from '../../electron/core/base/app-root.js';
import { createContents, FakeEvent, recorded, type FakeWebContents } from '../helpers/electron-stub.js';
import { tempHome } from '../helpers/home.js';

// The shell's modules run against a recording stand-in for `electron` (no binary here):
// every item of Electron's security checklist the shell can get wrong is checked on
// what it asked Electron for. https://www.electronjs.org/docs/latest/tutorial/security
vi.mock('electron', async () => (await import('../helpers/electron-stub.js')).electronStub);

const page = pathToFileURL(join(rendererDir(), 'index.html')).href;
const home = tempHome('nc-shell-');
type Invoke = (e: unknown, payload: unknown) => Promise<{ ok: boolean; error?: { code: string } }>;

describe('the Electron shell, against Electron’s security checklist', () => {
  let win: (typeof recorded.windows)[number];

  beforeAll(async () => {
    process.env.NOVACRON_HOME = home.home;
    process.env.NOVACRON_CONFIG = home.env.NOVACRON_CONFIG;
    // main.ts boots as it does in the app: the real core, the IPC wiring, the window.
    await import('../../electron/shell/main.js');
    const deadline = Date.now() + 10_000;
    while (recorded.windows.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    win = recorded.windows[0]!;
  });
  afterAll(() => {
    for (const h of recorded.appHandlers.get('will-quit') ?? []) h();
    home.cleanup();
  });

  it('enables the sandbox for every renderer, before any window', () => {
    expect(recorded.sandboxEnabled).toBe(true);
  });

  it('opens one window with context isolation, the sandbox, no Node, web security and no webviews', () => {
    expect(recorded.windows).toHaveLength(1);
    expect(win.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
    const prefs = win.options.webPreferences!;
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
    expect(prefs).not.toHaveProperty('nodeIntegrationInSubFrames');
    expect(prefs.preload).toMatch(/dist\/electron\/preload\.cjs$/);
  });

  it('loads only its own page, from the built renderer', () => {
    expect(win.loaded).toBe(page);
  });

  it('denies every permission request and check', () => {
    let granted: boolean | undefined;
    for (const perm of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fileSystem']) {
      recorded.permissionRequest!(win.webContents, perm, (ok: boolean) => (granted = ok));
      expect(granted, perm).toBe(false);
      expect(recorded.permissionCheck!(win.webContents, perm, page)).toBe(false);
    }
  });

  it('loads no remote content and no file outside the built renderer', () => {
    const decide = (url: string) => {
      let cancel: boolean | undefined;
      recorded.beforeRequest!({ url }, (r: { cancel: boolean }) => (cancel = r.cancel));
      return cancel;
    };
    expect(decide(page)).toBe(false);
    expect(decide(pathToFileURL(join(rendererDir(), 'assets', 'index-abc.js')).href)).toBe(false);
    expect(decide('ws://127.0.0.1:40111/console?ticket=x')).toBe(false);
    for (const url of [
      'https://example.com/',
      'http://127.0.0.1:7420/',
      'ws://evil.example/',
      'wss://10.0.0.1:443/',
      'file:///etc/passwd',
      `${pathToFileURL(rendererDir()).href}/../../package.json`,
      `${pathToFileURL(rendererDir()).href}/%2e%2e/%2e%2e/package.json`,
      `${pathToFileURL(rendererDir()).href}-evil/index.html`,
      'ftp://example.com/x',
    ]) {
      expect(decide(url), url).toBe(true);
    }
  });

  it('locks navigation, redirects, webviews and new windows on every web contents', () => {
    const wc = createContents(page);
    const nav = (event: string, url: string) => {
      const ev = new FakeEvent(url);
      wc.emit(event, ev, url);
      return ev.prevented;
    };
    expect(nav('will-navigate', 'https://evil.example/')).toBe(true);
    expect(nav('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(nav('will-navigate', `${page}#/drivers`)).toBe(false);
    expect(nav('will-frame-navigate', 'https://evil.example/')).toBe(true);
    expect(nav('will-redirect', `${page}#/x`)).toBe(true);
    expect(nav('will-attach-webview', page)).toBe(true);
    expect(wc.windowOpenHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(wc.windowOpenHandler!({ url: page })).toEqual({ action: 'deny' });
  });

  it('answers IPC only from the top frame of its own window showing its own page', async () => {
    expect([...recorded.ipcHandlers.keys()].sort()).toEqual(METHOD_NAMES.map((m) => ipcChannelOf(m)).sort());
    const call = recorded.ipcHandlers.get(ipcChannelOf('config.get')) as Invoke;
    const ev = (sender: FakeWebContents, frame: unknown) => ({ sender, senderFrame: frame });
    const top = { url: page, parent: null };
    expect(await call(ev(win.webContents, top), { input: {} })).toMatchObject({ ok: true });
    const stranger = createContents(page); // a web contents that is no window of ours
    expect(await call(ev(stranger, top), { input: {} })).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    expect(await call(ev(win.webContents, { url: page, parent: top }), { input: {} })).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    expect(await call(ev(win.webContents, { url: 'https://evil.example/', parent: null }), { input: {} })).toMatchObject({ ok: false });
    expect(await call(ev(win.webContents, null), { input: {} })).toMatchObject({ ok: false });
    // Input is validated by the core's router like everywhere else.
    const create = recorded.ipcHandlers.get(ipcChannelOf('workloads.create')) as Invoke;
    expect(await create(ev(win.webContents, top), { input: { driver: 'process', name: '../../etc', cmd: 'sh' } })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    // The page may not name a program to run: admin-only settings are refused from the window.
    const set = recorded.ipcHandlers.get(ipcChannelOf('config.set')) as Invoke;
    expect(await set(ev(win.webContents, top), { input: { values: { 'kvm.qemu_binary': '/bin/sh' } } })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    // Nor a libvirt URI that makes libvirt run one.
    for (const uri of ['qemu+ext:///system?command=/tmp/x', 'qemu+ssh://h/system?command=/tmp/x', 'qemu+ssh://h/system?netcat=/tmp/nc']) {
      expect(await set(ev(win.webContents, top), { input: { values: { 'libvirt.uri': uri } } })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: /values\.libvirt\.uri: makes libvirt run a program/ } });
    }
    // Streams: an untrusted subscriber gets nothing at all.
    const sub = recorded.ipcListeners.get(IPC_STREAM.subscribe)![0]!;
    sub(ev(stranger, top), { id: 1, stream: 'events', input: {} });
    expect(stranger.sent).toEqual([]);
    sub(ev(win.webContents, top), { id: 2, stream: 'nope', input: {} });
    await new Promise((r) => setImmediate(r));
    expect(win.webContents.sent.at(-1)).toMatchObject({ channel: IPC_STREAM.message, args: [[{ t: 'err', id: 2, error: { code: 'INVALID_ARGUMENT' } }]] });
  });

  it('sends what the core streams in one turn of its event loop as one IPC message, in order', async () => {
    const top = { url: page, parent: null };
    const sub = recorded.ipcListeners.get(IPC_STREAM.subscribe)![0]!;
    const before = win.webContents.sent.length;
    // Three subscriptions refused in the same turn.
    sub({ sender: win.webContents, senderFrame: top }, { id: 10, stream: 'nope', input: {} });
    sub({ sender: win.webContents, senderFrame: top }, { id: 11, stream: 'nope1', input: {} });
    sub({ sender: win.webContents, senderFrame: top }, { id: 12, stream: 'nope2', input: {} });
    await new Promise((r) => setImmediate(r));
    const sent = win.webContents.sent.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.channel).toBe(IPC_STREAM.message);
    const batch = sent[0]!.args[0] as { t: string; id: number }[];
    expect(batch.map((m) => [m.t, m.id])).toEqual([
      ['err', 10],
      ['err', 11],
      ['err', 12],
    ]);
    // A window gone before the turn ends gets nothing (Electron throws on a destroyed one).
    const gone = createContents(page);
    recorded.windows.push({ webContents: gone } as never);
    sub({ sender: gone, senderFrame: top }, { id: 13, stream: 'nope', input: {} });
    gone.destroyed = true;
    await new Promise((r) => setImmediate(r));
    expect(gone.sent).toEqual([]);
  });

  it('gives the page a preload with the contract’s two verbs and nothing else', async () => {
    Object.assign(globalThis, { __NOVACRON_METHODS__: METHOD_NAMES, __NOVACRON_STREAMS__: STREAM_NAMES });
    await import('../../electron/shell/preload.js');
    expect([...recorded.exposed.keys()]).toEqual(['novacron']);
    const api = recorded.exposed.get('novacron') as PreloadApi;
    expect(Object.keys(api).sort()).toEqual(['call', 'methods', 'streams', 'subscribe']);
    expect(await api.call('fs.readFile', { path: '/etc/shadow' })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(recorded.rendererInvokes).toEqual([]);
    await api.call('drivers.list', {});
    expect(recorded.rendererInvokes).toEqual([{ channel: ipcChannelOf('drivers.list'), args: [{ input: {}, op: undefined }] }]);
    api.subscribe('shell', {}, () => undefined);
    expect(recorded.rendererSends).toEqual([]);
    // One IPC message from main carries several subscriptions' messages: each reaches its own
    // listener, in order, and nothing reaches a subscription after its end or its unsubscribe.
    const a: unknown[] = [];
    const b: unknown[] = [];
    api.subscribe('events', {}, (m) => a.push(m));
    const stopB = api.subscribe('events', {}, (m) => b.push(m));
    const [idA, idB] = recorded.rendererSends.slice(-2).map((s) => (s.args[0] as { id: number }).id);
    const deliver = (batch: unknown[]) => recorded.rendererListeners.get(IPC_STREAM.message)!.forEach((h) => h({}, batch));
    deliver([
      { t: 'ev', id: idA, e: 1 },
      { t: 'ev', id: idB, e: 2 },
      { t: 'ev', id: idA, e: 3 },
      { t: 'end', id: idA },
      { t: 'ev', id: idA, e: 4 },
    ]);
    stopB();
    deliver([{ t: 'ev', id: idB, e: 5 }]);
    expect(a).toEqual([{ t: 'ev', id: idA, e: 1 }, { t: 'ev', id: idA, e: 3 }, { t: 'end', id: idA }]);
    expect(b).toEqual([{ t: 'ev', id: idB, e: 2 }]);
  });

  it('has a strict Content-Security-Policy on its page, with no remote source', () => {
    for (const file of [join('renderer', 'index.html'), join(rendererDir(), 'index.html')]) {
      const html = readFileSync(file, 'utf8');
      const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
      expect(csp, file).toBeDefined();
      const d = Object.fromEntries(csp!.split(';').map((p) => p.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
      expect(d['default-src']).toEqual(["'self'"]);
      expect(d['script-src']).toEqual(["'self'"]);
      expect(d['object-src']).toEqual(["'none'"]);
      expect(d['base-uri']).toEqual(["'none'"]);
      expect(d['form-action']).toEqual(["'none'"]);
      expect(d['connect-src']).toEqual(["'self'", 'ws://127.0.0.1:*']);
      expect(csp).not.toMatch(/unsafe-eval|https?:|\*\.|'unsafe-inline'[^;]*script/);
      // Nothing in the page itself comes from elsewhere.
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
  });

  it('ships with Electron’s fuses set: no run-as-node, no NODE_OPTIONS or --inspect, its own asar only', () => {
    const fuses = (parse(readFileSync('electron-builder.yml', 'utf8')) as { electronFuses?: Record<string, boolean> }).electronFuses;
    expect(fuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      enableCookieEncryption: true,
    });
  });
});
