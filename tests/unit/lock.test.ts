import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../electron/core/base/lock.js';
import { tempHome } from '../helpers/home.js';

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('workload locks across processes', () => {
  const t = tempHome();
  afterAll(() => t.cleanup());

  it('gives a second taker CONFLICT naming the holder', async () => {
    const path = join(t.home, 'a.lock');
    const lock = await acquireLock(path, 'start by cli', "process workload 'web'");
    await expect(acquireLock(path, 'stop by desktop', "process workload 'web'")).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/process workload 'web' is busy: start by cli \(pid \d+/),
    });
    await lock.release();
    const again = await acquireLock(path, 'stop', 'x');
    await again.release();
  });

  it('takes over the lock of a holder killed with -9', async () => {
    const path = join(t.home, 'b.lock');
    // Another process takes the lock the same way the core does, then dies without releasing it.
    const child = spawn(process.execPath, ['-e', `require('fs').mkdirSync(${JSON.stringify(path)}); setInterval(() => {}, 1000)`], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    const st = (await import('node:fs')).readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const startTicks = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[19]);
    writeFileSync(join(path, 'owner.json'), JSON.stringify({ pid: child.pid, startTicks, op: 'create', since: 'now' }));
    await expect(acquireLock(path, 'x', 'y')).rejects.toMatchObject({ code: 'CONFLICT' });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = await acquireLock(path, 'x', 'y');
    await lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('leaves no ownerless lock when its taker is killed with -9 right after taking it', async () => {
    const path = join(t.home, 'e.lock');
    // The way the core takes a lock: one symlink whose target names the owner, so there is no moment without one.
    const take = `const f=require('fs');const st=f.readFileSync('/proc/self/stat','utf8');const ticks=st.slice(st.lastIndexOf(')')+2).split(' ')[19];f.symlinkSync(process.pid+':'+ticks+':'+Date.now()+':create',${JSON.stringify(path)});setInterval(()=>{},1000)`;
    const child = spawn(process.execPath, ['-e', take], { stdio: 'ignore' });
    await until(() => lstatSync(path, { throwIfNoEntry: false }) !== undefined);
    await expect(acquireLock(path, 'x', 'y')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/create \(pid \d+/) });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Taken over at once: the dead owner is known, nothing waits out a half-made lock.
    const started = Date.now();
    const lock = await acquireLock(path, 'x', 'y');
    expect(Date.now() - started).toBeLessThan(1_000);
    await lock.release();
    expect(lstatSync(path, { throwIfNoEntry: false })).toBeUndefined();
  });

  it('does not mistake a reused pid for the old holder', async () => {
    const path = join(t.home, 'c.lock');
    mkdirSync(path);
    // Our own pid, but another start time: the holder is gone, its pid merely reused.
    writeFileSync(join(path, 'owner.json'), JSON.stringify({ pid: process.pid, startTicks: 1, op: 'create', since: 'then' }));
    const lock = await acquireLock(path, 'x', 'y');
    await lock.release();
  });

  it('lets exactly one of many concurrent takers win', async () => {
    const path = join(t.home, 'd.lock');
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => acquireLock(path, 'op', 'w')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r).reason.code === 'CONFLICT')).toBe(true);
  });
});
