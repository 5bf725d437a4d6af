import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import { Core } from '../../electron/core/core.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { cli } from '../helpers/cli.js';
import { describeWith } from '../helpers/engines.js';
import { bootSectorImage, bootSectorWhy } from '../helpers/guests.js';
import { qemuWhy } from '../helpers/qemu.js';

/**
 * A data dir on a small tmpfs that fills up: creating a disk or a snapshot (and any
 * definition) fails with a clear error naming the cause, leaves no partial file behind,
 * and harms nothing already there: once space is back, the same operations work.
 */
function mountWhy(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = mkdtempSync(join(tmpdir(), 'nc-df-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok ? undefined : 'this machine does not let us mount a tmpfs';
}

const why = mountWhy() ?? qemuWhy() ?? bootSectorWhy();
const figures: string[] = [];
let mnt = '';
let home = '';
let env: NodeJS.ProcessEnv;
let core: Core;
let client: NovaClient;
const filler = () => join(mnt, 'filler');

/** What NovaCron keeps in the data dir, by path: its logs, event log and sockets aside (they are not made by the operation). */
function files(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      const rel = relative(home, p);
      if (rel === 'state' || rel === 'run' || rel.startsWith('vms/.locks') || rel.startsWith('processes/.locks')) continue;
      out.push(rel);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(home);
  return out.sort();
}

/** Fill the tmpfs until only `leave` bytes are free. */
function fill(leave: number): void {
  rmSync(filler(), { force: true });
  const st = statfsSync(mnt);
  let want = st.bavail * st.bsize - leave;
  const fd = openSync(filler(), 'w');
  const chunk = Buffer.alloc(1024 * 1024, 1);
  try {
    while (want > 0) {
      const n = Math.min(want, chunk.length);
      try {
        writeSync(fd, chunk, 0, n);
      } catch {
        break; // full already
      }
      want -= n;
    }
  } finally {
    closeSync(fd);
  }
}

/** The operation fails with this code and a message saying why, and the data dir holds the same files as before. */
async function failsCleanly(what: string, op: () => Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const before = files();
  const err = await op().then(
    () => undefined,
    (e: { code?: string; message: string }) => e,
  );
  expect(err, `${what} should fail`).toBeDefined();
  expect({ what, code: err!.code, message: err!.message }).toMatchObject({ what, code, message: expect.stringMatching(message) });
  expect(files(), `${what} left files behind`).toEqual(before);
  figures.push(`${what}: ${err!.code}: ${err!.message.slice(0, 140)}`);
}

describeWith('root, tmpfs and QEMU', why, 'disk full: a data dir on a small tmpfs', () => {
  let running = '';
  let stopped = '';

  beforeAll(async () => {
    mnt = mkdtempSync(join(tmpdir(), 'nc-df-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mnt]);
    home = join(mnt, 'home');
    mkdirSync(home);
    env = { ...process.env, NOVACRON_HOME: home, NOVACRON_CONFIG: join(home, 'config.yaml') };
    core = await Core.open({ env, role: 'test' });
    client = inprocClient(core.router, 'test');
    const base = bootSectorImage();
    running = (await client.call('workloads.create', { driver: 'kvm', name: 'df-run', memoryMB: 32, disks: [{ base }], accel: 'tcg' })).id;
    stopped = (await client.call('workloads.create', { driver: 'kvm', name: 'df-off', memoryMB: 32, disks: [{ base }], accel: 'tcg' })).id;
    await client.call('workloads.start', { id: running });
    // The process store's folders exist from the first workload on: make them now, so only what an operation adds is compared.
    await client.call('workloads.delete', { id: (await client.call('workloads.create', { driver: 'process', name: 'df-first', cmd: 'sleep', args: ['1'] })).id });
  });

  afterAll(async () => {
    for (const f of figures) console.log(`disk full figures: ${f}`);
    rmSync(filler(), { force: true });
    for (const id of [running, stopped]) if (id) await client.call('workloads.delete', { id, force: true }).catch(() => undefined);
    core?.dispose();
    if (mnt) {
      spawnSync('umount', ['-l', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  it('nearly full: a new disk, a linked clone and a snapshot with RAM fail with a clear error and leave nothing', async () => {
    fill(64 * 1024);
    const base = bootSectorImage();
    await failsCleanly('new 1 GiB disk', () => client.call('workloads.create', { driver: 'kvm', name: 'df-new', memoryMB: 32, disks: [{ sizeGB: 1 }] }), 'INVALID_ARGUMENT', /do not fit in the .* free/);
    await failsCleanly('linked clone', () => client.call('workloads.create', { driver: 'kvm', name: 'df-clone', memoryMB: 32, disks: [{ base }] }), 'UNAVAILABLE', /No space left on device|no space left/);
    await failsCleanly('snapshot with RAM', () => client.call('snapshots.create', { id: running, name: 'full' }), 'UNAVAILABLE', /No space left on device|no space left/);
    // The VM itself is unharmed: still running, no half snapshot listed, its image consistent.
    const w = (await client.call('workloads.list', { driver: 'kvm' })).workloads.find((x) => x.id === running);
    expect(w?.state).toBe('running');
    expect(await client.call('snapshots.list', { id: running })).toEqual([]);
    const disk = join(home, 'vms', running.slice(4), 'd0.qcow2');
    expect(spawnSync('qemu-img', ['check', '-U', disk]).status, 'qemu-img check').toBe(0);
  });

  it('full: a disk-only snapshot and any definition fail with a clear error (CLI too) and leave nothing', async () => {
    fill(0);
    await failsCleanly('disk-only snapshot', () => client.call('snapshots.create', { id: stopped, name: 'full' }), 'UNAVAILABLE', /No space left on device|no space left/);
    await failsCleanly('process workload', () => client.call('workloads.create', { driver: 'process', name: 'df-p', cmd: 'sleep', args: ['1'] }), 'UNAVAILABLE', /no space left on the device/);
    const before = files();
    const r = await cli(['create', '--driver', 'process', '--name', 'df-cli', '--cmd', 'sleep', '--arg', '1'], env);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^novacron: UNAVAILABLE: .*no space left on the device/m);
    expect(files()).toEqual(before);
    figures.push(`CLI create on a full disk: exit ${r.code}: ${r.stderr.trim().split('\n').at(-1)}`);
    expect(spawnSync('qemu-img', ['check', join(home, 'vms', stopped.slice(4), 'd0.qcow2')]).status, 'qemu-img check').toBe(0);
  });

  it('with space back, the same operations work: nothing was damaged', async () => {
    rmSync(filler(), { force: true });
    await client.call('snapshots.create', { id: running, name: 'after' });
    await client.call('snapshots.create', { id: stopped, name: 'after' });
    const p = await client.call('workloads.create', { driver: 'process', name: 'df-p', cmd: 'sleep', args: ['1'] });
    await client.call('workloads.delete', { id: p.id });
    expect((await client.call('snapshots.list', { id: running })).map((s) => s.name)).toEqual(['after']);
    expect(existsSync(join(home, 'vms', running.slice(4), 'definition.json'))).toBe(true);
  });
});
