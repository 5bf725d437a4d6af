import { existsSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import type { CoreEvent } from '../../shared/model.js';
import { cli } from '../helpers/cli.js';
import { openTestCore, until } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { BOOT_BANNER, bootSectorImage, bootSectorWhy, LINUX_BANNER, LINUX_POWEROFF, tinyLinux, tinyLinuxWhy } from '../helpers/guests.js';
import { libvirtWhy, removeDomains, startPeerDaemon, uniqueDomain, unshareWhy, virsh } from '../helpers/libvirt.js';
import { openTerminal, type TestTerminal } from '../helpers/terminal.js';

const why = libvirtWhy() ?? tinyLinuxWhy() ?? bootSectorWhy() ?? unshareWhy();
vi.setConfig({ testTimeout: 90_000 });

/** A TCG boot takes a whole core for seconds: the other suites on these two cores go first. */
const nice = (name: string) => {
  try {
    setPriority(Number(readFileSync(`/run/libvirt/qemu/${name}.pid`, 'utf8').trim()), 15);
  } catch {
    // not a local system domain: nothing to lower
  }
};

/**
 * One tiny Linux domain, defined with the CLI from the kvm form and booted once under
 * TCG: its serial shell, a snapshot with RAM, an ACPI reboot, a live migration to a
 * second libvirtd (cancelled once, then for real) where another NovaCron drives it over
 * qemu+tcp:// and powers it off through ACPI. Then a kvm VM converted to a domain and back.
 */
describeWith('libvirt', why, 'libvirt driver: a Linux guest (TCG), live migration, kvm conversions, the CLI', () => {
  let a: Awaited<ReturnType<typeof openTestCore>>;
  let b: Awaited<ReturnType<typeof openTestCore>>;
  let client: NovaClient;
  let peer: Awaited<ReturnType<typeof startPeerDaemon>> | undefined;
  const name = uniqueDomain('tiny');
  let id: string;
  let term: TestTerminal;
  const events: CoreEvent[] = [];
  let stopEvents: () => void;

  beforeAll(async () => {
    a = await openTestCore('nc-lvl-');
    b = await openTestCore('nc-lvr-');
    client = a.client;
    stopEvents = client.subscribe('events', {}, { event: (e) => events.push(e) });
    const linux = tinyLinux();
    const made = await cli(
      ['create', '--driver', 'libvirt', '--name', name, '--memory', '128', '--disk-size', '1', '--kernel', linux.kernel, '--initrd', linux.initrd, '--append', linux.append, '--accel', 'tcg'],
      a.env,
    );
    expect(made).toMatchObject({ code: 0, stderr: '' });
    id = made.stdout.trim();
    expect(id).toMatch(/^libvirt:[0-9a-f-]{36}$/);
    await client.call('workloads.start', { id });
    nice(name);
    term = await openTerminal(client, id);
    await term.expect(new RegExp(LINUX_BANNER), 60_000);
    await term.expect(/# /, 30_000);
  }, 120_000);

  afterAll(async () => {
    term?.close();
    stopEvents?.();
    removeDomains(name);
    await peer?.stop();
    await a?.close();
    await b?.close();
  });

  it('answers on its serial shell', async () => {
    expect(await term.run('uname -s')).toBe('Linux');
    const d = await client.call('workloads.inspect', { id });
    expect(d.config).toMatchObject({ type: 'qemu', memoryMB: 128, kernel: tinyLinux().kernel, append: 'console=ttyS0 quiet' });
  });

  it('takes a snapshot with RAM, and reverting brings the guest state back', async () => {
    await term.run('echo marker-one > /tmp/marker');
    const snap = await client.call('snapshots.create', { id, name: 'with-ram' });
    expect(snap.kind).toBe('with RAM (running)');
    await term.run('echo marker-two > /tmp/marker');
    expect((await client.call('snapshots.revert', { id, name: 'with-ram' })).state).toBe('running');
    // The terminal followed the domain to the QEMU libvirt restarted for the revert.
    expect(await term.run('cat /tmp/marker')).toBe('marker-one');
    await client.call('snapshots.delete', { id, name: 'with-ram' });
  });

  it('reboots through ACPI: the guest powers off and libvirt brings it back', async () => {
    const from = term.output().length;
    expect((await client.call('workloads.restart', { id })).state).toBe('running');
    await term.expect(new RegExp(LINUX_POWEROFF), 30_000, from);
    await term.expect(new RegExp(LINUX_BANNER), 60_000, from);
    await term.expect(/# /, 30_000, from);
    expect(await term.run('echo rebooted')).toBe('rebooted');
    await term.run('echo marker-one > /tmp/marker');
  });

  it('migrates live to another libvirtd with progress from domjobinfo; a cancelled one leaves it running here', async () => {
    peer = await startPeerDaemon();
    await expect(client.call('workloads.migrate', { id, to: 'tcp:127.0.0.1:4444' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'to' });
    // Local disks: libvirt calls that unsafe, and says so; nothing moved.
    await expect(client.call('workloads.migrate', { id, to: peer.uri })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/Unsafe migration.*libvirt\.shared_storage/) });
    expect(virsh(['domstate', name]).trim()).toBe('running');
    // Here both daemons see the same filesystem, so the disks are shared for real.
    await client.call('config.set', { values: { 'libvirt.shared_storage': true } });

    // Throttled to 1 MiB/s, so there is time to cancel it.
    virsh(['migrate-setspeed', name, '1']);
    const op = `cancel-${Date.now()}`;
    const cancelled = client.call('workloads.migrate', { id, to: peer.uri }, { op });
    await until('bytes on their way', () => events.some((e) => e.type === 'progress' && e.progress.op === op && e.progress.unit === 'bytes' && e.progress.done > 0), Boolean, 30_000);
    expect(await client.call('operations.cancel', { op })).toEqual({ cancelled: true });
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED', message: expect.stringContaining('keeps running here') });
    expect(virsh(['domstate', name]).trim()).toBe('running');
    expect(virsh(['list', '--all', '--name'], peer.uri)).not.toContain(name);
    expect(await term.run('echo still-here')).toBe('still-here');

    virsh(['migrate-setspeed', name, '32']);
    term.close();
    const op2 = `mig-${Date.now()}`;
    const moved = await client.call('workloads.migrate', { id, to: peer.uri }, { op: op2 });
    expect(moved).toMatchObject({ id, state: 'stopped', exit: { reason: `migrated to ${peer.uri}` } });
    const progress = events.filter((e) => e.type === 'progress' && e.progress.op === op2 && e.progress.unit === 'bytes' && e.progress.total !== undefined);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.some((e) => e.type === 'progress' && e.progress.done > 1024 * 1024 && e.progress.total! >= e.progress.done)).toBe(true);
    // Moved, not copied: defined over there, forgotten here.
    expect(virsh(['list', '--all', '--name'])).not.toContain(name);
    expect(virsh(['domstate', name], peer.uri).trim()).toBe('running');
    await until('the watcher to report it gone', () => events.some((e) => e.type === 'workload-removed' && e.id === id), Boolean, 5_000);
  });

  it('is driven over qemu+tcp:// by another NovaCron: its shell (virsh console), and a graceful ACPI power-off', async () => {
    expect(peer).toBeDefined();
    await b.client.call('config.set', { values: { 'libvirt.uri': peer!.uri } });
    const info = (await b.client.call('drivers.list', { refresh: true })).find((d) => d.id === 'libvirt')!;
    expect(info).toMatchObject({ available: true, details: expect.objectContaining({ connection: 'remote' }) });
    expect(info.capabilities.create).toEqual({ available: false, reason: expect.stringContaining('local connection only') });
    const there = (await b.client.call('workloads.list', { driver: 'libvirt' })).workloads.find((w) => w.name === name);
    expect(there).toMatchObject({ id, state: 'running', managed: true });

    // A unix-socket VNC server on another host is out of reach, and the error says so.
    await expect(b.client.call('console.open', { id })).rejects.toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringContaining('unix socket') });
    const t2 = await openTerminal(b.client, id);
    try {
      expect(await t2.run('cat /tmp/marker', 30_000)).toBe('marker-one');
      const t0 = Date.now();
      const stopped = await b.client.call('workloads.stop', { id, timeoutSec: 30 });
      expect(stopped).toMatchObject({ state: 'stopped', exit: { reason: 'shut down' } });
      expect(Date.now() - t0).toBeLessThan(20_000);
    } finally {
      t2.close();
    }
    expect(readFileSync(join(a.home, 'libvirt', id.slice('libvirt:'.length), 'serial.log'), 'utf8')).toContain(LINUX_POWEROFF);
    await b.client.call('workloads.delete', { id, force: true });
    expect(virsh(['list', '--all', '--name'], peer!.uri)).not.toContain(name);
  });

  it('turns a kvm VM into a libvirt domain and back (novacron convert), disks and all', async () => {
    const vm = await client.call('workloads.create', { driver: 'kvm', name: `${name}-conv`, memoryMB: 32, disks: [{ base: bootSectorImage() }], accel: 'tcg' });
    const kvmDir = join(a.home, 'vms', vm.id.slice(4));
    const r = await cli(['convert', vm.id, '--to', 'libvirt'], a.env);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const [lid, state] = r.stdout.trim().split(' ');
    expect(lid).toMatch(/^libvirt:[0-9a-f-]{36}$/);
    expect(state).toBe('stopped');
    const uuid = lid!.slice('libvirt:'.length);
    expect(existsSync(kvmDir)).toBe(false);
    await expect(client.call('workloads.inspect', { id: vm.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(existsSync(join(a.home, 'libvirt', uuid, 'd0.qcow2'))).toBe(true);
    expect(virsh(['dumpxml', uuid])).toMatch(/<domain type='qemu'/);

    await client.call('workloads.start', { id: lid! });
    let t3 = await openTerminal(client, lid!);
    await t3.expect(new RegExp(BOOT_BANNER), 15_000);
    t3.close();
    await expect(client.call('workloads.convert', { id: lid!, to: 'kvm' })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('shut it off') });
    await client.call('workloads.stop', { id: lid!, force: true });

    const back = await client.call('workloads.convert', { id: lid!, to: 'kvm', name: `${name}-back` });
    expect(back).toMatchObject({ driver: 'kvm', name: `${name}-back`, state: 'stopped', summary: '1 vCPU · 32 MiB · 1 disk' });
    expect(virsh(['list', '--all', '--uuid'])).not.toContain(uuid);
    expect(existsSync(join(a.home, 'libvirt', uuid))).toBe(false);
    await client.call('workloads.start', { id: back.id });
    t3 = await openTerminal(client, back.id);
    await t3.expect(new RegExp(BOOT_BANNER), 15_000);
    t3.close();
    await expect(client.call('workloads.convert', { id: back.id, to: 'container' })).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
    await client.call('workloads.delete', { id: back.id, force: true });
  });
});
