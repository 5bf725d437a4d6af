import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConsoleProxy } from '../../electron/core/services/console-proxy.js';
import type { Driver } from '../../electron/core/drivers/driver.js';
import type { DriverManager } from '../../electron/core/drivers/manager.js';
import { OP, writeHeader } from '../../electron/core/services/ws-frames.js';
import { startServer } from '../../electron/core/transport/server.js';
import type { Router } from '../../electron/core/api/router.js';

/**
 * The console proxy's pipe, against a plain TCP "VNC server" (the driver lookup is the
 * only stand-in): every byte arrives, in order, in both directions, when the browser
 * reads slowly, when the VNC server reads slowly, and when the browser writes before the
 * VNC socket is even connected; and the WebSocket's own protocol (handshake, ping,
 * close) as a browser sees it on the wire.
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
  let mode: 'greet-and-stream' | 'echo' | 'slow-sink' | 'hang-up' | 'flood' = 'echo';
  let sink: ((all: Buffer) => void) | undefined;
  /** In 'flood' mode: the bytes the VNC server's kernel took so far (handed to write, less what Node still holds). */
  let flooded = () => 0;
  /** In 'flood' mode: the size of each write (small ones make small reads, which leave as small frames); endFlood stops, hangs up and says how much was written. */
  let floodChunk = 256 * 1024;
  let endFlood = () => 0;
  let vncClosed: Promise<void> | undefined;
  const payload = pattern(24 * MiB + 12345);

  beforeAll(async () => {
    server = createServer((s: Socket) => {
      s.on('error', () => undefined);
      vncClosed = new Promise((r) => s.once('close', () => r()));
      if (mode === 'echo') s.on('data', (d) => s.write(d));
      else if (mode === 'flood') {
        // Streams for as long as it is let: a screen that never stops changing.
        const chunk = Buffer.alloc(floodChunk, 0x5a);
        let handed = 0;
        let stopped = false;
        // Big chunks back to back; small ones one per turn of the loop, so the proxy reads them
        // about as they come (small reads), not coalesced in the kernel into big ones.
        const paced = chunk.length < 16 * 1024;
        const pump = () => {
          while (!stopped) {
            handed += chunk.length;
            if (s.destroyed || !s.write(chunk)) return;
            if (paced) return void setImmediate(pump);
          }
        };
        flooded = () => handed - s.writableLength;
        endFlood = () => {
          stopped = true;
          s.end();
          return handed; // all of it, with what Node still holds to write
        };
        s.on('drain', pump);
        pump();
      }
      else if (mode === 'hang-up') setTimeout(() => s.end('RFB 003.008\n'), 50);
      else if (mode === 'slow-sink') {
        // Reads nothing for a while (the proxy must hold the browser back), then all of it.
        s.pause();
        setTimeout(() => s.resume(), 400);
        const got: Buffer[] = [];
        s.on('data', (d) => got.push(d));
        s.on('end', () => sink?.(Buffer.concat(got)));
      } else {
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
    // However much one read brings, the browser gets it in messages of at most 1 MiB.
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(MiB);
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

  /** A browser on the wire: the upgrade by hand, then masked frames. */
  const rawClient = async (headers: Record<string, string> = {}) => {
    const t = await proxy.open('kvm:pipe', 'desktop');
    const url = new URL(t.url!);
    const sock = connect({ host: url.hostname, port: Number(url.port) });
    sock.on('error', () => undefined);
    const key = randomBytes(16).toString('base64');
    const hdrs = { Host: url.host, Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13', ...headers };
    sock.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\n${Object.entries(hdrs).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    let buf = Buffer.alloc(0);
    const waiters: (() => void)[] = [];
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      waiters.splice(0).forEach((w) => w());
    });
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    const until = async <T>(take: () => T | undefined): Promise<T> => {
      for (;;) {
        const v = take();
        if (v !== undefined) return v;
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    const response = await until(() => {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const text = buf.subarray(0, end).toString();
      buf = buf.subarray(end + 4);
      return text;
    });
    /** The next whole server frame (unmasked, as a server must send them). */
    const next = () =>
      until(() => {
        if (buf.length < 2) return undefined;
        expect(buf[1]! & 0x80).toBe(0);
        let len = buf[1]! & 0x7f;
        let at = 2;
        if (len === 126) [len, at] = [buf.readUInt16BE(2), 4];
        else if (len === 127) [len, at] = [Number(buf.readBigUInt64BE(2)), 10];
        if (buf.length < at + len) return undefined;
        const f = { fin: (buf[0]! & 0x80) !== 0, opcode: buf[0]! & 0x0f, payload: Buffer.from(buf.subarray(at, at + len)) };
        buf = buf.subarray(at + len);
        return f;
      });
    const send = (opcode: number, payload: Buffer, fin = true) => {
      const head = Buffer.alloc(14);
      const n = writeHeader(head, opcode, payload.length);
      if (!fin) head[0]! &= 0x7f;
      head[1]! |= 0x80;
      const mask = randomBytes(4);
      sock.write(Buffer.concat([head.subarray(0, n), mask, Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!))]));
    };
    return { sock, response, key, next, send, closed };
  };

  it('answers the upgrade as RFC 6455 asks, picking the binary subprotocol and no extension', async () => {
    mode = 'echo';
    const c = await rawClient({ 'Sec-WebSocket-Protocol': 'base64, binary', 'Sec-WebSocket-Extensions': 'permessage-deflate' });
    expect(c.response).toMatch(/^HTTP\/1\.1 101 /);
    const accept = createHash('sha1').update(`${c.key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    expect(c.response).toContain(`Sec-WebSocket-Accept: ${accept}`);
    expect(c.response).toContain('Sec-WebSocket-Protocol: binary');
    expect(c.response.toLowerCase()).not.toContain('extensions');
    c.sock.destroy();
    const old = await rawClient({ 'Sec-WebSocket-Version': '8' });
    expect(old.response).toMatch(/^HTTP\/1\.1 426 /);
    expect(old.response).toContain('Sec-WebSocket-Version: 13');
    const bad = await rawClient({ 'Sec-WebSocket-Key': 'short' });
    expect(bad.response).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers a ping with its payload, passes fragments on, and echoes the close code back', async () => {
    mode = 'echo';
    const c = await rawClient();
    c.send(OP.binary, Buffer.from('frag-'), false);
    c.send(OP.ping, Buffer.from('hello?'));
    c.send(OP.continuation, Buffer.from('mented'));
    // The pong and the VNC server's echo race each other: take frames until both are in.
    let echoed = '';
    const pongs: string[] = [];
    while (echoed.length < 'frag-mented'.length || pongs.length === 0) {
      const f = await c.next();
      expect(f.fin).toBe(true);
      if (f.opcode === OP.pong) pongs.push(f.payload.toString());
      else if (f.opcode === OP.binary) echoed += f.payload.toString();
      else throw new Error(`unexpected opcode ${f.opcode}`);
    }
    expect(pongs).toEqual(['hello?']);
    expect(echoed).toBe('frag-mented');
    const code = Buffer.alloc(2);
    code.writeUInt16BE(1001);
    c.send(OP.close, code);
    const close = await c.next();
    expect(close.opcode).toBe(OP.close);
    expect(close.payload.readUInt16BE(0)).toBe(1001);
    await c.closed;
    await vncClosed;
  });

  it('closes with 1002 a client that does not mask, and with 1000 when the VNC server hangs up', async () => {
    mode = 'echo';
    const c = await rawClient();
    c.sock.write(Buffer.from([0x82, 0x02, 0x41, 0x42]));
    const close = await c.next();
    expect(close.opcode).toBe(OP.close);
    expect(close.payload.readUInt16BE(0)).toBe(1002);
    await c.closed;
    mode = 'hang-up';
    const ws = await open();
    const [code, reason] = await new Promise<[number, string]>((r) => ws.on('close', (co, re) => r([co, re.toString()])));
    expect([code, reason]).toEqual([1000, 'console closed']);
  });

  it('refuses a used ticket before the upgrade', async () => {
    mode = 'echo';
    const t = await proxy.open('kvm:pipe', 'desktop');
    const first = new WebSocket(t.url!);
    await new Promise((r) => first.once('open', r));
    const again = new WebSocket(t.url!);
    const refused = await new Promise<number>((r) => {
      again.once('close', (code) => r(code));
      again.once('unexpected-response', (_q, res) => r(res.statusCode ?? 0));
      again.once('error', () => undefined);
    });
    expect(refused).toBe(403);
    first.close();
  });

  it('holds the browser back while the VNC server does not read, and loses nothing', async () => {
    mode = 'slow-sink';
    const sunk = new Promise<Buffer>((r) => (sink = r));
    const c = await rawClient();
    const up = randomBytes(8 * MiB + 77);
    // Large frames and small, some fragmented: what the VNC server gets is the bytes alone.
    for (let at = 0, i = 0; at < up.length; i++) {
      const n = Math.min(up.length - at, i % 3 === 0 ? 300_000 : 1000 + i);
      const piece = up.subarray(at, at + n);
      if (i % 5 === 1) {
        c.send(OP.binary, piece.subarray(0, 100), false);
        c.send(OP.continuation, piece.subarray(100));
      } else c.send(OP.binary, piece);
      at += n;
    }
    const code = Buffer.alloc(2);
    code.writeUInt16BE(1000);
    c.send(OP.close, code);
    const got = await sunk;
    expect(got.length).toBe(up.length);
    expect(got.equals(up)).toBe(true);
  });

  /**
   * In 'flood' mode, once the browser reads no more: waits until the VNC server can hand its
   * kernel nothing more for half a second, and answers what it handed by then. Throws when it
   * never is held back (within waitMs, or before 128 MiB are taken).
   */
  const heldBack = async (waitMs: number) => {
    let last = -1;
    let still = 0;
    for (let waited = 0; still < 5; waited += 100) {
      if (waited > waitMs || flooded() > 128 * MiB) throw new Error(`the VNC server was never held back (${(flooded() / MiB).toFixed(0)} MiB taken)`);
      await new Promise((r) => setTimeout(r, 100));
      still = flooded() === last ? still + 1 : 0;
      last = flooded();
    }
    return last;
  };

  it('stops reading the VNC server while the browser does not read: what it holds stays bounded', async () => {
    mode = 'flood';
    const before = process.memoryUsage().arrayBuffers;
    const ws = await open();
    await new Promise((r) => ws.once('open', r));
    // The browser reads nothing from here on.
    (ws as unknown as { _socket: Socket })._socket.pause();
    const last = await heldBack(10_000);
    // What was taken sits in the kernel's socket buffers on the way (13 MiB here, autotuned)
    // and in the proxy's one read buffer (4 MiB); this process grew by that buffer alone.
    expect(last).toBeGreaterThan(0);
    expect(last).toBeLessThan(64 * MiB);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(12 * MiB);
    ws.terminate();
    await vncClosed;
  });

  it('holds the VNC server back in small frames too, and loses none of them once the browser reads again', async () => {
    // 1,000-byte writes: the proxy reads them as they come, mostly one or a few at a time, and each
    // leaves as a small frame of its own (SMALL_FRAME), held back by the socket's write() and 'drain'.
    mode = 'flood';
    floodChunk = 1000;
    const before = process.memoryUsage().arrayBuffers;
    try {
      const ws = await open();
      let got = 0;
      let wrong = 0;
      const closed = new Promise<void>((r) => ws.once('close', () => r()));
      ws.on('message', (d: Buffer) => {
        got += d.length;
        if (d.some((b) => b !== 0x5a)) wrong++;
      });
      await new Promise((r) => ws.once('open', r));
      const socket = (ws as unknown as { _socket: Socket })._socket;
      socket.pause();
      const last = await heldBack(20_000);
      expect(last).toBeGreaterThan(0);
      expect(last).toBeLessThan(64 * MiB);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(12 * MiB);
      // The VNC server stops and hangs up; the browser reads again: every byte it handed over arrives.
      const handed = endFlood();
      socket.resume();
      await closed;
      expect(wrong).toBe(0);
      expect(got).toBe(handed);
    } finally {
      floodChunk = 256 * 1024;
    }
  });

  it('through the headless server too (its token first), whose closing cuts an open console', async () => {
    mode = 'echo';
    const srv = await startServer({ router: {} as Router, host: '127.0.0.1', port: 0, staticDir: '/nonexistent', wsRoutes: [proxy.wsRoute()] });
    const t = await proxy.open('kvm:pipe', 'headless');
    expect(t.url).toBeUndefined();
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}${t.path}`, { headers: { Authorization: `Bearer ${srv.token}` } });
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const echo = new Promise<Buffer>((r) => ws.once('message', (d: Buffer) => r(d)));
    ws.send(Buffer.from('via-headless'));
    expect((await echo).toString()).toBe('via-headless');
    const shut = await Promise.race([srv.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('hung'), 3000))]);
    expect(shut).toBe('closed');
    await closed;
  });

  it('ends the session when the browser hangs up without a close frame', async () => {
    mode = 'echo';
    const c = await rawClient();
    c.send(OP.binary, Buffer.from('hi'));
    expect((await c.next()).payload.toString()).toBe('hi');
    const vncGone = vncClosed!;
    c.sock.end();
    await vncGone;
    await c.closed;
  });
});
