import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { NovaClient } from '../../shared/contract/client.js';
import type { TerminalEvent } from '../../shared/model.js';
import { serve } from '../helpers/cli.js';
import { openTestCore } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { bootSectorImage, bootSectorWhy } from '../helpers/guests.js';
import { qemuWhy } from '../helpers/qemu.js';
import { wsClient } from '../helpers/ws-client.js';

const why = qemuWhy() ?? bootSectorWhy();

/**
 * Walk the RFB handshake through the console proxy and return the desktop name the VNC
 * server announces: QEMU calls it "QEMU (<guest name>)", so it says which VM a ticket opened.
 */
function vncDesktopName(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    let buf = Buffer.alloc(0);
    let step = 0;
    const done = (v: string | Error) => {
      ws.close();
      if (v instanceof Error) reject(v);
      else resolve(v);
    };
    ws.on('message', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (step === 0 && buf.length >= 12) {
          buf = buf.subarray(12);
          ws.send(Buffer.from('RFB 003.008\n'));
          step = 1;
        } else if (step === 1 && buf.length >= 1 && buf.length >= 1 + buf[0]!) {
          const types = [...buf.subarray(1, 1 + buf[0]!)];
          buf = buf.subarray(1 + buf[0]!);
          if (!types.includes(1)) return done(new Error(`no "None" security type: ${types.join(',')}`));
          ws.send(Buffer.from([1]));
          step = 2;
        } else if (step === 2 && buf.length >= 4) {
          if (buf.readUInt32BE(0) !== 0) return done(new Error('security handshake failed'));
          buf = buf.subarray(4);
          ws.send(Buffer.from([1])); // ClientInit: shared
          step = 3;
        } else if (step === 3 && buf.length >= 24 && buf.length >= 24 + buf.readUInt32BE(20)) {
          return done(buf.subarray(24, 24 + buf.readUInt32BE(20)).toString('utf8'));
        } else return;
      }
    });
    ws.once('unexpected-response', (_req, res) => done(new Error(`HTTP ${res.statusCode}`)));
    ws.once('close', (code, reason) => done(new Error(`closed ${code} ${reason.toString()}`)));
    ws.once('error', (e) => done(e));
  });
}

/** A serial terminal through a client: its session id and what it printed so far. */
async function openSerial(client: NovaClient, id: string): Promise<{ session: string; out: () => string; close: () => void }> {
  let out = '';
  let session: string | undefined;
  let failed: string | undefined;
  const close = client.subscribe('terminal', { id, kind: 'serial' }, {
    event: (e: TerminalEvent) => {
      if (e.type === 'ready') session = e.session;
      if (e.type === 'data') out += e.data ?? '';
    },
    error: (e) => (failed = e.message),
  });
  const deadline = Date.now() + 10_000;
  while (!session) {
    if (failed || Date.now() > deadline) throw new Error(`terminal did not open: ${failed ?? 'timeout'}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { session, out: () => out, close };
}

describeWith('QEMU', why, 'console sessions: one-time tickets and terminal sessions bound to one VM and one connection', () => {
  let t: Awaited<ReturnType<typeof openTestCore>>;
  let srv: Awaited<ReturnType<typeof serve>>;
  const ids: Record<'a' | 'b', string> = { a: '', b: '' };
  const auth = () => ({ Authorization: `Bearer ${srv.token}` });

  beforeAll(async () => {
    t = await openTestCore('nc-seccon-');
    for (const k of ['a', 'b'] as const) {
      const w = await t.client.call('workloads.create', { driver: 'kvm', name: `sec-${k}`, memoryMB: 32, disks: [{ base: bootSectorImage() }], accel: 'tcg' });
      ids[k] = w.id;
      await t.client.call('workloads.start', { id: w.id });
    }
    srv = await serve(t.env);
  });
  afterAll(async () => {
    await srv?.stop();
    await t.close();
  });

  it('a console ticket opens the VM it was issued for, once, and no other', async () => {
    const c = await wsClient(`${srv.url.replace('http', 'ws')}ws`, auth());
    const base = srv.url.replace('http', 'ws').replace(/\/$/, '');
    try {
      const ta = await c.client.call('console.open', { id: ids.a });
      const tb = await c.client.call('console.open', { id: ids.b });
      expect(ta.path).not.toBe(tb.path);
      expect(await vncDesktopName(`${base}${ta.path}`, auth())).toBe('QEMU (sec-a)');
      expect(await vncDesktopName(`${base}${tb.path}`, auth())).toBe('QEMU (sec-b)');
      // Used once: gone. Naming another VM beside it changes nothing: the ticket alone says which VM.
      await expect(vncDesktopName(`${base}${ta.path}`, auth())).rejects.toThrow(/403/);
      const tc = await c.client.call('console.open', { id: ids.a });
      expect(await vncDesktopName(`${base}${tc.path}&id=${encodeURIComponent(ids.b)}&workload=${encodeURIComponent(ids.b)}`, auth())).toBe('QEMU (sec-a)');
      // A ticket is not a token: without the server's token it opens nothing.
      const td = await c.client.call('console.open', { id: ids.b });
      await expect(vncDesktopName(`${base}${td.path}`, {})).rejects.toThrow(/401/);
    } finally {
      c.close();
    }
  });

  it('a terminal session answers only the connection that opened it, and only for its own VM', async () => {
    const ws = `${srv.url.replace('http', 'ws')}ws`;
    const one = await wsClient(ws, auth());
    const two = await wsClient(ws, auth());
    try {
      const a = await openSerial(one.client, ids.a);
      const b = await openSerial(two.client, ids.b);
      // The other connection knows the id (say it leaked): still not its session.
      await expect(two.client.call('terminal.input', { session: a.session, data: 'stolen' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(two.client.call('terminal.resize', { session: a.session, cols: 10, rows: 10 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(t.client.call('terminal.input', { session: a.session, data: 'stolen' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // Its owner types into its VM (the boot sector echoes what it receives), and only there.
      await one.client.call('terminal.input', { session: a.session, data: 'only-a' });
      await two.client.call('terminal.input', { session: b.session, data: 'only-b' });
      const deadline = Date.now() + 10_000;
      while ((!a.out().includes('only-a') || !b.out().includes('only-b')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(a.out()).toContain('only-a');
      expect(b.out()).toContain('only-b');
      expect(a.out()).not.toContain('stolen');
      expect(a.out()).not.toContain('only-b');
      expect(b.out()).not.toContain('only-a');
      a.close();
      b.close();
    } finally {
      one.close();
      two.close();
    }
  });
});
