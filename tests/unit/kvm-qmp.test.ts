import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { QmpClient, QmpError, withQmp } from '../../electron/core/drivers/kvm/qmp.js';

/**
 * The QMP client's protocol logic against a scripted monitor (a unit test of pure
 * protocol handling; the real QEMU is in the integration suites).
 */
function fakeMonitor(path: string, answer: (cmd: { execute: string; arguments?: unknown; id: number }, sock: Socket) => void): Server {
  const srv = createServer((sock) => {
    sock.write(JSON.stringify({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } }, capabilities: [] } }) + '\r\n');
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const cmd = JSON.parse(buf.slice(0, nl)) as { execute: string; id: number };
        buf = buf.slice(nl + 1);
        if (cmd.execute === 'qmp_capabilities') sock.write(JSON.stringify({ return: {}, id: cmd.id }) + '\r\n');
        else answer(cmd, sock);
      }
    });
  });
  srv.listen(path);
  return srv;
}

describe('QMP client', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nc-qmp-'));
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });
  const sock = (n: string) => join(dir, n);

  it('matches answers to commands by id, even out of order, and fans out events', async () => {
    const path = sock('a.sock');
    servers.push(
      fakeMonitor(path, (cmd, s) => {
        if (cmd.execute === 'slow') setTimeout(() => s.write(JSON.stringify({ return: 'slow', id: cmd.id }) + '\n'), 50);
        else {
          s.write(JSON.stringify({ event: 'STOP', timestamp: { seconds: 1, microseconds: 0 } }) + '\n');
          s.write(JSON.stringify({ return: { status: 'paused' }, id: cmd.id }) + '\n');
        }
      }),
    );
    const q = await QmpClient.connect(path);
    const events: string[] = [];
    q.onEvent((e) => events.push(e.event));
    const [slow, fast] = await Promise.all([q.execute('slow'), q.execute<{ status: string }>('query-status')]);
    expect(slow).toBe('slow');
    expect(fast.status).toBe('paused');
    expect(events).toEqual(['STOP']);
    q.dispose();
  });

  it("rejects with QEMU's error class and text, and times out a command that gets no answer", async () => {
    const path = sock('b.sock');
    servers.push(
      fakeMonitor(path, (cmd, s) => {
        if (cmd.execute === 'bad') s.write(JSON.stringify({ error: { class: 'DeviceNotActive', desc: 'No balloon device has been activated' }, id: cmd.id }) + '\n');
      }),
    );
    await withQmp(path, async (q) => {
      const err = await q.execute('bad').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QmpError);
      expect(err).toMatchObject({ qmpClass: 'DeviceNotActive', message: 'No balloon device has been activated' });
      await expect(q.execute('never', undefined, 100)).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('never') });
    });
  });

  it('waits for a socket that does not exist yet, and gives up with UNAVAILABLE', async () => {
    const path = sock('c.sock');
    setTimeout(() => servers.push(fakeMonitor(path, () => undefined)), 150);
    const q = await QmpClient.connect(path, { timeoutMs: 3_000 });
    expect(q.connected).toBe(true);
    q.dispose();
    await expect(QmpClient.connect(sock('nobody.sock'), { timeoutMs: 200 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('times out when another client holds the monitor and no greeting comes', async () => {
    const path = sock('d.sock');
    // A listener that accepts but never greets: what a busy QEMU monitor looks like to the next client.
    const mute = createServer(() => undefined);
    mute.listen(path);
    servers.push(mute);
    await expect(QmpClient.connect(path, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('greeting') });
  });

  it('reconnects when asked to, failing the commands that were in flight', async () => {
    const path = sock('e.sock');
    let conns = 0;
    servers.push(
      fakeMonitor(path, (cmd, s) => {
        conns++;
        if (cmd.execute === 'drop') s.destroy();
        else s.write(JSON.stringify({ return: conns, id: cmd.id }) + '\n');
      }),
    );
    const q = await QmpClient.connect(path, { reconnect: true, timeoutMs: 2_000 });
    await expect(q.execute('drop')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const deadline = Date.now() + 2_000;
    while (!q.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await q.execute('ping')).toBe(2);
    q.dispose();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
