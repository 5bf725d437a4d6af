import type { OnReadOpts, Socket } from 'node:net';
import { CLOSE, closeFrame, controlFrame, FrameParser, OP, writeHeader } from './ws-frames.js';

/**
 * The VNC side is read into one buffer this large, so a burst of framebuffer updates
 * leaves in a few big reads and writes rather than hundreds of 64 KiB ones: per-read
 * costs (wakeups, syscalls, TCP work) dominate a pipe. 4 MiB over 1 MiB cut the proxy's
 * CPU per GiB streamed by about a quarter (bench vnc-proxy); it is also what one session
 * may hold while its browser does not read (the socket is not read again until then).
 */
const READ_BUFFER = 4 * 1024 * 1024;
/**
 * A read larger than this leaves as several messages of at most this size, in the same
 * writev: noVNC grows its receive queue to 8× the largest message (to at most 40 MiB),
 * and a browser assembles each message whole before the page sees it.
 */
const MESSAGE_MAX = 1024 * 1024;
/** A frame header is at most 10 bytes from server to client (no mask). */
const HEADER_MAX = 10;
/**
 * A frame this small leaves as one copied buffer, one write(2), with no write callback: a
 * fresh buffer (from Node's pool when under 4 KiB) is free the moment it is handed over,
 * and the socket's own backpressure (write() returning false, then 'drain') holds the VNC
 * side back. Skipping the callback's turn took ~8 µs off the 64-byte round trip (bench
 * vnc-proxy, 7 runs each way: p50 0.81× websockify's against 0.85×). Larger frames leave
 * as header + payload in one writev(2), straight from the read buffer, which waits for
 * their callback.
 */
const SMALL_FRAME = 16 * 1024;
/** What the browser may send before the VNC socket is attached; past it, its socket is not read until then. */
const EARLY_MAX = 1024 * 1024;
/** After our close frame, how long the browser has to answer and hang up before the socket is cut. */
const CLOSE_GRACE_MS = 5_000;

/**
 * One console session: a WebSocket (the raw socket after acceptUpgrade) bridged to its
 * VNC socket, both ways, until either side closes. Framed by hand rather than through
 * ws, since it carries every frame of a remote screen and one input event per message:
 *
 * - VNC → browser, without a copy or an allocation: the VNC socket is read into one
 *   reused buffer (`onread`), the bytes read leave straight from it (as frames of at
 *   most MESSAGE_MAX, headers and payloads in one writev), and the socket is not read
 *   again until they are written out. That is also the backpressure: a browser that
 *   reads slowly slows the VNC server, nothing piles up. Small frames (input echoes,
 *   cursor updates) are copied behind their header into a buffer of their own and leave
 *   in one plain write (SMALL_FRAME).
 * - browser → VNC: payload is unmasked in place and written on as it arrives, whatever
 *   the fragmentation; a VNC server that does not keep up pauses the browser's socket.
 *   Nagle is off on both sockets so a keystroke or a pointer move is not held back.
 * - pings are answered, a close frame is answered and ends the session, a protocol
 *   error closes with its code (RFC 6455).
 *
 * What the browser sends before the VNC socket is attached is kept and written first.
 */
export class ConsoleSession {
  private vnc: Socket | undefined;
  private early: Buffer[] = [];
  private earlyBytes = 0;
  /** The headers of one read's frames (a larger read, only the first one's early bytes, gets its own). */
  private readonly headers = Buffer.allocUnsafe(HEADER_MAX * Math.ceil(READ_BUFFER / MESSAGE_MAX));
  /** A frame of ours is not written out yet: the VNC side waits. */
  private waiting = false;
  private closing = false;
  ended = false;

  constructor(
    private readonly client: Socket,
    head: Buffer,
    private readonly onEnd: (session: ConsoleSession) => void,
  ) {
    client.setNoDelay(true);
    client.setTimeout(0);
    client.on('error', () => undefined);
    client.on('close', () => this.end());
    // The browser hung up without a close frame: nothing more comes, so the session ends
    // (the upgraded socket is half-open-capable, as every HTTP server socket is).
    client.on('end', () => {
      this.closing = true;
      client.end();
      this.end();
    });
    const parser = new FrameParser({
      data: (bytes) => this.fromBrowser(bytes),
      ping: (payload) => this.control(controlFrame(OP.pong, payload)),
      // The browser closes: its code goes back to it (RFC 6455 §5.5.1).
      close: (code) => this.close(code ?? CLOSE.normal, ''),
      fail: (code, why) => this.close(code, why),
    });
    client.on('data', (chunk: Buffer) => parser.push(chunk));
    if (head.length > 0) parser.push(head);
  }

  /** Start piping to the VNC socket, connected with the onread of `reader` (consoleReader()). */
  attach(vnc: Socket, reader: ConsoleReader): void {
    if (this.ended) {
      vnc.destroy();
      return;
    }
    this.vnc = vnc;
    vnc.setNoDelay(true);
    vnc.on('error', () => undefined);
    vnc.on('close', () => this.close(CLOSE.normal, 'console closed'));
    vnc.on('drain', () => this.client.resume());
    let flowing = true;
    for (const d of this.early.splice(0)) flowing = vnc.write(d);
    if (flowing) this.client.resume();
    // One frame for all of it: the session's frame buffers are reused, one frame at a time.
    if (reader.early.length > 0) this.toBrowser(Buffer.concat(reader.early.splice(0)));
    reader.deliver = (chunk) => this.toBrowser(chunk);
  }

  private fromBrowser(bytes: Buffer): void {
    if (!this.vnc) {
      this.early.push(bytes);
      this.earlyBytes += bytes.length;
      if (this.earlyBytes > EARLY_MAX) this.client.pause();
    } else if (!this.vnc.write(bytes)) this.client.pause();
  }

  private readonly written = (err?: Error | null) => {
    if (err || !this.waiting) return;
    this.waiting = false;
    this.vnc?.resume();
  };

  private toBrowser(chunk: Buffer): void {
    if (this.closing) return;
    const c = this.client;
    if (chunk.length <= SMALL_FRAME) {
      // Header of at most 4 bytes: a small frame's length fits in 16 bits.
      const out = Buffer.allocUnsafe(4 + chunk.length);
      const n = writeHeader(out, OP.binary, chunk.length);
      chunk.copy(out, n);
      if (!c.write(out.subarray(0, n + chunk.length))) {
        this.waiting = true;
        this.vnc?.pause();
        c.once('drain', () => this.written());
      }
      return;
    }
    const slots = HEADER_MAX * Math.ceil(chunk.length / MESSAGE_MAX);
    const heads = slots <= this.headers.length ? this.headers : Buffer.allocUnsafe(slots);
    // Corked, so all the frames leave in one writev.
    c.cork();
    for (let at = 0, h = 0; at < chunk.length; at += MESSAGE_MAX, h += HEADER_MAX) {
      const piece = chunk.subarray(at, at + MESSAGE_MAX);
      const n = writeHeader(heads.subarray(h), OP.binary, piece.length);
      c.write(heads.subarray(h, h + n));
      c.write(piece, at + MESSAGE_MAX >= chunk.length ? this.written : undefined);
    }
    c.uncork();
    // Written out at once (the usual case): the buffers are free again and reading goes
    // on. Otherwise the socket holds them: the VNC side waits for the write callback.
    if (c.writableLength > 0) {
      this.waiting = true;
      this.vnc?.pause();
    }
  }

  private control(frame: Buffer): void {
    if (!this.closing && this.client.writable) this.client.write(frame);
  }

  /** Send a close frame and hang up (the VNC side at once, the browser once it has the frame). */
  close(code: number, reason: string): void {
    if (!this.closing) {
      this.closing = true;
      if (this.client.writable) {
        this.client.end(closeFrame(code, reason));
        setTimeout(() => this.client.destroy(), CLOSE_GRACE_MS).unref();
      } else this.client.destroy();
    }
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.vnc?.destroy();
    this.onEnd(this);
  }

  /** Cut both sockets at once (the core is going away). */
  terminate(): void {
    this.closing = true;
    this.client.destroy();
    this.end();
  }
}

/** Where a console socket's reads go: set by ConsoleSession.attach once the WebSocket is there. */
export interface ConsoleReader {
  deliver: (chunk: Buffer) => void;
  /** Bytes read before the session took over. */
  early: Buffer[];
}

/** The `onread` option for connecting to a VNC server, and the reader the session takes its bytes from. */
export function consoleReader(): { reader: ConsoleReader; onread: OnReadOpts } {
  // Until the session takes over, what arrives is copied aside (the shared buffer is read into again).
  const early: Buffer[] = [];
  const reader: ConsoleReader = { deliver: (chunk) => early.push(Buffer.from(chunk)), early };
  const buffer = Buffer.allocUnsafe(READ_BUFFER);
  return {
    reader,
    onread: {
      buffer,
      callback: (n) => {
        reader.deliver(buffer.subarray(0, n));
        return true;
      },
    },
  };
}
