import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../electron/core/base/lock.js';
import { tempHome } from '../helpers/home.js';

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
