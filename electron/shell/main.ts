// The Electron main process: a thin shell over the Node core. It owns the window and
// the IPC wiring; every decision is the core's.
import { app, BrowserWindow } from 'electron';
import { Core } from '../core/core.js';
import { registerIpc } from './ipc.js';
import { createMainWindow, isTrustedSender, lockDown } from './window.js';

app.enableSandbox();

async function boot(): Promise<void> {
  await app.whenReady();
  lockDown();
  const core = await Core.open({ role: 'desktop' });
  // The desktop app is long-lived: crashes its drivers report reach the event log even with no window open.
  const watching = core.obs.watchDrivers(core.events);
  // Only the top frame of one of our own windows showing our own page may call.
  const ipc = registerIpc(core.router, isTrustedSender);
  // The VNC consoles' WebSocket proxy, on loopback: the page connects with a one-time ticket from console.open.
  await core.consoles.startStandalone('127.0.0.1', 0);
  createMainWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => {
    ipc.dispose();
    watching.dispose();
    core.dispose();
  });
}

boot().catch((e: unknown) => {
  console.error(`novacron: ${(e as Error).message}`);
  app.exit(1);
});
