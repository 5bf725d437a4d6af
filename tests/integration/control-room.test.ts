import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { MetricsBatch } from '../../shared/control-room.js';
import { VncPolicy } from '../../electron/core/control-room/vnc-policy.js';
import { openTestCore, until } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { bootSectorWhy } from '../helpers/guests.js';
import { qemuWhy } from '../helpers/qemu.js';
import { plainVncServer } from '../helpers/vnc-server.js';

type TestCore = Awaited<ReturnType<typeof openTestCore>>;

describe('the inventory’s live numbers: metricsBatch', () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await openTestCore('nc-ui-mb-');
  });
  afterAll(async () => {
    await t.close();
  });

  it('samples only the rows asked for, and sends them together, once a second, history first', async () => {
    const ids: string[] = [];
    for (const [name, script] of [
      ['idle', 'sleep 300'],
      ['busy', 'while :; do :; done'],
      ['unwatched', 'sleep 300'],
    ] as const) {
      const w = await t.client.call('workloads.create', { driver: 'process', name, cmd: 'sh', args: ['-c', script] });
      await t.client.call('workloads.start', { id: w.id });
      ids.push(w.id);
    }
    const [idle, busy, unwatched] = ids as [string, string, string];
    const batches: { at: number; batch: MetricsBatch }[] = [];
    const stop = t.client.subscribe('metricsBatch', { ids: [idle, busy] }, { event: (batch) => batches.push({ at: Date.now(), batch }) });
    try {
      await until('three batches', () => batches.length, (n) => n >= 3, 10_000);
      for (const { batch } of batches) {
        // One message carries every watched row; the unwatched one is never sampled.
        expect(batch.map((b) => b.id).sort()).toEqual([idle, busy].sort());
      }
      const gaps = batches.slice(1).map((b, i) => b.at - batches[i]!.at);
      for (const g of gaps) expect(g).toBeGreaterThan(600);
      // Two shared cores and other suites running: busy means clearly above the idle sleeper, not 100%.
      await until('the busy loop’s CPU', () => batches.at(-1)!.batch.find((b) => b.id === busy)!.samples.at(-1)!.cpuPercent, (c) => c > 15, 8000);
      expect(batches.at(-1)!.batch.find((b) => b.id === idle)!.samples.at(-1)!.cpuPercent).toBeLessThan(5);
      expect(batches.at(-1)!.batch.find((b) => b.id === busy)!.samples.at(-1)!.memoryBytes).toBeGreaterThan(0);
    } finally {
      stop();
    }
    // Re-subscribing (a row scrolled back in) starts with the kept history: the sparkline is not empty.
    const again: MetricsBatch[] = [];
    const stop2 = t.client.subscribe('metricsBatch', { ids: [busy], history: 5 }, { event: (b) => again.push(b) });
    await until('the history', () => again.length, (n) => n >= 1, 3000);
    stop2();
    expect(again[0]![0]!.samples.length).toBeGreaterThanOrEqual(3);
    expect(again[0]![0]!.samples.length).toBeLessThanOrEqual(5);
    const { workloads } = await t.client.call('workloads.list', {});
    expect(workloads.find((w) => w.id === unwatched)?.state).toBe('running');
  }, 30_000);

  it('refuses more rows than a screen holds', async () => {
    const errors: string[] = [];
    t.client.subscribe('metricsBatch', { ids: Array.from({ length: 201 }, (_, i) => `process:${i}`) }, { event: () => undefined, error: (e) => errors.push(e.code) });
    await until('the refusal', () => errors.length, (n) => n > 0, 2000);
    expect(errors).toEqual(['INVALID_ARGUMENT']);
  });
});

describe('uploads for image imports', () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await openTestCore('nc-ui-up-');
  });
  afterAll(async () => {
    await t.close();
  });

  it('takes chunks in order into the data dir, and discards', async () => {
    const body = Buffer.from('x'.repeat(1000) + 'y'.repeat(500));
    const { upload } = await t.client.call('uploads.begin', { name: 'rootfs.tar', size: body.length });
    expect((await t.client.call('uploads.write', { upload, offset: 0, data: body.subarray(0, 1000).toString('base64') })).received).toBe(1000);
    await expect(t.client.call('uploads.write', { upload, offset: 0, data: 'eQ==' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'offset' });
    await expect(t.client.call('uploads.finish', { upload })).rejects.toMatchObject({ code: 'CONFLICT' });
    await t.client.call('uploads.write', { upload, offset: 1000, data: body.subarray(1000).toString('base64') });
    await expect(t.client.call('uploads.write', { upload, offset: 1500, data: 'eQ==' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'data' });
    const { file } = await t.client.call('uploads.finish', { upload });
    expect(file.startsWith(join(t.home, 'uploads') + '/')).toBe(true);
    expect(file.endsWith('.tar')).toBe(true);
    expect(readFileSync(file)).toEqual(body);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await t.client.call('uploads.discard', { upload });
    expect(() => statSync(file)).toThrow();
    await expect(t.client.call('uploads.write', { upload, offset: 0, data: 'eQ==' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(t.client.call('uploads.begin', { name: '../x', size: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
  });
});

describe('the web mode’s VNC allow-list', () => {
  it('parses networks and socket dirs, and names what it refuses', async () => {
    expect(() => VncPolicy.parse('')).toThrow(/at least one/);
    expect(() => VncPolicy.parse('10.0.0.0/33')).toThrow(/'10\.0\.0\.0\/33' is not a network/);
    expect(() => VncPolicy.parse('example.com')).toThrow(/is not a network/);
    expect(() => VncPolicy.parse('unix:relative')).toThrow(/unix:\/ABSOLUTE/);
    const p = VncPolicy.parse('127.0.0.0/8, fd00::/8,unix:/run/allowed/');
    await expect(p.check({ host: '127.0.0.5', port: 5901 })).resolves.toEqual({ kind: 'tcp', host: '127.0.0.5', port: 5901 });
    await expect(p.check({ host: 'localhost', port: 5901 })).resolves.toMatchObject({ kind: 'tcp', host: '127.0.0.1' });
    await expect(p.check({ host: 'fd00::1', port: 5900 })).resolves.toMatchObject({ kind: 'tcp', host: 'fd00::1' });
    await expect(p.check({ host: '10.1.2.3', port: 5900 })).rejects.toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringContaining('--vnc-allow 127.0.0.0/8,fd00::/8,unix:/run/allowed/') });
    await expect(p.check({ socket: '/run/allowed/../docker.sock' })).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
    await expect(p.check({ socket: '/var/run/docker.sock' })).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
  });
});

/** The first binary message on a console WebSocket: the RFB greeting of the server behind it. */
function greeting(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('message', (d: Buffer) => {
      resolve(d.toString('latin1'));
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describeWith('QEMU', qemuWhy() ?? bootSectorWhy(), 'saved VNC connections', () => {
  let t: TestCore;
  let vnc: Awaited<ReturnType<typeof plainVncServer>>;
  beforeAll(async () => {
    t = await openTestCore('nc-ui-vnc-');
    vnc = await plainVncServer('s3cret-pw');
  });
  afterAll(async () => {
    await vnc?.stop();
    await t?.close();
  });

  it('are saved without showing the password, opened through the core’s proxy, and forgotten', async () => {
    await t.core.consoles.startStandalone('127.0.0.1', 0);
    const saved = await t.client.call('vnc.save', { label: 'lab box', host: '127.0.0.1', port: vnc.port, password: 's3cret-pw' });
    expect(saved).toMatchObject({ label: 'lab box', host: '127.0.0.1', port: vnc.port, hasPassword: true });
    expect(JSON.stringify(saved)).not.toContain('s3cret');
    const list = await t.client.call('vnc.list', {});
    expect(list).toMatchObject({ enabled: true, connections: [saved] });
    const file = join(t.home, 'vnc-connections.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // Renamed, password kept.
    const renamed = await t.client.call('vnc.save', { id: saved.id, label: 'lab box 2', host: '127.0.0.1', port: vnc.port });
    expect(renamed.hasPassword).toBe(true);

    const ticket = await t.client.call('vnc.open', { id: saved.id });
    expect(ticket).toMatchObject({ label: 'lab box 2', password: 's3cret-pw' });
    expect(await greeting(ticket.url!)).toMatch(/^RFB 003\.008\n/);

    // Nobody listening: said at once, not a black screen.
    const dead = await t.client.call('vnc.save', { label: 'dead', host: '127.0.0.1', port: 1 });
    await expect(t.client.call('vnc.open', { id: dead.id })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('127.0.0.1:1') });

    await t.client.call('vnc.delete', { id: saved.id });
    await t.client.call('vnc.delete', { id: dead.id });
    expect((await t.client.call('vnc.list', {})).connections).toEqual([]);
    // The password reached no log.
    const log = readFileSync(join(t.home, 'state', 'logs', 'novacron.log'), 'utf8');
    expect(log).not.toContain('s3cret');
    expect(log).toContain('vnc.save');
  });

  it('are off in the web mode unless allowed, and then only within the allowed networks', async () => {
    const headless = (m: 'vnc.list' | 'vnc.open', input: object) => t.core.router.call(m, input, { origin: 'headless' });
    const saved = await t.client.call('vnc.save', { label: 'here', host: '127.0.0.1', port: vnc.port });
    expect(await headless('vnc.list', {})).toMatchObject({ ok: true, value: { enabled: false, reason: expect.stringContaining('--vnc-allow') } });
    expect(await headless('vnc.open', { id: saved.id })).toMatchObject({ ok: false, error: { code: 'NOT_SUPPORTED' } });

    t.core.vnc.allowHeadless(VncPolicy.parse('10.0.0.0/8'));
    expect(await headless('vnc.open', { id: saved.id })).toMatchObject({ ok: false, error: { code: 'NOT_SUPPORTED', message: expect.stringContaining('outside') } });
    t.core.vnc.allowHeadless(VncPolicy.parse('127.0.0.1/32'));
    const r = await headless('vnc.open', { id: saved.id });
    expect(r).toMatchObject({ ok: true, value: { path: expect.stringMatching(/^\/console\?ticket=/) } });
    t.core.vnc.allowHeadless(undefined);
    await t.client.call('vnc.delete', { id: saved.id });
  });
});
