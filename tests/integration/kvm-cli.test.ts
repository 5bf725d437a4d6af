import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { BIN, cli } from '../helpers/cli.js';
import { until } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { BOOT_BANNER, bootSectorImage, bootSectorWhy } from '../helpers/guests.js';
import { tempHome } from '../helpers/home.js';
import { qemuPids, qemuWhy } from '../helpers/qemu.js';

const why = qemuWhy() ?? bootSectorWhy();

/** SIGKILL a CLI process and wait for it; it may have finished on its own already. */
async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}
// Every step is a fresh node process; on two shared cores under the parallel suites that adds up.
vi.setConfig({ testTimeout: 120_000 });

describeWith('QEMU', why, 'kvm through the novacron CLI, each command its own process', () => {
  const t = tempHome('nc-kvc-');
  let image: string;
  let id = '';
  const json = async <T>(args: string[]) => {
    const r = await cli([...args, '--json'], t.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  const state = async () => (await json<{ info: { state: string }; runtime: Record<string, unknown> }>(['inspect', id]));

  beforeAll(() => {
    image = bootSectorImage();
  });
  afterAll(async () => {
    if (id) await cli(['rm', id, '--force'], t.env);
    for (const pid of id ? qemuPids(id) : []) process.kill(pid, 'SIGKILL');
    t.cleanup();
  });

  it('refuses bad flags with the field and exit code 2', async () => {
    const r = await cli(['create', '--driver', 'kvm', '--name', 'x', '--memory', '32', '--disk', '/no/such.img'], t.env);
    expect(r).toMatchObject({ code: 2, stderr: expect.stringContaining('INVALID_ARGUMENT: disks.0.path: /no/such.img does not exist') });
    const r2 = await cli(['create', '--driver', 'kvm', '--name', 'x', '--memory', '32', '--base', image, '--port-forward', 'web'], t.env);
    expect(r2).toMatchObject({ code: 2, stderr: expect.stringContaining('--port-forward') });
    const r3 = await cli(['create', '--driver', 'kvm', '--name', 'x', '--memory', '32', '--base', image, '--accel', 'fast'], t.env);
    expect(r3).toMatchObject({ code: 2, stderr: expect.stringContaining('accel: must be auto, kvm or tcg') });
    const help = await cli(['create', '--driver', 'kvm', '--help'], t.env);
    expect(help.stdout).toContain('--disk-size GB | --disk PATH | --base PATH');
  });

  let port = 0;
  it('creates and starts once, even when two processes race to start it', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const r = await cli(['create', '--driver', 'kvm', '--name', 'cli-vm', '--memory', '32', '--cpus', '1', '--base', image, '--accel', 'tcg', '--port-forward', `127.0.0.1:${port}:22`], t.env);
    expect(r.stderr).toBe('');
    id = r.stdout.trim();
    expect(id).toMatch(/^kvm:[0-9a-f]{12}$/);
    const [x, y] = await Promise.all([cli(['start', 'cli-vm'], t.env), cli(['start', 'cli-vm'], t.env)]);
    expect([x.code, y.code].sort()).toEqual([0, 6]);
    expect([x.stderr, y.stderr].join('')).toMatch(/CONFLICT: .*(already running|is busy)/);
    expect(qemuPids(id)).toHaveLength(1);
    const d = await state();
    expect(d.info.state).toBe('running');
    expect(d.runtime.accel).toBe('tcg');
    expect((await json<{ config: { portForwards: string[] } }>(['inspect', id])).config.portForwards).toEqual([`tcp:127.0.0.1:${port}→22`]);
  });

  it('creates and starts in one command with --start', async () => {
    const r = await cli(['create', '--driver', 'kvm', '--name', 'cli-oneshot', '--memory', '32', '--base', image, '--accel', 'tcg', '--network', 'none', '--start'], t.env);
    expect(r.stderr).toBe('');
    const one = r.stdout.trim();
    expect(qemuPids(one)).toHaveLength(1);
    expect((await json<{ info: { state: string } }>(['inspect', one])).info.state).toBe('running');
    expect((await cli(['rm', one, '--force'], t.env)).code).toBe(0);
    expect(qemuPids(one)).toEqual([]);
  });

  it('pauses, resumes, reboots, snapshots, reverts and migrates through the CLI', async () => {
    expect((await cli(['pause', id], t.env)).stdout).toContain('paused');
    expect((await cli(['ls'], t.env)).stdout).toMatch(/cli-vm\s+kvm\s+paused/);
    expect((await cli(['resume', id], t.env)).stdout).toContain('running');
    expect((await cli(['restart', id], t.env)).stdout).toContain('running');
    const s = await json<{ memoryBytes: number; diskReadBytes: number }>(['stats', id]);
    expect(s.memoryBytes).toBeGreaterThan(0);
    expect((await cli(['snapshot', id, '--name', 'live'], t.env)).stdout).toContain('snapshot live taken');
    const list = await json<{ name: string; kind: string; sizeBytes: number }[]>(['snapshots', id]);
    expect(list).toMatchObject([{ name: 'live', kind: 'with RAM' }]);
    expect((await cli(['revert', id, 'live'], t.env)).stdout).toContain('reverted to live (running)');
    expect((await cli(['snapshot-rm', id, 'live'], t.env)).stdout).toContain('deleted');
    const before = qemuPids(id);
    expect((await cli(['migrate', id, '--to', 'local'], t.env)).stdout).toContain('running');
    const after = qemuPids(id);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
    const logs = await cli(['logs', id, '--tail', '50'], t.env);
    expect(logs.stdout).toContain(BOOT_BANNER);
  });

  it('reconciles a local migration whose NovaCron was killed midway: one QEMU runs the VM', async () => {
    const child = spawn(process.execPath, [BIN, 'migrate', id, '--to', 'local'], { env: t.env, stdio: 'ignore' });
    await until('the destination QEMU', () => qemuPids(id).length, (n) => n >= 2, 15_000);
    await killHard(child);
    // Whichever side of the hand-over the kill landed on, the next process sorts it out.
    await until('one QEMU running the VM', async () => ({ state: (await state()).info.state, qemus: qemuPids(id).length }), (x) => x.state === 'running' && x.qemus === 1, 20_000);
    expect((await state()).runtime.pid).toBe(qemuPids(id)[0]);
    expect((await cli(['pause', id], t.env)).stdout).toContain('paused');
    expect((await cli(['resume', id], t.env)).stdout).toContain('running');
  });

  it('survives a kill -9 of the NovaCron process mid-operation: the VM runs on and the next process takes over', async () => {
    // The boot sector ignores the ACPI button, so this stop waits its whole timeout: kill it while it waits.
    const child = spawn(process.execPath, [BIN, 'stop', id, '--timeout', '60'], { env: t.env, stdio: 'ignore' });
    const lock = join(t.home, 'vms', '.locks', id.slice(4));
    await until('the stop to hold the VM lock', () => lstatSync(lock, { throwIfNoEntry: false }) !== undefined, Boolean, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    await killHard(child);
    expect(qemuPids(id)).toHaveLength(1);
    expect((await state()).info.state).toBe('running');
    // The dead process's lock is stale: the next operation takes it over.
    expect((await cli(['pause', id], t.env)).stdout).toContain('paused');
    expect((await cli(['resume', id], t.env)).stdout).toContain('running');
    expect((await cli(['stop', id, '--force'], t.env)).stdout).toContain('stopped');
    // A stop ends once QEMU let go of its disks and ports; its process is gone a few ms later.
    await until('QEMU gone', () => qemuPids(id), (p) => p.length === 0, 2_000);
  });

  it('leaves exactly one running QEMU when the NovaCron starting it is killed as QEMU comes up', async () => {
    const child = spawn(process.execPath, [BIN, 'start', id], { env: t.env, stdio: 'ignore' });
    await until('QEMU to appear', () => qemuPids(id).length, (n) => n > 0, 10_000);
    await killHard(child);
    const d = await until('the VM to read as running', () => state(), (x) => x.info.state === 'running', 10_000);
    expect(d.runtime.pid).toBe(qemuPids(id)[0]);
    const again = await cli(['start', id], t.env);
    expect(again.code).toBe(6);
    expect(qemuPids(id)).toHaveLength(1);
    expect((await cli(['rm', id], t.env)).code).toBe(6);
    expect((await cli(['rm', id, '--force'], t.env)).stdout).toContain('deleted');
    expect(qemuPids(id)).toEqual([]);
    expect(existsSync(join(t.home, 'vms', id.slice(4)))).toBe(false);
    id = '';
  });
});
