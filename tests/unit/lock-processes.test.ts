import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../electron/core/base/lock.js';
import { tempHome } from '../helpers/home.js';

const startTicksOf = (pid: number) => {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[19]);
};

describe('locks (one symlink per lock) across processes', () => {
  const t = tempHome();
  afterAll(() => t.cleanup());

  it('is a short symlink naming its owner, gone once released', async () => {
    const path = join(t.home, 'a.lock');
    const lock = await acquireLock(path, 'pause by headless', "container workload 'web'");
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    // Under 60 bytes: kept inside the inode, no data block.
    expect(readlinkSync(path)).toMatch(new RegExp(`^${process.pid}:\\d+:\\d+:pause by headless$`));
    expect(Buffer.byteLength(readlinkSync(path))).toBeLessThan(60);
    await expect(acquireLock(path, 'stop by desktop', "container workload 'web'")).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/container workload 'web' is busy: pause by headless \(pid \d+, since \d{4}-/),
    });
    await lock.release();
    expect(existsSync(path)).toBe(false);
    const again = await acquireLock(path, 'stop', 'x');
    await again.release();
  });

  it('takes over the lock of a holder killed with -9', async () => {
    const path = join(t.home, 'b.lock');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    symlinkSync(`${child.pid}:${startTicksOf(child.pid!)}:${Date.now()}:create by cli`, path);
    await expect(acquireLock(path, 'x', 'y')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('create by cli') });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = await acquireLock(path, 'x', 'y');
    expect(readlinkSync(path)).toContain(`${process.pid}:`);
    await lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('does not mistake a reused pid for the old holder', async () => {
    const path = join(t.home, 'c.lock');
    symlinkSync(`${process.pid}:1:${Date.now()}:create`, path);
    const lock = await acquireLock(path, 'x', 'y');
    await lock.release();
  });

  it("honours an older NovaCron's lock directory, and takes it over once its owner is gone", async () => {
    const path = join(t.home, 'd.lock');
    mkdirSync(path);
    const live = { pid: process.pid, startTicks: startTicksOf(process.pid), op: 'start by cli', since: new Date().toISOString() };
    writeFileSync(join(path, 'owner.json'), JSON.stringify(live));
    await expect(acquireLock(path, 'stop', 'w')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('start by cli') });
    // A dead owner's directory (same pid, another start) is taken over like a dead owner's link.
    writeFileSync(join(path, 'owner.json'), JSON.stringify({ ...live, startTicks: 1, op: 'create' }));
    const taken = await acquireLock(path, 'x', 'y');
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    await taken.release();
  });

  it('lets exactly one of many concurrent takers win', async () => {
    const path = join(t.home, 'e.lock');
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => acquireLock(path, 'op', 'w')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => r.reason.code === 'CONFLICT')).toBe(true);
  });
});
