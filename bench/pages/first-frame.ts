import RFB from '@novnc/novnc';
import { NovaClient } from '../../shared/contract/client.js';
import { wsTransport } from '../../renderer/src/transport/ws.js';

/**
 * The page of figure 2, served by the headless server: the renderer's own WebSocket
 * transport and noVNC, timing a VM's start through the contract to the first frame
 * noVNC has drawn. The bench calls window.benchFirstFrame from Playwright.
 */
const client = new NovaClient(wsTransport());

interface Timings {
  start: number;
  open: number;
  connect: number;
  total: number;
}

declare global {
  interface Window {
    benchFirstFrame(id: string): Promise<Timings>;
  }
}

window.benchFirstFrame = async (id) => {
  const box = document.createElement('div');
  document.body.append(box);
  const t0 = performance.now();
  await client.call('workloads.start', { id });
  const t1 = performance.now();
  const ticket = await client.call('console.open', { id });
  const t2 = performance.now();
  const url = ticket.url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${ticket.path}`;
  const rfb = new RFB(box, url, { shared: true });
  let t3 = 0;
  rfb.addEventListener('connect', () => (t3 = performance.now()));
  // noVNC flips its display when a framebuffer update is complete: the first flip is the first frame on screen.
  const display = (rfb as unknown as { _display: { flip(from?: boolean): void } })._display;
  const flip = display.flip.bind(display);
  const t4 = await new Promise<number>((resolve, reject) => {
    display.flip = (from?: boolean) => {
      flip(from);
      resolve(performance.now());
    };
    rfb.addEventListener('disconnect', () => reject(new Error('noVNC disconnected before the first frame')));
  });
  rfb.disconnect();
  box.remove();
  return { start: t1 - t0, open: t2 - t1, connect: t3 - t2, total: t4 - t0 };
};
