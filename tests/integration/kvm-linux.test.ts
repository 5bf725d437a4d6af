import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import type { CoreEvent } from '../../shared/model.js';
import { openTestCore, until } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { guestAgentWhy, LINUX_BANNER, LINUX_POWEROFF, tinyLinux, tinyLinuxWhy } from '../helpers/guests.js';
import { qemuPids, qemuWhy } from '../helpers/qemu.js';
import { openTerminal, type TestTerminal } from '../helpers/terminal.js';

const why = qemuWhy() ?? tinyLinuxWhy();
vi.setConfig({ testTimeout: 90_000 });
const MiB = 1024 * 1024;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * One tiny Linux guest, booted once under TCG and reused: its serial shell, a snapshot
 * with RAM and a revert, the balloon, a same-host live migration, a migration to a QEMU
 * another NovaCron prepared, and a graceful ACPI power-off.
 */
describeWith('QEMU', why, 'kvm driver, a Linux guest (TCG)', () => {
  let a: Awaited<ReturnType<typeof openTestCore>>;
  let b: Awaited<ReturnType<typeof openTestCore>>;
  let client: NovaClient;
  let id: string;
  let term: TestTerminal;
  const events: CoreEvent[] = [];
  let stopEvents: () => void;
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    a = await openTestCore('nc-kvl-');
    b = await openTestCore('nc-kvr-');
    client = a.client;
    stopEvents = client.subscribe('events', {}, { event: (e) => events.push(e) });
    const linux = tinyLinux();
    const w = await client.call('workloads.create', {
      driver: 'kvm',
      name: 'tiny',
      memoryMB: 128,
      disks: [{ sizeGB: 1 }],
      ...linux,
      accel: 'tcg',
    });
    id = w.id;
    cleanup.push(() => client.call('workloads.delete', { id, force: true }));
    await client.call('workloads.start', { id });
    // A TCG boot takes a whole core for seconds: let the other suites (and developers) on these two cores go first.
    setPriority(Number((await client.call('workloads.inspect', { id })).runtime.pid), 15);
    term = await openTerminal(client, id);
    await term.expect(new RegExp(LINUX_BANNER), 60_000);
    await term.expect(/# /, 30_000);
  }, 120_000);

  afterAll(async () => {
    term?.close();
    stopEvents?.();
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    await a?.close();
    await b?.close();
  });

  const pidOf = async (c: NovaClient, wid: string) => Number((await c.call('workloads.inspect', { id: wid })).runtime.pid);

  it('answers on its serial shell', async () => {
    expect(await term.run('uname -s')).toBe('Linux');
  });

  it('counts network bytes through the guest agent', async () => {
    const noAgent = guestAgentWhy();
    if (noAgent && process.env.CI === 'true') throw new Error(`needed under CI: ${noAgent}`);
    if (noAgent) return console.warn(`SKIPPED network bytes: ${noAgent}`);
    // Any packet counts: the ARP and ICMP of one ping to the user-mode network's gateway.
    await term.run('ping -c 1 -W 2 10.0.2.2 >/dev/null 2>&1; true');
    const s = await until('network counters', () => client.call('workloads.stats', { id }), (x) => (x.netTxBytes ?? 0) > 0 && (x.netRxBytes ?? 0) > 0, 40_000);
    expect(s.source).toContain('guest agent');
  });

  it('takes a snapshot with RAM and reverting brings the guest state back', async () => {
    await term.run('echo marker-one > /tmp/marker');
    const snap = await client.call('snapshots.create', { id, name: 'with-ram' });
    expect(snap.kind).toBe('with RAM');
    expect(snap.sizeBytes).toBeGreaterThan(1 * MiB);
    expect(Date.parse(snap.createdAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(events.some((e) => e.type === 'progress' && e.progress.workloadId === id && /snapshot 'with-ram'/.test(e.progress.label))).toBe(true);
    await term.run('echo marker-two > /tmp/marker');
    expect(await term.run('cat /tmp/marker')).toBe('marker-two');

    expect((await client.call('snapshots.revert', { id, name: 'with-ram' })).state).toBe('running');
    expect(await term.run('cat /tmp/marker')).toBe('marker-one');
    expect((await client.call('snapshots.list', { id })).map((s) => s.name)).toEqual(['with-ram']);
  });

  it('gives memory back through the virtio balloon, and its metrics say so', async () => {
    await expect(client.call('workloads.scale', { id, memoryMB: 512 })).rejects.toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringContaining('balloon') });
    await client.call('workloads.scale', { id, memoryMB: 96 });
    const s = await until('the balloon to deflate the guest', () => client.call('workloads.stats', { id }), (x) => x.memoryLimitBytes === 96 * MiB, 20_000);
    expect(s.memoryBytes).toBeGreaterThan(10 * MiB);
    expect(s.diskReadBytes).toBeGreaterThanOrEqual(0);
    expect(await term.run("grep MemTotal /proc/meminfo | grep -c kB")).toBe('1');
  });

  it('migrates live to a fresh local QEMU with no lost state', async () => {
    const pid = await pidOf(client, id);
    const op = `mig-${Date.now()}`;
    const w = await client.call('workloads.migrate', { id, to: 'local' }, { op });
    expect(w.state).toBe('running');
    const newPid = await pidOf(client, id);
    expect(newPid).not.toBe(pid);
    expect(qemuPids(id)).toEqual([newPid]);
    const ram = events.filter((e) => e.type === 'progress' && e.progress.op === op && e.progress.unit === 'bytes');
    expect(ram.length).toBeGreaterThan(0);
    expect(ram.some((e) => e.type === 'progress' && e.progress.done > 1 * MiB && (e.progress.total ?? 0) >= e.progress.done)).toBe(true);
    expect(ram.some((e) => e.type === 'progress' && /downtime \d+ ms/.test(e.progress.label))).toBe(true);
    // The same shell, with the same files: the terminal followed the VM to its new QEMU.
    expect(await term.run('cat /tmp/marker')).toBe('marker-one');
    expect(await term.run('echo after-migration')).toBe('after-migration');
    // The serial log is the VM's, across QEMUs.
    expect(readFileSync(String((await client.call('workloads.inspect', { id })).runtime.serial_log), 'utf8')).toContain('after-migration');
  });

  it('refuses a migration target it cannot parse, and a failed migration leaves the source running', async () => {
    await expect(client.call('workloads.migrate', { id, to: 'somewhere' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'to' });
    const port = await freePort(); // nobody listens
    await expect(client.call('workloads.migrate', { id, to: `tcp:127.0.0.1:${port}` })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('keeps running here') });
    expect((await client.call('workloads.inspect', { id })).info.state).toBe('running');
    expect(await term.run('echo still-here')).toBe('still-here');
  });

  it('cancels a live migration on request, and the VM runs on where it was', async () => {
    // RAM that does not compress (random bytes) to a peer that never reads: the stream stalls until cancelled.
    await client.call('workloads.scale', { id, memoryMB: 128 }); // the balloon gives the guest its memory back
    await until('the balloon to inflate the guest', () => client.call('workloads.stats', { id }), (x) => x.memoryLimitBytes === 128 * MiB, 20_000);
    expect(await term.run('dd if=/dev/urandom of=/tmp/ballast bs=1M count=20 2>/dev/null; echo filled', 60_000)).toBe('filled');
    const peers: Socket[] = [];
    const sink = createServer((s) => {
      s.pause();
      peers.push(s);
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    const port = (sink.address() as { port: number }).port;
    try {
      const op = `cancel-${Date.now()}`;
      const migrating = client.call('workloads.migrate', { id, to: `tcp:127.0.0.1:${port}` }, { op });
      await until('RAM to be on its way', () => events.some((e) => e.type === 'progress' && e.progress.op === op && e.progress.done > 0), Boolean, 20_000);
      expect(await client.call('operations.cancel', { op })).toEqual({ cancelled: true });
      await expect(migrating).rejects.toMatchObject({ code: 'CANCELLED', message: expect.stringContaining('keeps running here') });
      const d = await client.call('workloads.inspect', { id });
      expect(d.info.state).toBe('running');
      expect(d.runtime.qemu_status).toBe('running');
      expect(await term.run('rm /tmp/ballast; echo fine')).toBe('fine');
    } finally {
      for (const p of peers) p.destroy();
      sink.close();
    }
  });

  it('migrates to a QEMU another NovaCron prepared on tcp:HOST:PORT, then powers off through ACPI', async () => {
    const port = await freePort();
    const disk = (await client.call('workloads.inspect', { id })).config.disks as { path: string }[];
    const linux = tinyLinux();
    // The other NovaCron prepares a VM with the same devices on the same (shared) disk, waiting for the stream.
    const dest = await b.client.call('workloads.create', {
      driver: 'kvm',
      name: 'tiny-dest',
      memoryMB: 128,
      disks: [{ path: disk[0]!.path }],
      ...linux,
      accel: 'tcg',
      incoming: `tcp:127.0.0.1:${port}`,
    });
    cleanup.push(() => b.client.call('workloads.delete', { id: dest.id, force: true }));
    expect(dest.state).toBe('paused');
    expect((await b.client.call('workloads.inspect', { id: dest.id })).runtime.qemu_status).toBe('inmigrate');

    term.close();
    const src = await client.call('workloads.migrate', { id, to: `tcp:127.0.0.1:${port}` });
    expect(src.state).toBe('stopped');
    expect(src.exit?.reason).toBe(`migrated to tcp:127.0.0.1:${port}`);
    expect(qemuPids(id)).toEqual([]);

    await until('the destination to run', () => b.client.call('workloads.inspect', { id: dest.id }), (d) => d.info.state === 'running');
    const t2 = await openTerminal(b.client, dest.id);
    try {
      expect(await t2.run('cat /tmp/marker')).toBe('marker-one');
      // busybox acpid powers the guest off on the ACPI power button: a clean stop, well before the timeout.
      const t0 = Date.now();
      const stopped = await b.client.call('workloads.stop', { id: dest.id, timeoutSec: 30 });
      expect(stopped).toMatchObject({ state: 'stopped', exit: { reason: 'the guest powered off' } });
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(readFileSync(join(b.home, 'vms', dest.id.slice(4), 'serial.log'), 'utf8')).toContain(LINUX_POWEROFF);
    } finally {
      t2.close();
    }
  });
});
