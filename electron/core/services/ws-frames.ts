/**
 * RFC 6455 framing for the console proxy's byte stream, after the handshake
 * (ws-handshake.ts). The console carries one binary stream (RFB) whose message
 * boundaries mean nothing, so payload is passed on as it arrives, piece by piece, and
 * never gathered into whole messages: no buffering, no copies, no size limit to enforce.
 */

export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** Close codes (RFC 6455 §7.4.1) this side sends. */
export const CLOSE = { normal: 1000, protocol: 1002, unsupported: 1003, invalidData: 1007, tooBig: 1009, internal: 1011 } as const;

/** A frame header for `length` payload bytes, unmasked (server to client), into `out` (14 bytes suffice); returns its size. */
export function writeHeader(out: Buffer, opcode: number, length: number): number {
  out[0] = 0x80 | opcode;
  if (length < 126) {
    out[1] = length;
    return 2;
  }
  if (length < 0x10000) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
    return 4;
  }
  out[1] = 127;
  out.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
  out.writeUInt32BE(length >>> 0, 6);
  return 10;
}

/** A whole control frame (close, ping, pong): small, so one fresh buffer. */
export function controlFrame(opcode: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + payload.length);
  writeHeader(out, opcode, payload.length);
  payload.copy(out, 2);
  return out;
}

/** A close frame; the reason is cut to what fits a control frame (123 bytes). */
export function closeFrame(code: number, reason = ''): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > 123) text = Buffer.from(reason.slice(0, 120), 'utf8').subarray(0, 123);
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return controlFrame(OP.close, payload);
}

/** What the parser finds in the client's frames. */
export interface FrameSink {
  /** Unmasked payload bytes of a binary message, in order; a subarray of the chunk pushed, valid for good. */
  data(bytes: Buffer): void;
  ping(payload: Buffer): void;
  /** The client closes: its code (absent if it gave none) and reason. */
  close(code: number | undefined, reason: string): void;
  /** The client broke the protocol: close with this code. Nothing is parsed after it. */
  fail(code: number, why: string): void;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Close codes a peer may send (RFC 6455 §7.4.1–2): not 1004–1006, 1015, nor anything under 1000. */
const validCloseCode = (c: number) => (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);

/**
 * Incremental parser of client-to-server frames. Client frames must be masked; they are
 * unmasked in place (the chunks are the socket's own, fresh for every read). Control
 * frames may arrive between the fragments of a message, and any frame may be split
 * across reads anywhere, its header included.
 */
export class FrameParser {
  private readonly head = Buffer.alloc(14);
  private have = 0;
  private need = 2;
  private inPayload = false;
  private remaining = 0;
  private opcode = 0;
  private fin = false;
  private readonly mask = Buffer.alloc(4);
  private maskAt = 0;
  /** A fragmented binary message is under way (its continuations are data). */
  private inMessage = false;
  private control: Buffer[] = [];
  private failed = false;

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.failed) {
      if (!this.inPayload) {
        const n = Math.min(this.need - this.have, chunk.length - at);
        chunk.copy(this.head, this.have, at, at + n);
        this.have += n;
        at += n;
        if (this.have === this.need) this.header();
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - at);
      const piece = chunk.subarray(at, at + n);
      at += n;
      this.unmask(piece);
      this.remaining -= n;
      if (this.opcode >= OP.close) this.control.push(piece);
      else this.sink.data(piece);
      if (this.remaining === 0) this.endFrame();
    }
  }

  private fail(code: number, why: string): void {
    this.failed = true;
    this.sink.fail(code, why);
  }

  /** Called each time `need` header bytes are in: either asks for more, or starts the payload. */
  private header(): void {
    const b0 = this.head[0]!;
    const b1 = this.head[1]!;
    if (this.have === 2) {
      if (b0 & 0x70) return this.fail(CLOSE.protocol, 'reserved bits set (no extension was agreed)');
      if (!(b1 & 0x80)) return this.fail(CLOSE.protocol, 'client frames must be masked');
      const len7 = b1 & 0x7f;
      this.need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + 4;
      return;
    }
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    const len7 = b1 & 0x7f;
    let length = len7;
    let at = 2;
    if (len7 === 126) {
      length = this.head.readUInt16BE(2);
      at = 4;
    } else if (len7 === 127) {
      const hi = this.head.readUInt32BE(2);
      // Above 2^53 - 1 a JS number cannot count it; no console sends anything near.
      if (hi > 0x1f_ffff) return this.fail(CLOSE.tooBig, 'frame too large');
      length = hi * 0x1_0000_0000 + this.head.readUInt32BE(6);
      at = 10;
    }
    this.head.copy(this.mask, 0, at, at + 4);
    this.maskAt = 0;
    this.have = 0;
    this.need = 2;
    const refused = this.refuse(length);
    if (refused) return this.fail(...refused);
    this.remaining = length;
    this.inPayload = length > 0;
    if (length === 0) this.endFrame();
  }

  /** Why the frame just read may not come now (its opcode, FIN and length), if it may not. */
  private refuse(length: number): [code: number, why: string] | undefined {
    const op = this.opcode;
    if (op >= OP.close) {
      if (op > OP.pong) return [CLOSE.protocol, `unknown opcode ${op}`];
      if (!this.fin || length > 125) return [CLOSE.protocol, 'control frames are at most 125 bytes, unfragmented'];
      return undefined;
    }
    if (op === OP.continuation) {
      if (!this.inMessage) return [CLOSE.protocol, 'continuation without a message'];
    } else {
      if (op === OP.text) return [CLOSE.unsupported, 'the console takes binary frames only'];
      if (op !== OP.binary) return [CLOSE.protocol, `unknown opcode ${op}`];
      if (this.inMessage) return [CLOSE.protocol, 'a new message before the last one ended'];
    }
    this.inMessage = !this.fin;
    return undefined;
  }

  private endFrame(): void {
    this.inPayload = false;
    if (this.opcode < OP.close) return;
    const payload = this.control.length === 1 ? this.control[0]! : Buffer.concat(this.control);
    this.control = [];
    if (this.opcode === OP.ping) this.sink.ping(payload);
    else if (this.opcode === OP.close) this.closeFrame(payload);
    // A pong answers nothing we asked: ignored, as RFC 6455 §5.5.3 allows.
  }

  private closeFrame(payload: Buffer): void {
    if (payload.length === 0) return this.end(undefined, '');
    if (payload.length === 1) return this.fail(CLOSE.protocol, 'close frame with a 1-byte payload');
    const code = payload.readUInt16BE(0);
    if (!validCloseCode(code)) return this.fail(CLOSE.protocol, `invalid close code ${code}`);
    let reason: string;
    try {
      reason = utf8.decode(payload.subarray(2));
    } catch {
      return this.fail(CLOSE.invalidData, 'close reason is not UTF-8');
    }
    this.end(code, reason);
  }

  private end(code: number | undefined, reason: string): void {
    this.failed = true; // nothing after a close frame counts
    this.sink.close(code, reason);
  }

  private unmask(b: Buffer): void {
    const m = this.mask;
    let k = this.maskAt;
    for (let i = 0; i < b.length; i++, k = (k + 1) & 3) b[i] = b[i]! ^ m[k]!;
    this.maskAt = k;
  }
}
