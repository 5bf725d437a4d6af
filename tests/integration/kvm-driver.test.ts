import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import { until } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { BOOT_BANNER, bootSectorWhy } from '../helpers/guests.js';
import { openTerminal } from '../helpers/terminal.js';
import { kvmSuiteCore, qemuPids, qemuWhy, sha256Of } from '../helpers/qemu.js';
import { VmStore } from '../../electron/core/drivers/kvm/store.js';
import { spawnQemu } from '../../electron/core/drivers/kvm/runtime.js';
import { withQmp } from '../../electron/core/drivers/kvm/qmp.js';

const why = qemuWhy() ?? bootSectorWhy();

describeWith('QEMU', why, 'kvm driver, against real QEMU (boot-sector guest)', () => {
  const { s: suite, make, pidOf, vmDir } = kvmSuiteCore('nc-kvm-');
  const { events } = suite;
  const sha = sha256Of;
  let client: NovaClient;
  let home: string;
  let image: string;
  let imageHash: string;
  beforeAll(() => void ({ client, home, image, imageHash } = suite));

  it('refuses bad input, naming the field, and leaves nothing behind', async () => {
    const bad = async (spec: Record<string, unknown>, field: string, msg: RegExp) => {
      await expect(client.call('workloads.create', { driver: 'kvm', name: 'ok', memoryMB: 32, disks: [{ base: image }], ...spec } as never)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        field,
        message: expect.stringMatching(msg),
      });
    };
    await bad({ name: '../evil' }, 'name', /must not contain/);
    await bad({ name: 'a\u0001b' }, 'name', /control characters/);
    await bad({ disks: [{ path: '/no/such/disk.img' }] }, 'disks.0.path', /does not exist/);
    await bad({ disks: [{ path: '/tmp' }] }, 'disks.0.path', /not a regular file/);
    await bad({ disks: [{ sizeGB: -1 }] }, 'disks.0.sizeGB', /positive/);
    await bad({ disks: [{ sizeGB: 60_000 }] }, 'disks.0.sizeGB', /do not fit/);
    await bad({ memoryMB: 10_000_000 }, 'memoryMB', /more than this host/);
    await bad({ cpus: 1000 }, 'cpus', /at most 255/);
    await bad({ cpus: 200 }, 'cpus', /more than this host/);
    await bad({ initrd: image }, 'initrd', /needs a kernel/);
    await bad({ kernel: '/no/kernel' }, 'kernel', /does not exist/);
    await bad({ machine: 'no-such-board' }, 'machine', /not a machine type/);
    await bad({ disks: [] }, 'disks', /give a disk, an ISO or a kernel/);
    await bad({ portForwards: [{ hostPort: 70000, guestPort: 22 }] }, 'portForwards.0.hostPort', /1…65535/);
    const left = existsSync(join(home, 'vms')) ? readdirSync(join(home, 'vms')).filter((n) => !n.startsWith('.')) : [];
    expect(left).toEqual([]);
  });

  it('runs the whole lifecycle on a linked clone, and the guest really runs, pauses, reboots and stops', async () => {
    const w = await make('bs-life');
    expect(w).toMatchObject({ driver: 'kvm', state: 'stopped', runtime: 'tcg', summary: '1 vCPU · 32 MiB · 1 disk' });
    expect(w.id).toMatch(/^kvm:[0-9a-f]{12}$/);
    const progress = events.filter((e) => e.type === 'progress' && /disk 1\/1: linked clone/.test(e.progress.label));
    expect(progress.length).toBeGreaterThan(0);

    const started = Date.now();
    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    const pid = await pidOf(w.id);
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe(`nc-${w.id.slice(4)}`);
    // The first pause after a start sends stop without asking the status first; a second pause is refused.
    expect((await client.call('workloads.pause', { id: w.id })).state).toBe('paused');
    await expect(client.call('workloads.pause', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await client.call('workloads.inspect', { id: w.id })).runtime.qemu_status).toBe('paused');
    expect((await client.call('workloads.resume', { id: w.id })).state).toBe('running');
    await expect(client.call('workloads.start', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT' });

    const term = await openTerminal(client, w.id);
    await term.expect(new RegExp(BOOT_BANNER));
    expect(Date.now() - started).toBeLessThan(10_000);
    const at = await term.send('ping-42');
    await term.expect(/ping-42/, 5_000, at);

    const d = await client.call('workloads.inspect', { id: w.id });
    expect(d.runtime).toMatchObject({ accel: 'tcg', qemu_status: 'running' });
    expect(String(d.runtime.vnc_socket)).toMatch(/vnc\.sock$/);

    expect((await client.call('workloads.pause', { id: w.id })).state).toBe('paused');
    expect((await client.call('workloads.inspect', { id: w.id })).runtime.qemu_status).toBe('paused');
    // A paused guest echoes nothing.
    const quiet = await term.send('zz');
    await new Promise((r) => setTimeout(r, 400));
    expect(term.output().slice(quiet)).not.toContain('zz');
    expect((await client.call('workloads.resume', { id: w.id })).state).toBe('running');
    await term.expect(/zz/, 5_000, quiet);

    const before = term.output().length;
    expect((await client.call('workloads.restart', { id: w.id })).state).toBe('running');
    await term.expect(new RegExp(BOOT_BANNER), 10_000, before);
    expect(await pidOf(w.id)).toBe(pid); // a reset, not a new QEMU

    const s = await client.call('workloads.stats', { id: w.id });
    expect(s.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(s.memoryLimitBytes).toBe(32 * 1024 * 1024);
    expect(s.diskReadBytes).toBeGreaterThan(0);

    // A live snapshot (with RAM); a second one of that name is QEMU's own refusal, and the guest runs on.
    expect(await client.call('snapshots.create', { id: w.id, name: 'warm' })).toMatchObject({ name: 'warm', kind: 'with RAM' });
    await expect(client.call('snapshots.create', { id: w.id, name: 'warm' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await client.call('workloads.inspect', { id: w.id })).runtime.qemu_status).toBe('running');
    await client.call('snapshots.delete', { id: w.id, name: 'warm' });

    // The boot sector ignores the ACPI button: the stop falls back to quit after the timeout.
    await expect(client.call('workloads.delete', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT' });
    const t0 = Date.now();
    expect((await client.call('workloads.stop', { id: w.id, timeoutSec: 1 })).state).toBe('stopped');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(events.some((e) => e.type === 'progress' && /did not power off within 1s/.test(e.progress.label))).toBe(true);
    await until('QEMU gone', () => existsSync(`/proc/${pid}`), (x) => !x);
    term.close();

    // Disk-only snapshots of the stopped VM.
    const snap = await client.call('snapshots.create', { id: w.id, name: 'cold' });
    expect(snap).toMatchObject({ name: 'cold', kind: 'disk only' });
    expect((await client.call('snapshots.list', { id: w.id })).map((x) => x.name)).toEqual(['cold']);
    await expect(client.call('snapshots.create', { id: w.id, name: 'cold' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await client.call('snapshots.revert', { id: w.id, name: 'cold' })).state).toBe('stopped');
    await client.call('snapshots.delete', { id: w.id, name: 'cold' });
    expect(await client.call('snapshots.list', { id: w.id })).toEqual([]);

    // Scaling a stopped VM changes what the next start gets.
    expect((await client.call('workloads.scale', { id: w.id, memoryMB: 48 })).summary).toContain('48 MiB');

    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    const pid2 = await pidOf(w.id);
    expect(pid2).not.toBe(pid);
    await expect(client.call('workloads.scale', { id: w.id, cpus: 2 })).rejects.toMatchObject({ code: expect.stringMatching(/NOT_SUPPORTED|INVALID_ARGUMENT/) });
    expect((await client.call('workloads.stop', { id: w.id, force: true })).state).toBe('stopped');
    // A stop ends once QEMU let go of the disk (its process exits a few ms later): qemu-img's check takes the image lock.
    execFileSync('qemu-img', ['check', '-q', join(vmDir(w.id), 'd0.qcow2')]);
    await until('QEMU gone', () => existsSync(`/proc/${pid2}`) && !readFileSync(`/proc/${pid2}/stat`, 'utf8').includes(') Z'), (x) => !x, 2_000);

    await client.call('workloads.delete', { id: w.id });
    expect(existsSync(vmDir(w.id))).toBe(false);
    expect(sha(image)).toBe(imageHash); // the base of the clone is untouched
    await expect(client.call('workloads.inspect', { id: w.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('picks kvm for auto where /dev/kvm works (and the config allows it), and the boot sector runs under it', async () => {
    const usable = (() => {
      try {
        accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
        return true;
      } catch {
        return false;
      }
    })();
    const w = await make('bs-auto', { accel: 'auto' });
    expect(w.runtime).toBe(usable ? 'kvm' : 'tcg');
    expect(String((await client.call('workloads.inspect', { id: w.id })).runtime.accel)).toMatch(usable ? /^kvm at next start \(auto: \/dev\/kvm is usable\)$/ : /^tcg at next start \(auto: /);
    if (usable) {
      expect((await client.call('workloads.start', { id: w.id })).runtime).toBe('kvm');
      setPriority(await pidOf(w.id), 15); // seconds of BIOS at full tilt: the other suites on these two cores go first
      const term = await openTerminal(client, w.id);
      await term.expect(new RegExp(BOOT_BANNER), 30_000); // BIOS code is slow on this nested KVM, but it runs
      term.close();
      await client.call('workloads.stop', { id: w.id, force: true });
    }
    await client.call('config.set', { values: { 'kvm.enable_kvm': false } });
    try {
      const d = await client.call('workloads.inspect', { id: w.id });
      expect(d.info.runtime).toBe('tcg');
      expect(d.runtime.accel).toBe('tcg at next start (auto: kvm.enable_kvm is false)');
    } finally {
      await client.call('config.set', { values: { 'kvm.enable_kvm': null } });
    }
  }, 60_000);

  it('attaches an ISO as a CD that is tried first, falling back to the disk', async () => {
    const w = await make('bs-cd', { iso: image });
    await client.call('workloads.start', { id: w.id });
    const term = await openTerminal(client, w.id);
    await term.expect(new RegExp(BOOT_BANNER), 15_000);
    term.close();
    const qmp = String((await client.call('workloads.inspect', { id: w.id })).runtime.qmp_socket);
    const blocks = await withQmp(qmp, (q) => q.execute<{ qdev: string; inserted?: { file: string; ro: boolean } }[]>('query-block'));
    expect(blocks.find((b) => b.qdev === 'cd0dev')?.inserted).toMatchObject({ file: image, ro: true });
    await client.call('workloads.stop', { id: w.id, force: true });
  });

  it('reports a QEMU killed with -9 as crashed within a second, keeping the VM', async () => {
    const w = await make('bs-crash');
    await client.call('workloads.start', { id: w.id });
    const pid = await pidOf(w.id);
    await until('the watcher knows it runs', () => events.some((e) => e.type === 'workload' && e.info.id === w.id && e.info.state === 'running'), Boolean);
    await new Promise((r) => setTimeout(r, 1200)); // the watcher has listed it at least once
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const crashed = await until(
      'a crashed event',
      () => events.find((e) => e.type === 'workload' && e.info.id === w.id && e.info.state === 'crashed'),
      Boolean,
      3_000,
    );
    expect(Date.now() - killedAt).toBeLessThan(1_000);
    expect(crashed).toBeDefined();
    const info = await until('the exit status', () => client.call('workloads.inspect', { id: w.id }), (d) => /SIGKILL/.test(d.info.exit?.reason ?? ''));
    expect(info.info).toMatchObject({ state: 'crashed', exit: { signal: 'SIGKILL' } });
    expect(events.some((e) => e.type === 'notice' && e.level === 'error' && e.message.includes("VM 'bs-crash' crashed"))).toBe(true);
    // Its definition stays: it starts again.
    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    await client.call('workloads.stop', { id: w.id, force: true });
  });

  it('says how a QEMU it spawned ended from the first look that finds it gone: the exit record is waited for', async () => {
    const w = await make('bs-first-look');
    await client.call('workloads.start', { id: w.id });
    const pid = await pidOf(w.id);
    await until('the watcher knows it runs', () => events.some((e) => e.type === 'workload' && e.info.id === w.id && e.info.state === 'running'), Boolean);
    await new Promise((r) => setTimeout(r, 1200)); // the watcher has listed it running at least once
    process.kill(pid, 'SIGKILL');
    // Asked back to back, no pause: the first answer that no longer says running comes as early as the death
    // can be seen (the monitor closed, the process a zombie), before or while this process writes its exit record.
    let first;
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
      first = (await client.call('workloads.inspect', { id: w.id })).info;
      if (first.state !== 'running') break;
    }
    expect(first).toMatchObject({ state: 'crashed', exit: { signal: 'SIGKILL', reason: 'QEMU was killed by SIGKILL' } });
    // The watcher's first word on it, the crash event and its notice, says so too.
    const crashed = await until('a crashed event', () => events.find((e) => e.type === 'workload' && e.info.id === w.id && e.info.state === 'crashed'), Boolean, 3_000);
    expect(crashed).toMatchObject({ info: { exit: { signal: 'SIGKILL' } } });
    const notice = await until('the crash notice', () => events.find((e) => e.type === 'notice' && e.message.includes("VM 'bs-first-look' crashed")), Boolean, 3_000);
    expect(notice).toMatchObject({ message: expect.stringContaining('SIGKILL') });
  });

  it('gives a crash notice for a QEMU killed before the watcher ever listed it running', async () => {
    const w = await make('bs-quick-crash');
    await client.call('workloads.start', { id: w.id });
    // At once: the watcher lists once a second, so its last listing most likely still has the VM stopped, or not at all.
    process.kill(await pidOf(w.id), 'SIGKILL');
    await until('the crash notice', () => events.some((e) => e.type === 'notice' && e.level === 'error' && e.message.includes("VM 'bs-quick-crash' crashed")), Boolean, 5_000);
  });

  it('finishes the hand-over of a local migration whose NovaCron died after QEMU completed it', async () => {
    // White-box: do what `migrate --to local` does up to the moment it would record the new QEMU, then "die".
    const w = await make('bs-handover');
    await client.call('workloads.start', { id: w.id });
    const local = w.id.slice(4);
    const store = new VmStore(join(home, 'vms'), join(home, 'run', 'kvm'));
    const def = (await store.definition(local))!;
    const run = await store.runState(local);
    const instance = run.instance! + 1;
    // Under the VM's lock, as the real migration holds it: watchers leave a migration in progress alone.
    const dest = await store.withLock(local, 'migrate by test', 'VM', async () => {
      await store.patchRunState(local, { migrating: { runDir: store.runDir(local, instance), instance, at: new Date().toISOString() } });
      const spawned = await spawnQemu(store, def, { binary: 'qemu-system-x86_64', accel: 'tcg', instance, incoming: 'unix:migrate.sock', skipForwards: true, signal: new AbortController().signal });
      await withQmp(join(run.runDir!, 'qmp.sock'), async (q) => {
        await q.execute('migrate', { uri: `unix:../${instance}/migrate.sock` });
        await until('the migration to complete', () => q.execute<{ status: string }>('query-migrate'), (m) => m.status === 'completed');
      });
      return spawned;
    });
    // The next look at the VM adopts the destination and ends the source.
    const d = await client.call('workloads.inspect', { id: w.id });
    expect(d.info.state).toBe('running');
    expect(d.runtime.pid).toBe(dest.pid);
    await until('the source to be gone', () => qemuPids(w.id), (p) => p.length === 1 && p[0] === dest.pid);
    expect((await store.runState(local)).migrating).toBeUndefined();
    await client.call('workloads.stop', { id: w.id, force: true });
  });

  it('adopts, by its pidfile, a QEMU whose NovaCron died before recording it', async () => {
    // White-box: what start() does up to the moment it would write the new pid, then "die".
    const w = await make('bs-orphan');
    const local = w.id.slice(4);
    const store = new VmStore(join(home, 'vms'), join(home, 'run', 'kvm'));
    const def = (await store.definition(local))!;
    const runDir = store.runDir(local, 1);
    await store.writeRunState(local, { instance: 0, spawning: { runDir, instance: 1, accel: 'tcg', at: new Date().toISOString() } });
    const q = await spawnQemu(store, def, { binary: 'qemu-system-x86_64', accel: 'tcg', instance: 1, signal: new AbortController().signal });
    const d = await client.call('workloads.inspect', { id: w.id });
    expect(d.info.state).toBe('running');
    expect(d.runtime.pid).toBe(q.pid);
    expect((await store.runState(local)).spawning).toBeUndefined();
    await expect(client.call('workloads.start', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(qemuPids(w.id)).toEqual([q.pid]);
    await client.call('workloads.stop', { id: w.id, force: true });
  });

  it("fails a start QEMU refuses with QEMU's own words and the VM's name", async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      const w = await make('bs-refused', { portForwards: [{ hostPort: port, guestPort: 22 }] });
      await expect(client.call('workloads.start', { id: w.id })).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringMatching(new RegExp(`VM 'bs-refused': QEMU refused to start.*host forwarding rule.*${port}`)),
      });
      expect((await client.call('workloads.inspect', { id: w.id })).info.state).toBe('stopped');
      expect(qemuPids(w.id)).toEqual([]);
    } finally {
      taken.close();
    }
  });

  it('creates and starts in one operation with start, and keeps no VM that cannot start', async () => {
    const w = await make('bs-oneshot', { start: true });
    expect(w).toMatchObject({ name: 'bs-oneshot', state: 'running' });
    expect(qemuPids(w.id)).toEqual([await pidOf(w.id)]);
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    const folders = () => readdirSync(join(home, 'vms')).filter((n) => !n.startsWith('.'));
    const before = folders();
    try {
      const spec = { driver: 'kvm', name: 'bs-nostart', memoryMB: 32, disks: [{ base: image }], accel: 'tcg', portForwards: [{ hostPort: port, guestPort: 22 }] };
      await expect(client.call('workloads.create', { ...spec, start: true } as never)).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringMatching(new RegExp(`VM 'bs-nostart': QEMU refused to start.*host forwarding rule.*${port}`)),
      });
      expect((await client.call('workloads.list', { driver: 'kvm' })).workloads.map((x) => x.name)).not.toContain('bs-nostart');
      expect(folders()).toEqual(before);
      // Its name is free again.
      const again = await make('bs-nostart', { portForwards: [{ hostPort: port, guestPort: 22 }] });
      expect(again.state).toBe('stopped');
    } finally {
      taken.close();
    }
  });
});
