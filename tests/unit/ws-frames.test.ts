import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { closeFrame, FrameParser, OP, writeHeader, type FrameSink } from '../../electron/core/services/ws-frames.js';

/**
 * The console proxy's hand-written RFC 6455 framing: the client's frames however they
 * are cut (fragments, control frames between them, a frame split anywhere across reads),
 * and the protocol errors that must close the connection with their code.
 */

/** A client frame: masked, as browsers send them. */
function frame(opcode: number, payload: Buffer, opts: { fin?: boolean; masked?: boolean; rsv?: number } = {}): Buffer {
  const masked = opts.masked ?? true;
  const head = Buffer.alloc(14);
  const n = writeHeader(head, opcode, payload.length);
  head[0] = (opts.fin ?? true ? 0x80 : 0) | (opts.rsv ?? 0) | opcode;
  if (!masked) return Buffer.concat([head.subarray(0, n), payload]);
  head[1]! |= 0x80;
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!));
  return Buffer.concat([head.subarray(0, n), mask, body]);
}

interface Seen {
  data: Buffer[];
  pings: string[];
  closes: [number | undefined, string][];
  fails: [number, string][];
}

function parser(): { p: FrameParser; seen: Seen } {
  const seen: Seen = { data: [], pings: [], closes: [], fails: [] };
  const sink: FrameSink = {
    data: (b) => seen.data.push(Buffer.from(b)),
    ping: (b) => seen.pings.push(b.toString()),
    close: (code, reason) => seen.closes.push([code, reason]),
    fail: (code, why) => seen.fails.push([code, why]),
  };
  return { p: new FrameParser(sink), seen };
}

const bytes = (n: number) => randomBytes(n);

describe('ws-frames: the client side of RFC 6455 as the console proxy reads it', () => {
  it('writes the three header sizes', () => {
    const h = Buffer.alloc(14);
    expect(writeHeader(h, OP.binary, 125)).toBe(2);
    expect([...h.subarray(0, 2)]).toEqual([0x82, 125]);
    expect(writeHeader(h, OP.binary, 126)).toBe(4);
    expect([...h.subarray(0, 4)]).toEqual([0x82, 126, 0, 126]);
    expect(writeHeader(h, OP.binary, 65535)).toBe(4);
    expect(writeHeader(h, OP.binary, 65536)).toBe(10);
    expect([...h.subarray(0, 10)]).toEqual([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(writeHeader(h, OP.binary, 2 ** 32 + 5)).toBe(10);
    expect([...h.subarray(2, 10)]).toEqual([0, 0, 0, 1, 0, 0, 0, 5]);
  });

  it('unmasks frames of every length class, even fed one byte at a time', () => {
    const payloads = [bytes(0), bytes(1), bytes(125), bytes(126), bytes(65535), bytes(70_000)];
    const wire = Buffer.concat(payloads.map((b) => frame(OP.binary, b)));
    const { p, seen } = parser();
    // The big ones in larger steps, so the test stays quick; the header splits are what matter.
    for (let at = 0; at < wire.length; ) {
      const step = at < 300 || wire.length - at < 300 ? 1 : 997;
      p.push(wire.subarray(at, at + step));
      at += step;
    }
    expect(seen.fails).toEqual([]);
    expect(Buffer.concat(seen.data).equals(Buffer.concat(payloads))).toBe(true);
  });

  it('passes a fragmented message on in order, with pings between its fragments answered', () => {
    const parts = [bytes(10), bytes(300), bytes(5)];
    const wire = Buffer.concat([
      frame(OP.binary, parts[0]!, { fin: false }),
      frame(OP.ping, Buffer.from('are you there')),
      frame(OP.continuation, parts[1]!, { fin: false }),
      frame(OP.pong, Buffer.from('unasked')),
      frame(OP.continuation, parts[2]!),
      frame(OP.binary, Buffer.from('next')),
    ]);
    const { p, seen } = parser();
    p.push(wire.subarray(0, 7));
    p.push(wire.subarray(7));
    expect(seen.fails).toEqual([]);
    expect(seen.pings).toEqual(['are you there']);
    expect(Buffer.concat(seen.data).equals(Buffer.concat([...parts, Buffer.from('next')]))).toBe(true);
  });

  it('reads a close frame: code and reason, or none; nothing after it counts', () => {
    const a = parser();
    a.p.push(Buffer.concat([frame(OP.close, closeFrame(1000, 'bye').subarray(2)), frame(OP.binary, Buffer.from('late'))]));
    expect(a.seen.closes).toEqual([[1000, 'bye']]);
    expect(a.seen.data).toEqual([]);
    const b = parser();
    b.p.push(frame(OP.close, Buffer.alloc(0)));
    expect(b.seen.closes).toEqual([[undefined, '']]);
  });

  it('writes close frames whose reason fits a control frame', () => {
    const f = closeFrame(1011, 'x'.repeat(300));
    expect(f[0]).toBe(0x88);
    expect(f[1]).toBeLessThanOrEqual(125);
    expect(f.readUInt16BE(2)).toBe(1011);
  });

  const fails: [string, Buffer, number][] = [
    ['an unmasked frame', frame(OP.binary, bytes(4), { masked: false }), 1002],
    ['a text frame', frame(OP.text, Buffer.from('hi')), 1003],
    ['reserved bits', frame(OP.binary, bytes(4), { rsv: 0x40 }), 1002],
    ['an unknown opcode', frame(3, bytes(4)), 1002],
    ['a continuation with no message', frame(OP.continuation, bytes(4)), 1002],
    ['a new message inside a fragmented one', Buffer.concat([frame(OP.binary, bytes(4), { fin: false }), frame(OP.binary, bytes(4))]), 1002],
    ['a fragmented control frame', frame(OP.ping, bytes(4), { fin: false }), 1002],
    ['a control frame over 125 bytes', frame(OP.ping, bytes(126)), 1002],
    ['a 1-byte close payload', frame(OP.close, Buffer.from([3])), 1002],
    ['a close code no peer may send', frame(OP.close, Buffer.from([0x03, 0xed])), 1002],
    ['a close reason that is not UTF-8', frame(OP.close, Buffer.from([0x03, 0xe8, 0xff, 0xfe])), 1007],
  ];
  for (const [what, wire, code] of fails) {
    it(`closes with ${code} on ${what}, and reads nothing more`, () => {
      const { p, seen } = parser();
      p.push(Buffer.concat([wire, frame(OP.binary, Buffer.from('after'))]));
      expect(seen.fails.map((f) => f[0])).toEqual([code]);
      expect(Buffer.concat(seen.data).toString()).not.toContain('after');
    });
  }

  it('refuses a length no JS number can count', () => {
    const { p, seen } = parser();
    p.push(Buffer.from([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 2, 3, 4]));
    expect(seen.fails.map((f) => f[0])).toEqual([1009]);
  });
});
