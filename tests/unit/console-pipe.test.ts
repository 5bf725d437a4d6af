import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConsoleProxy } from '../../electron/core/services/console-proxy.js';
import type { Driver } from '../../electron/core/drivers/driver.js';
import type { DriverManager } from '../../electron/core/drivers/manager.js';

/**
 * The console proxy's pipe, against a plain TCP "VNC server" (the driver lookup is the
 * only stand-in): every byte arrives, in order, in both directions, when the browser
 * reads slowly, and when it writes before the VNC socket is even connected.
 */
const MiB = 1024 * 1024;

function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 10)) & 0xff;
  return b;
}

describe('console proxy pipe', () => {
  let server: Server;
  let proxy: ConsoleProxy;
  let mode: 'greet-and-stream' | 'echo' = 'echo';
  const payload = pattern(24 * MiB + 12345);

  beforeAll(async () => {
    server = createServer((s: Socket) => {
      s.on('error', () => undefined);
      if (mode === 'echo') s.on('data', (d) => s.write(d));
      else {
        s.write('RFB 003.008\n');
        s.end(payload);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const driver = { console: async () => ({ kind: 'tcp' as const, host: '127.0.0.1', port }) } as unknown as Driver;
    proxy = new ConsoleProxy({ require: async () => driver } as unknown as DriverManager);
    await proxy.startStandalone();
  });
  afterAll(() => {
    proxy.dispose();
    server.close();
  });

  const open = async () => {
    const t = await proxy.open('kvm:pipe', 'desktop');
    const ws = new WebSocket(t.url!, ['binary'], { perMessageDeflate: false, maxPayload: 64 * MiB });
    ws.binaryType = 'nodebuffer';
    return ws;
  };

  it('carries a large stream whole and in order to a browser that reads slowly', async () => {
    mode = 'greet-and-stream';
    const ws = await open();
    const chunks: Buffer[] = [];
    let frames = 0;
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (d: Buffer) => {
        chunks.push(Buffer.from(d));
        // Stall the reader now and then, so the proxy has to hold the VNC side back.
        if (++frames % 4 === 0) {
          const raw = (ws as unknown as { _socket: Socket })._socket;
          raw.pause();
          setTimeout(() => raw.resume(), 30);
        }
      });
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
    const all = Buffer.concat(chunks);
    expect(all.subarray(0, 12).toString()).toBe('RFB 003.008\n');
    const body = all.subarray(12);
    expect(body.length).toBe(payload.length);
    expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  });

  it('keeps what the browser sends before the VNC socket is connected, and echoes small messages at once', async () => {
    mode = 'echo';
    const ws = await open();
    await new Promise<void>((r) => ws.once('open', () => r()));
    const sent: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const m = Buffer.from(`input-${i};`);
      sent.push(m);
      ws.send(m);
    }
    const want = Buffer.concat(sent).length;
    const got: Buffer[] = [];
    await new Promise<void>((resolve) => {
      ws.on('message', (d: Buffer) => {
        got.push(Buffer.from(d));
        if (Buffer.concat(got).length >= want) resolve();
      });
    });
    expect(Buffer.concat(got).toString()).toBe(Buffer.concat(sent).toString());
    // One round trip more, after the pipe is up: it comes back as its own frame.
    const echo = new Promise<Buffer>((r) => ws.once('message', (d: Buffer) => r(Buffer.from(d))));
    ws.send(Buffer.from('ping'));
    expect((await echo).toString()).toBe('ping');
    ws.close();
  });
});
