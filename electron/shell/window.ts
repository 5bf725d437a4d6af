import { BrowserWindow, app, session, type WebContents, type WebFrameMain } from 'electron';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { appRoot, rendererDir } from '../core/base/app-root.js';

export const rendererUrl = () => pathToFileURL(join(rendererDir(), 'index.html')).href;

/** Is this URL our own renderer page (any hash route)? */
export function isOurPage(url: string | undefined): boolean {
  if (!url) return false;
  const page = rendererUrl();
  return url === page || url.startsWith(`${page}#`);
}

/**
 * A file of the built renderer, and no other file: a file:// page may otherwise fetch any
 * file:// URL (Electron's grantFileProtocolExtraPrivileges), which would let the page read
 * the disk.
 */
export function isOwnFile(url: string): boolean {
  if (!url.startsWith('file:')) return false;
  let path: string;
  try {
    path = normalize(fileURLToPath(new URL(url)));
  } catch {
    return false;
  }
  return path.startsWith(rendererDir() + sep);
}

/** What the page may load or connect to: its own files, the devtools, and the loopback console proxy. */
export function isAllowedRequest(url: string): boolean {
  return isOwnFile(url) || url.startsWith('devtools://') || /^wss?:\/\/127\.0\.0\.1:\d+\//.test(url);
}

/**
 * Who may call the core over IPC: the top frame (never an iframe) of one of our own
 * windows, showing our own page. ipc.ts asks this for every call and subscription.
 */
export function isTrustedSender(sender: WebContents, frame: WebFrameMain | null | undefined): boolean {
  if (!frame || frame.parent !== null) return false;
  return BrowserWindow.fromWebContents(sender) !== null && isOurPage(frame.url);
}

/**
 * Electron's security checklist, applied to every web contents the app ever makes: no
 * navigation away, no new windows, no permissions, no remote content.
 */
export function lockDown(): void {
  // Nothing but fullscreen (a console's Fullscreen button), and only for our own page.
  session.defaultSession.setPermissionRequestHandler((wc, perm, cb) => cb(perm === 'fullscreen' && isOurPage(wc.getURL())));
  session.defaultSession.setPermissionCheckHandler((_wc, perm, origin) => perm === 'fullscreen' && origin.startsWith('file://'));
  // Nothing remote is ever loaded: only our own files.
  session.defaultSession.webRequest.onBeforeRequest((details, cb) => {
    cb({ cancel: !isAllowedRequest(details.url) });
  });
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (ev, url) => {
      if (!isOurPage(url)) ev.preventDefault();
    });
    contents.on('will-redirect', (ev) => ev.preventDefault());
    contents.on('will-frame-navigate', (ev) => {
      if (!isOurPage(ev.url)) ev.preventDefault();
    });
    contents.on('will-attach-webview', (ev) => ev.preventDefault());
    // The app never opens windows for content. A console "in its own window" (window.open of
    // one of our own routes) becomes a BrowserWindow of ours, made here with the same
    // preferences and lock-down as the main one; anything else is refused.
    contents.setWindowOpenHandler(({ url }) => {
      if (isOurPage(url)) createWindow(url, { width: 1024, height: 700 });
      return { action: 'deny' };
    });
  });
}

export function createMainWindow(): BrowserWindow {
  return createWindow(rendererUrl(), { width: 1280, height: 820, minWidth: 900, minHeight: 600 });
}

/** A window of ours showing one of our own routes: the main window, or a console of its own. */
function createWindow(url: string, size: { width: number; height: number; minWidth?: number; minHeight?: number }): BrowserWindow {
  const win = new BrowserWindow({
    ...size,
    title: 'NovaCron',
    icon: join(appRoot(), 'assets', 'icon.png'),
    show: false,
    webPreferences: {
      preload: join(appRoot(), 'dist', 'electron', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // Middle-click must not open links in new windows.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(isOurPage(url) ? url : rendererUrl());
  return win;
}
