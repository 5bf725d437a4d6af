import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { NovaClient } from '../../shared/contract/client.js';
import { serve } from '../helpers/cli.js';
import { openTestCore } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { bootSectorImage, bootSectorWhy } from '../helpers/guests.js';
import { qemuWhy } from '../helpers/qemu.js';

const why = qemuWhy() ?? bootSectorWhy();

/** Open a WebSocket and resolve with its first binary message (the RFB greeting), or reject with why it failed. */
function firstMessage(url: string, headers: Record<string, string> = {}): Promise<{ text: string; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('message', (d: Buffer) => resolve({ text: d.toString('latin1'), ws }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
    ws.once('error', reject);
  });
}

describeWith('QEMU', why, 'the console proxy: VNC over a WebSocket with one-time tickets', () => {
  let core: Awaited<ReturnType<typeof openTestCore>>;
  let client: NovaClient;
  let id: string;

  beforeAll(async () => {
    core = await openTestCore('nc-con-');
    client = core.client;
    const w = await client.call('workloads.create', { driver: 'kvm', name: 'con', memoryMB: 32, disks: [{ base: bootSectorImage() }], accel: 'tcg' });
    id = w.id;
    await client.call('workloads.start', { id });
  });
  afterAll(async () => {
    await client.call('workloads.delete', { id, force: true }).catch(() => undefined);
    await core.close();
  });

  it('bridges a ticket to the VM’s VNC server on the loopback proxy, once', async () => {
    await core.core.consoles.startStandalone('127.0.0.1', 0);
    const t = await client.call('console.open', { id });
    expect(t.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/console\?ticket=[\w-]{32}$/);
    expect(Date.parse(t.expiresAt)).toBeGreaterThan(Date.now());
    const { text, ws } = await firstMessage(t.url!);
    expect(text).toMatch(/^RFB 003\.008\n/);
    ws.close();
    // A ticket is good once.
    await expect(firstMessage(t.url!)).rejects.toThrow(/403/);
    await expect(firstMessage(t.url!.replace(/ticket=.*/, 'ticket=forged'))).rejects.toThrow(/403/);
  });

  it('refuses a console of a VM that is not running', async () => {
    const off = await client.call('workloads.create', { driver: 'kvm', name: 'con-off', memoryMB: 32, disks: [{ base: bootSectorImage() }], accel: 'tcg' });
    await expect(client.call('console.open', { id: off.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('not running') });
    await client.call('workloads.delete', { id: off.id });
  });

  it('serves the same consoles in headless mode, behind the server token as well as the ticket', async () => {
    const srv = await serve(core.env);
    try {
      const auth = { Authorization: `Bearer ${srv.token}` };
      const { wsClient } = await import('../helpers/ws-client.js');
      const c = await wsClient(`${srv.url.replace('http', 'ws')}ws`, auth);
      const t = await c.client.call('console.open', { id });
      c.close();
      expect(t.url).toBeUndefined();
      const url = `${srv.url.replace('http', 'ws').replace(/\/$/, '')}${t.path}`;
      await expect(firstMessage(url)).rejects.toThrow(/401/); // the ticket alone is not enough here
      const { text, ws } = await firstMessage(url, auth);
      expect(text).toMatch(/^RFB 003\.008\n/);
      ws.close();
    } finally {
      await srv.stop();
    }
  });
});
