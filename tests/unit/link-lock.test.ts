import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLinkLock } from '../../electron/core/base/link-lock.js';
import { acquireLock } from '../../electron/core/base/lock.js';
import { tempHome } from '../helpers/home.js';

const startTicksOf = (pid: number) => {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[19]);
};

describe('link locks (one symlink per lock) across processes', () => {
  const t = tempHome();
  afterAll(() => t.cleanup());

  it('is a short symlink naming its owner, gone once released', async () => {
    const path = join(t.home, 'a.lock');
    const lock = await acquireLinkLock(path, 'pause by headless', "container workload 'web'");
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    // Under 60 bytes: kept inside the inode, no data block.
    expect(readlinkSync(path)).toMatch(new RegExp(`^${process.pid}:\\d+:pause by headless$`));
    expect(Buffer.byteLength(readlinkSync(path))).toBeLessThan(60);
    await expect(acquireLinkLock(path, 'stop by desktop', "container workload 'web'")).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/container workload 'web' is busy: pause by headless \(pid \d+, since \d{4}-/),
    });
    await lock.release();
    expect(existsSync(path)).toBe(false);
    const again = await acquireLinkLock(path, 'stop', 'x');
    await again.release();
  });

  it('takes over the lock of a holder killed with -9', async () => {
    const path = join(t.home, 'b.lock');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    symlinkSync(`${child.pid}:${startTicksOf(child.pid!)}:create by cli`, path);
    await expect(acquireLinkLock(path, 'x', 'y')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('create by cli') });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = await acquireLinkLock(path, 'x', 'y');
    expect(readlinkSync(path)).toContain(`${process.pid}:`);
    await lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('does not mistake a reused pid for the old holder', async () => {
    const path = join(t.home, 'c.lock');
    symlinkSync(`${process.pid}:1:create`, path);
    const lock = await acquireLinkLock(path, 'x', 'y');
    await lock.release();
  });

  it("honours an older NovaCron's lock directory, and the directory lock honours it", async () => {
    const path = join(t.home, 'd.lock');
    const dirLock = await acquireLock(path, 'start by cli', 'w');
    await expect(acquireLinkLock(path, 'stop', 'w')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('start by cli') });
    await dirLock.release();
    const link = await acquireLinkLock(path, 'stop', 'w');
    await expect(acquireLock(path, 'start', 'w')).rejects.toMatchObject({ code: 'CONFLICT' });
    await link.release();
    // A dead owner's directory is taken over like a dead owner's link.
    mkdirSync(path);
    writeFileSync(join(path, 'owner.json'), JSON.stringify({ pid: process.pid, startTicks: 1, op: 'create', since: 'then' }));
    const taken = await acquireLinkLock(path, 'x', 'y');
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    await taken.release();
  });

  it('lets exactly one of many concurrent takers win', async () => {
    const path = join(t.home, 'e.lock');
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => acquireLinkLock(path, 'op', 'w')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => r.reason.code === 'CONFLICT')).toBe(true);
  });
});
