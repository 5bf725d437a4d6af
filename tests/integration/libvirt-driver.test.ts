import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { NovaClient } from '../../shared/contract/client.js';
import type { CoreEvent, WorkloadInfo } from '../../shared/model.js';
import { libvirtInternals } from '../../electron/core/drivers/libvirt/index.js';
import { openTestCore, until } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { BOOT_BANNER, bootSectorImage, bootSectorWhy } from '../helpers/guests.js';
import { libvirtWhy, removeDomains, uniqueDomain, virsh } from '../helpers/libvirt.js';
import { openTerminal } from '../helpers/terminal.js';

const why = libvirtWhy() ?? bootSectorWhy();
vi.setConfig({ testTimeout: 60_000 });

/** The first binary message of a console WebSocket: the VNC server's RFB greeting when the proxy reached it. */
function rfbGreeting(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('message', (d: Buffer) => {
      resolve(d.toString('latin1'));
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
    ws.once('error', reject);
  });
}

describeWith('libvirt', why, 'libvirt driver, against the real libvirtd (boot-sector guest, TCG)', () => {
  let t: Awaited<ReturnType<typeof openTestCore>>;
  let client: NovaClient;
  let image: string;
  const prefix = uniqueDomain('bs');
  const events: CoreEvent[] = [];
  let stopEvents: () => void;
  const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

  beforeAll(async () => {
    t = await openTestCore('nc-lv-');
    client = t.client;
    image = bootSectorImage();
    stopEvents = client.subscribe('events', {}, { event: (e) => events.push(e) });
    await t.core.consoles.startStandalone('127.0.0.1', 0);
  });
  afterAll(async () => {
    stopEvents?.();
    removeDomains(prefix);
    await t?.close();
  });

  const make = (suffix: string, extra: Record<string, unknown> = {}): Promise<WorkloadInfo> =>
    client.call('workloads.create', { driver: 'libvirt', name: `${prefix}-${suffix}`, memoryMB: 32, disks: [{ base: image }], accel: 'tcg', ...extra } as never);
  const domainDirs = () => (existsSync(join(t.home, 'libvirt')) ? readdirSync(join(t.home, 'libvirt')).filter((n) => !n.startsWith('.')) : []);

  it('detects libvirt and its hypervisor, or says why it cannot use the connection', async () => {
    const lv = (await client.call('drivers.list', { refresh: true })).find((d) => d.id === 'libvirt')!;
    expect(lv).toMatchObject({ available: true, version: expect.stringMatching(/^libvirt \d+\.\d+\.\d+, QEMU \d+\.\d+/) });
    expect(lv.details).toMatchObject({ uri: 'qemu:///system', connection: 'local', hypervisor: expect.stringMatching(/^QEMU /) });
    expect(lv.capabilities.scale).toEqual({ available: false, reason: expect.stringContaining('setmem') });

    // A daemon that is not there: the matrix and the list say why, the list does not pretend to be empty.
    await client.call('config.set', { values: { 'libvirt.uri': 'qemu:///system?socket=/run/nc-no-such-libvirt-sock' } });
    try {
      const down = (await client.call('drivers.list', { refresh: true })).find((d) => d.id === 'libvirt')!;
      expect(down.available).toBe(false);
      expect(down.reason).toMatch(/^libvirtd is not running \(nothing listens at \/run\/nc-no-such-libvirt-sock\)/);
      const { errors } = await client.call('workloads.list', {});
      expect(errors).toContainEqual(expect.objectContaining({ driver: 'libvirt', code: 'UNAVAILABLE' }));
      await expect(client.call('workloads.list', { driver: 'libvirt' })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('libvirtd is not running') });

      // qemu:///session (for root, libvirt serves it from the system daemon).
      await client.call('config.set', { values: { 'libvirt.uri': 'qemu:///session' } });
      const session = (await client.call('drivers.list', { refresh: true })).find((d) => d.id === 'libvirt')!;
      expect(session).toMatchObject({ available: true, details: expect.objectContaining({ uri: 'qemu:///session', connection: 'local' }) });
    } finally {
      await client.call('config.set', { values: { 'libvirt.uri': null } });
    }
  });

  it('refuses bad input, naming the field, and leaves nothing behind', async () => {
    const bad = async (extra: Record<string, unknown>, field: string, msg: RegExp) => {
      await expect(make('bad', extra)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field, message: expect.stringMatching(msg) });
    };
    await bad({ name: '../evil' }, 'name', /must not contain/);
    await bad({ portForwards: [{ hostPort: 2222, guestPort: 22 }] }, 'portForwards', /passt/);
    await bad({ memoryMB: 10_000_000 }, 'memoryMB', /more than this host/);
    await bad({ cpus: 200 }, 'cpus', /more than this host/);
    await bad({ machine: 'no-such-board' }, 'machine', /not a machine type libvirt offers/);
    await bad({ disks: [{ path: '/no/such/disk.img' }] }, 'disks.0.path', /does not exist/);
    await bad({ disks: [{ sizeGB: 60_000 }] }, 'disks.0.sizeGB', /do not fit/);
    await bad({ disks: [] }, 'disks', /give a disk, an ISO or a kernel/);
    await bad({ initrd: image }, 'initrd', /needs a kernel/);
    await bad({ incoming: 'tcp:127.0.0.1:4444' }, 'incoming', /not a known field/);
    expect(domainDirs()).toEqual([]);
    expect(virsh(['list', '--all', '--name'])).not.toContain(`${prefix}-bad`);
  });

  it('defines a domain from the kvm form, starts it, and drives its whole lifecycle', async () => {
    const baseHash = sha(image);
    const w = await make('life');
    expect(w).toMatchObject({ driver: 'libvirt', name: `${prefix}-life`, state: 'stopped', managed: true, runtime: 'tcg', summary: '1 vCPU · 32 MiB · 1 disk' });
    const uuid = w.id.slice('libvirt:'.length);
    expect(virsh(['domuuid', `${prefix}-life`]).trim()).toBe(uuid);
    const xml = virsh(['dumpxml', uuid]);
    expect(xml).toMatch(/<domain type='qemu'/);
    expect(xml).toContain('https://novacron.dev/xmlns/libvirt/1');
    expect(xml).toContain(join(t.home, 'libvirt', uuid, 'd0.qcow2'));
    await expect(make('life')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already exists') });

    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    expect(virsh(['domstate', uuid]).trim()).toBe('running');
    await expect(client.call('workloads.start', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT' });

    // The serial console: the guest's banner, then it echoes what we type.
    const term = await openTerminal(client, w.id);
    await term.expect(new RegExp(BOOT_BANNER), 15_000);
    let at = await term.send('ping-42');
    await term.expect(/ping-42/, 5_000, at);

    expect((await client.call('workloads.pause', { id: w.id })).state).toBe('paused');
    expect(virsh(['domstate', uuid]).trim()).toBe('paused');
    const quiet = await term.send('zz');
    await new Promise((r) => setTimeout(r, 400));
    expect(term.output().slice(quiet)).not.toContain('zz');
    expect((await client.call('workloads.resume', { id: w.id })).state).toBe('running');
    await term.expect(/zz/, 5_000, quiet);

    // The VNC console through the core's proxy: the domain's unix socket, from domdisplay.
    expect(virsh(['domdisplay', uuid]).trim()).toBe(`vnc+unix://${join(t.home, 'libvirt', uuid, 'vnc.sock')}`);
    const ticket = await client.call('console.open', { id: w.id });
    expect(await rfbGreeting(ticket.url!)).toMatch(/^RFB 003\.008\n/);

    const s = await client.call('workloads.stats', { id: w.id });
    expect(s.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(s.memoryLimitBytes).toBe(32 * 1024 * 1024);
    expect(s.diskReadBytes).toBeGreaterThan(0);
    expect(s.source).toContain('domstats');

    // A snapshot with RAM, taken and reverted while it runs.
    const snap = await client.call('snapshots.create', { id: w.id, name: 'live' });
    expect(snap).toMatchObject({ name: 'live', kind: 'with RAM (running)' });
    expect(Date.parse(snap.createdAt!)).toBeGreaterThan(Date.now() - 60_000);
    await expect(client.call('snapshots.create', { id: w.id, name: 'live' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(virsh(['snapshot-list', uuid, '--name']).trim()).toBe('live');
    at = await term.send('after-snap');
    await term.expect(/after-snap/, 5_000, at);
    expect((await client.call('snapshots.revert', { id: w.id, name: 'live' })).state).toBe('running');
    at = await term.send('after-revert');
    await term.expect(/after-revert/, 5_000, at);

    expect((await client.call('workloads.restart', { id: w.id })).state).toBe('running');

    // The boot sector ignores the ACPI button: shutdown falls back to destroy after the timeout.
    const t0 = Date.now();
    expect((await client.call('workloads.stop', { id: w.id, timeoutSec: 1 })).state).toBe('stopped');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(events.some((e) => e.type === 'progress' && /did not power off within 1s: destroying it/.test(e.progress.label))).toBe(true);
    expect(virsh(['domstate', uuid]).trim()).toBe('shut off');
    term.close();

    // Disk-only snapshots while it is off.
    expect(await client.call('snapshots.create', { id: w.id, name: 'cold' })).toMatchObject({ name: 'cold', kind: 'disk only' });
    expect((await client.call('snapshots.list', { id: w.id })).map((x) => x.name).sort()).toEqual(['cold', 'live']);
    expect((await client.call('snapshots.revert', { id: w.id, name: 'cold' })).state).toBe('stopped');
    await client.call('snapshots.delete', { id: w.id, name: 'cold' });
    await expect(client.call('snapshots.delete', { id: w.id, name: 'cold' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await client.call('snapshots.list', { id: w.id })).map((x) => x.name)).toEqual(['live']);

    // The serial log is its stdout.
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const stop: () => void = client.subscribe('logs', { id: w.id, tail: 50 }, {
        event: (l) => {
          if (l.stream === 'stdout') lines.push(l.line);
        },
        end: () => {
          stop();
          resolve();
        },
        error: (e) => reject(new Error(e.message)),
      });
    });
    expect(lines).toContain(BOOT_BANNER);

    // Undefine only with force; then the domain, its snapshots' metadata and its folder are gone, the base image untouched.
    await expect(client.call('workloads.delete', { id: w.id })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'force' });
    expect(virsh(['domstate', uuid]).trim()).toBe('shut off');
    await client.call('workloads.delete', { id: w.id, force: true });
    expect(virsh(['list', '--all', '--uuid'])).not.toContain(uuid);
    expect(existsSync(join(t.home, 'libvirt', uuid))).toBe(false);
    expect(sha(image)).toBe(baseHash);
    await expect(client.call('workloads.inspect', { id: w.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('serves the metrics of every watched domain from one bulk domstats a second', async () => {
    const a = await make('m1');
    const b = await make('m2');
    await client.call('workloads.start', { id: a.id });
    await client.call('workloads.start', { id: b.id });
    const bulk = libvirtInternals(t.core.drivers.cached('libvirt')!)!.stats;
    const got = new Map<string, number>();
    const count = (id: string) => (s: unknown[]) => got.set(id, (got.get(id) ?? 0) + s.length);
    const before = bulk.reads;
    const stops = [client.subscribe('metrics', { id: a.id }, { event: count(a.id) }), client.subscribe('metrics', { id: b.id }, { event: count(b.id) })];
    await until('samples of both', () => [got.get(a.id) ?? 0, got.get(b.id) ?? 0], ([x, y]) => x! >= 2 && y! >= 2, 10_000);
    const started = Date.now();
    const at = bulk.reads;
    const samplesAt = (got.get(a.id) ?? 0) + (got.get(b.id) ?? 0);
    await new Promise((r) => setTimeout(r, 2_500));
    const seconds = (Date.now() - started) / 1000;
    const perSecond = (bulk.reads - at) / seconds;
    const samplesPerSecond = ((got.get(a.id) ?? 0) + (got.get(b.id) ?? 0) - samplesAt) / seconds;
    for (const s of stops) s();
    // Two watched domains, a sample of each a second, from one domstats a second for both (a call per domain would be two).
    expect(samplesPerSecond).toBeGreaterThan(1.2);
    expect(perSecond).toBeGreaterThan(0.5);
    expect(perSecond).toBeLessThan(1.5);
    expect(perSecond).toBeLessThan(samplesPerSecond * 0.75);
    expect(bulk.reads - before).toBeGreaterThan(0);
    for (const w of [a, b]) await client.call('workloads.delete', { id: w.id, force: true });
  });

  it("lists a domain defined by hand with virsh define, unmanaged, and drives it; changes made outside arrive as events", async () => {
    // What an admin has: a domain made with virsh, disk in its own folder, VNC on 127.0.0.1 (virt-manager's default).
    const dir = mkdtempSync(join(tmpdir(), 'nc-lv-hand-'));
    chmodSync(dir, 0o755); // QEMU runs as libvirt's own user for this one
    const disk = join(dir, 'hand.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'raw', disk]);
    const name = `${prefix}-hand`;
    writeFileSync(
      join(dir, 'hand.xml'),
      `<domain type='qemu'><name>${name}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>
        <os><type arch='x86_64' machine='pc'>hvm</type></os>
        <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
        <serial type='pty'/><console type='pty'/><graphics type='vnc' autoport='yes' listen='127.0.0.1'/></devices></domain>`,
    );
    try {
      const since = events.length;
      virsh(['define', join(dir, 'hand.xml')]);
      const uuid = virsh(['domuuid', name]).trim();
      const id = `libvirt:${uuid}`;
      const { workloads } = await client.call('workloads.list', {});
      expect(workloads.find((w) => w.id === id)).toMatchObject({ name, state: 'stopped', managed: false, runtime: 'tcg', summary: '1 vCPU · 32 MiB · 1 disk' });
      await until('the define as an event', () => events.slice(since).some((e) => e.type === 'workload' && e.info.id === id), Boolean, 5_000);

      // Started behind NovaCron's back: pushed by libvirt's event stream, not polled.
      virsh(['start', name]);
      const t0 = Date.now();
      await until('a running event', () => events.slice(since).some((e) => e.type === 'workload' && e.info.id === id && e.info.state === 'running'), Boolean, 5_000);
      expect(Date.now() - t0).toBeLessThan(3_000);

      const ticket = await client.call('console.open', { id });
      expect(await rfbGreeting(ticket.url!)).toMatch(/^RFB 003\.008\n/);
      const term = await openTerminal(client, id);
      // No serial log to replay: the guest may still be in its BIOS, deaf to the line. Type until it echoes.
      await until('the guest to echo', async () => {
        await term.send('hand-typed');
        await new Promise((r) => setTimeout(r, 300));
        return term.output();
      }, (o) => o.includes('hand-typed'), 15_000);
      term.close();

      expect((await client.call('workloads.stop', { id, force: true })).state).toBe('stopped');
      await client.call('workloads.delete', { id, force: true });
      expect(virsh(['list', '--all', '--name'])).not.toContain(name);
      expect(existsSync(disk)).toBe(true); // an admin's disk is never deleted
      await until('a removed event', () => events.slice(since).some((e) => e.type === 'workload-removed' && e.id === id), Boolean, 5_000);
    } finally {
      removeDomains(name);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a QEMU that died under libvirt as crashed, with a notice', async () => {
    const w = await make('crash');
    await client.call('workloads.start', { id: w.id });
    const name = `${prefix}-crash`;
    await until('the watcher to know it runs', () => events.some((e) => e.type === 'workload' && e.info.id === w.id && e.info.state === 'running'), Boolean, 5_000);
    const pid = Number(readFileSync(`/run/libvirt/qemu/${name}.pid`, 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    const crashed = await until('a crashed event', () => events.find((e) => e.type === 'workload' && e.info.id === w.id && e.info.state === 'crashed'), Boolean, 5_000);
    expect(crashed).toMatchObject({ info: { exit: { reason: 'crashed' } } });
    expect(events.some((e) => e.type === 'notice' && e.level === 'error' && e.message.includes(`domain '${name}' crashed`))).toBe(true);
    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    await client.call('workloads.delete', { id: w.id, force: true });
  });
});
