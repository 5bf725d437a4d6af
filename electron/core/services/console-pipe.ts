import type { OnReadOpts, Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * The VNC side is read into one buffer this large, so a burst of framebuffer updates
 * leaves in a few big frames (one read, one frame, one write each) rather than in
 * hundreds of 64 KiB ones: per-frame costs (events, headers, syscalls) dominate a pipe.
 */
const READ_BUFFER = 1024 * 1024;

/**
 * Bridge one console WebSocket to its VNC socket, both ways, until either side closes.
 * Written for throughput and latency, since it carries every frame of a remote screen:
 *
 * - VNC → browser, without a copy or an allocation: the VNC socket is read into one
 *   reused buffer (`onread`), the bytes read leave as one frame straight from it, and
 *   the socket is not read again until that frame is written out. That is also the
 *   backpressure: a browser that reads slowly slows the VNC server, nothing piles up.
 *   (Fresh buffers per read cost more than the copying itself: page faults.)
 * - browser → VNC: input events go straight to the socket; Nagle is off on both sockets
 *   so a keystroke or a pointer move is not held back.
 *
 * `vnc` must have been connected with the onread of the reader given (consoleReader()).
 */
export function pipeConsole(ws: WebSocket, vnc: Socket, reader: ConsoleReader, onEnd: () => void): void {
  let waiting = false;
  const written = (err?: Error) => {
    if (err || !waiting) return;
    waiting = false;
    vnc.resume();
  };
  for (const chunk of reader.early.splice(0)) ws.send(chunk, { binary: true });
  const opts = { binary: true, compress: false, fin: true };
  reader.deliver = (chunk) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(chunk, opts, written);
    // Written out at once (small updates, input echoes): the buffer is free again and
    // reading goes on. Otherwise the socket keeps a reference: wait for the callback.
    if (ws.bufferedAmount > 0) {
      waiting = true;
      vnc.pause();
    }
  };
  (vnc as Socket & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) vnc.write(data);
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    vnc.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000, 'console closed');
    onEnd();
  };
  vnc.on('close', end);
  vnc.on('error', () => undefined);
  ws.on('close', end);
  ws.on('error', () => undefined);
}

/** Where a console socket's reads go: set by pipeConsole once the WebSocket is there. */
export interface ConsoleReader {
  deliver: (chunk: Buffer) => void;
  /** Bytes read before pipeConsole took over. */
  early: Buffer[];
}

/** The `onread` option for connecting to a VNC server, and the reader pipeConsole takes its bytes from. */
export function consoleReader(): { reader: ConsoleReader; onread: OnReadOpts } {
  // Until pipeConsole takes over, what arrives is copied aside (the shared buffer is read into again).
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
