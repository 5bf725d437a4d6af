import { connectWhenReady } from './bare-qmp.js';

/**
 * The least a VNC client does to see a first frame: RFB 3.8 handshake with no
 * authentication, a shared ClientInit, raw encoding, one full FramebufferUpdateRequest,
 * and the whole first FramebufferUpdate read. Straight on QEMU's unix socket, no proxy.
 * Resolves when that update has fully arrived.
 */
export async function firstFrame(path: string, timeoutMs = 30_000): Promise<void> {
  const sock = await connectWhenReady(path, timeoutMs);
  let buf = Buffer.alloc(0);
  let want: { n: number; resolve: (b: Buffer) => void } | undefined;
  const pump = () => {
    if (want && buf.length >= want.n) {
      const w = want;
      want = undefined;
      const out = buf.subarray(0, w.n);
      buf = buf.subarray(w.n);
      w.resolve(out);
    }
  };
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    pump();
  });
  const read = (n: number) =>
    new Promise<Buffer>((resolve) => {
      want = { n, resolve };
      pump();
    });
  try {
    await read(12); // "RFB 003.008\n"
    sock.write('RFB 003.008\n');
    const nTypes = (await read(1))[0]!;
    const types = [...(await read(nTypes))];
    if (!types.includes(1)) throw new Error(`VNC server offers no "None" security (${types.join(',')})`);
    sock.write(Buffer.from([1]));
    if ((await read(4)).readUInt32BE(0) !== 0) throw new Error('VNC security handshake failed');
    sock.write(Buffer.from([1])); // shared
    const init = await read(24);
    const [w, h] = [init.readUInt16BE(0), init.readUInt16BE(2)];
    const bpp = init[4]! / 8;
    await read(init.readUInt32BE(20)); // desktop name
    const enc = Buffer.alloc(8);
    enc.writeUInt8(2, 0);
    enc.writeUInt16BE(1, 2);
    enc.writeInt32BE(0, 4); // raw
    const req = Buffer.alloc(10);
    req.writeUInt8(3, 0);
    req.writeUInt8(0, 1); // not incremental
    req.writeUInt16BE(w, 6);
    req.writeUInt16BE(h, 8);
    sock.write(Buffer.concat([enc, req]));
    for (;;) {
      const type = (await read(1))[0]!;
      if (type === 0) break;
      if (type === 2) continue; // bell
      throw new Error(`unexpected VNC message ${type} before the first frame`);
    }
    const rects = (await read(3)).readUInt16BE(1);
    for (let i = 0; i < rects; i++) {
      const r = await read(12);
      const [rw, rh, e] = [r.readUInt16BE(4), r.readUInt16BE(6), r.readInt32BE(8)];
      if (e === 0) await read(rw * rh * bpp);
      else if (e !== -223 && e !== -224) throw new Error(`unexpected encoding ${e}`); // desktop size / last rect carry no data
    }
  } finally {
    sock.destroy();
  }
}
