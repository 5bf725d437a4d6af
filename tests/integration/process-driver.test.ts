import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import type { CoreEvent, WorkloadInfo } from '../../shared/model.js';
import { openTestCore, until } from '../helpers/core.js';
import type { Core } from '../../electron/core/core.js';

/** /proc's view of a pid: its state letter, or undefined when it is gone. */
const procState = (pid: number) => {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2)[0];
  } catch {
    return undefined;
  }
};

describe('process driver, against real processes', () => {
  let client: NovaClient;
  let core: Core;
  let home: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ client, core, home, close } = await openTestCore('nc-proc-'));
  });
  afterAll(() => close());

  const pidOf = async (id: string) => Number((await client.call('workloads.inspect', { id })).runtime.pid);

  it('runs the whole lifecycle, and the process really runs, stops and continues', async () => {
    const w = await client.call('workloads.create', { driver: 'process', name: 'sleeper', cmd: 'sleep', args: ['300'] });
    expect(w).toMatchObject({ driver: 'process', name: 'sleeper', state: 'stopped', summary: '/usr/bin/sleep 300' });
    expect(w.id).toMatch(/^process:[0-9a-f]{12}$/);

    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    const pid = await pidOf(w.id);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\u0000300\u0000'.replace(/^sleep/, '/usr/bin/sleep'));
    expect(['S', 'R']).toContain(procState(pid));

    await expect(client.call('workloads.start', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT' });

    expect((await client.call('workloads.pause', { id: w.id })).state).toBe('paused');
    expect(procState(pid)).toBe('T');
    expect((await client.call('workloads.resume', { id: w.id })).state).toBe('running');
    expect(procState(pid)).not.toBe('T');

    await expect(client.call('workloads.delete', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('delete with force') });

    expect((await client.call('workloads.stop', { id: w.id, timeoutSec: 5 })).state).toBe('stopped');
    await until('pid gone', () => procState(pid), (s) => s === undefined || s === 'Z');

    await client.call('workloads.delete', { id: w.id });
    expect(existsSync(join(home, 'processes', w.id.slice(8)))).toBe(false);
    await expect(client.call('workloads.inspect', { id: w.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('escalates to SIGKILL when SIGTERM is ignored, after the timeout', async () => {
    const w = await client.call('workloads.create', { driver: 'process', name: 'stubborn', cmd: process.execPath, args: ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"] });
    await client.call('workloads.start', { id: w.id });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    expect((await client.call('workloads.stop', { id: w.id, timeoutSec: 1 })).state).toBe('stopped');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    await client.call('workloads.delete', { id: w.id });
  });

  it('stops a paused process too (SIGTERM is delivered once it is continued)', async () => {
    const w = await client.call('workloads.create', { driver: 'process', name: 'frozen', cmd: 'sleep', args: ['300'] });
    await client.call('workloads.start', { id: w.id });
    await client.call('workloads.pause', { id: w.id });
    const t0 = Date.now();
    expect((await client.call('workloads.stop', { id: w.id, timeoutSec: 10 })).state).toBe('stopped');
    expect(Date.now() - t0).toBeLessThan(5000);
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('reports a process killed behind its back as crashed, with the signal, pushed as an event', async () => {
    const w = await client.call('workloads.create', { driver: 'process', name: 'victim', cmd: 'sleep', args: ['300'] });
    const seen: CoreEvent[] = [];
    const sub = core.events.subscribe((e) => seen.push(e));
    await client.call('workloads.start', { id: w.id });
    const pid = await pidOf(w.id);
    await new Promise((r) => setTimeout(r, 1200)); // the watcher has seen it running
    process.kill(pid, 'SIGKILL');
    const crashed = await until('crash event', () => seen.find((e): e is Extract<CoreEvent, { type: 'workload' }> => e.type === 'workload' && e.info.id === w.id && e.info.state === 'crashed'), (e) => e !== undefined, 5000);
    sub.dispose();
    expect(crashed!.info.exit).toMatchObject({ signal: 'SIGKILL', reason: 'killed by SIGKILL' });
    await client.call('workloads.delete', { id: w.id });
  });

  it('says how a process it started ended from the first look that finds it gone: the exit record is waited for', async () => {
    const w = await client.call('workloads.create', { driver: 'process', name: 'first-look', cmd: 'sleep', args: ['300'] });
    await client.call('workloads.start', { id: w.id });
    process.kill(await pidOf(w.id), 'SIGKILL');
    // Asked back to back: the first answer that no longer says running comes as early as the end can be seen
    // (a zombie, or reaped), before or while this process writes the exit record.
    let first: WorkloadInfo | undefined;
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
      first = (await client.call('workloads.inspect', { id: w.id })).info;
      if (first.state !== 'running') break;
    }
    expect(first).toMatchObject({ state: 'crashed', exit: { signal: 'SIGKILL', reason: 'killed by SIGKILL' } });
    await client.call('workloads.delete', { id: w.id });
  });

  it('shows a watched process that ends behind its back (no exit record: another NovaCron started it) within 2 s', async () => {
    const w = await client.call('workloads.create', { driver: 'process', name: 'foreign', cmd: 'sleep', args: ['300'] });
    // Started by "another NovaCron process": its run state names it, and nobody here learns its exit.
    const { spawn } = await import('node:child_process');
    const { writeFileSync } = await import('node:fs');
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const st = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const startTicks = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[19]);
    writeFileSync(join(home, 'processes', w.id.slice(8), 'state.json'), JSON.stringify({ pid: child.pid, startTicks }));
    // Watched the way the UI does: the events, and its metrics (whose /proc read the listing may take).
    const seen: { at: number; info: WorkloadInfo }[] = [];
    const sub = core.events.subscribe((e) => void (e.type === 'workload' && e.info.id === w.id && seen.push({ at: Date.now(), info: e.info })));
    const samples: number[] = [];
    const stop = client.subscribe('metrics', { id: w.id }, { event: (b) => void samples.push(...b.map((s) => s.ts)) });
    await until('the watcher sees it running', () => seen.at(-1)?.info.state ?? (samples.length ? 'running' : undefined), (s) => s === 'running', 5000);
    await new Promise((r) => setTimeout(r, 2500)); // several ticks of both, in whatever phase they run
    const killedAt = Date.now();
    child.kill('SIGKILL');
    const ended = await until('it shows as ended', () => seen.find((e) => e.at >= killedAt && e.info.state !== 'running'), (e) => e !== undefined, 5000);
    stop();
    sub.dispose();
    expect(ended!.info.state).toBe('exited');
    expect(ended!.at - killedAt).toBeLessThanOrEqual(2000);
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('never takes a reused pid for its own process', async () => {
    const w = await client.call('workloads.create', { driver: 'process', name: 'reused', cmd: 'sleep', args: ['1'] });
    const dir = join(home, 'processes', w.id.slice(8));
    // Claim that our workload runs as this very test process, but with another start time.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ pid: process.pid, startTicks: 1 }));
    const info = (await client.call('workloads.list', {})).workloads.find((x) => x.id === w.id)!;
    expect(info.state).not.toBe('running');
    await client.call('workloads.delete', { id: w.id });
  });

  it('captures stdout and stderr as logs, and follows them', async () => {
    const w = await client.call('workloads.create', {
      driver: 'process',
      name: 'talker',
      cmd: process.execPath,
      args: ['-e', "console.log('hello out'); console.error('hello err'); setTimeout(() => console.log('later'), 400); setTimeout(() => {}, 2000)"],
      env: { GREETING: 'x' },
    });
    await client.call('workloads.start', { id: w.id });
    const lines: { stream: string; line: string }[] = [];
    const stop = client.subscribe('logs', { id: w.id, follow: true }, { event: (l) => lines.push(l) });
    await until('three lines', () => lines, (l) => l.length >= 3);
    stop();
    expect(lines).toEqual(expect.arrayContaining([{ stream: 'stdout', line: 'hello out' }, { stream: 'stderr', line: 'hello err' }, { stream: 'stdout', line: 'later' }]));
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('measures CPU from /proc: a busy loop against an idle sleeper', async () => {
    // Relative, not absolute: on a shared 2-core machine a busy loop may get far less than a core.
    const busy = await client.call('workloads.create', { driver: 'process', name: 'burner', cmd: process.execPath, args: ['-e', 'for(;;){}'] });
    const idle = await client.call('workloads.create', { driver: 'process', name: 'idler', cmd: 'sleep', args: ['300'] });
    try {
      await client.call('workloads.start', { id: busy.id });
      await client.call('workloads.start', { id: idle.id });
      const [b, i] = await Promise.all([client.call('workloads.stats', { id: busy.id }), client.call('workloads.stats', { id: idle.id })]);
      expect(b.cpuPercent).toBeGreaterThan(10);
      expect(i.cpuPercent).toBeLessThan(b.cpuPercent / 5);
      expect(b.memoryBytes).toBeGreaterThan(1024 * 1024);
      expect(b.source).toBe('procfs');
      // The live stream: history first, then a sample a second; shared by watchers.
      const got: number[] = [];
      const stop = client.subscribe('metrics', { id: busy.id }, { event: (batch) => got.push(...batch.map((x) => x.cpuPercent)) });
      await until('two samples', () => got, (g) => g.length >= 2, 5000);
      stop();
      expect(Math.max(...got)).toBeGreaterThan(10);
    } finally {
      await client.call('workloads.delete', { id: busy.id, force: true });
      await client.call('workloads.delete', { id: idle.id, force: true });
    }
  });

  it('lets exactly one of many concurrent starts win; the rest get CONFLICT; one process runs', async () => {
    const marker = `NC_RACE_${Date.now()}`;
    const w = await client.call('workloads.create', { driver: 'process', name: 'racer', cmd: 'sleep', args: ['300'], env: { NC_MARKER: marker } });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => client.call('workloads.start', { id: w.id })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('CONFLICT');
    const carriers = readdirSync('/proc').filter((p) => {
      try {
        return /^\d+$/.test(p) && readFileSync(`/proc/${p}/environ`, 'utf8').split('\u0000').includes(`NC_MARKER=${marker}`);
      } catch {
        return false;
      }
    });
    expect(carriers).toHaveLength(1);
    const pid = await pidOf(w.id);
    expect(carriers[0]).toBe(String(pid));
    await client.call('workloads.delete', { id: w.id, force: true });
    await until('gone', () => procState(pid), (s) => s === undefined || s === 'Z');
  });

  it('starts the program with a clean environment, not NovaCron\'s own', async () => {
    process.env.NOVACRON_SECRET_PROBE = 'leak';
    const w = await client.call('workloads.create', { driver: 'process', name: 'envcheck', cmd: 'sleep', args: ['30'], env: { MINE: '1' } });
    await client.call('workloads.start', { id: w.id });
    const env = readFileSync(`/proc/${await pidOf(w.id)}/environ`, 'utf8').split('\u0000');
    delete process.env.NOVACRON_SECRET_PROBE;
    expect(env).toContain('MINE=1');
    expect(env.some((e) => e.startsWith('NOVACRON_'))).toBe(false);
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('refuses bad input with INVALID_ARGUMENT naming the field, and writes nothing', async () => {
    const before = readdirSync(join(home, 'processes')).sort();
    const bad: [Record<string, unknown>, string][] = [
      [{ driver: 'process', name: '', cmd: 'sleep' }, 'name'],
      [{ driver: 'process', name: 'a/b', cmd: 'sleep' }, 'name'],
      [{ driver: 'process', name: '..', cmd: 'sleep' }, 'name'],
      [{ driver: 'process', name: 'ok' }, 'cmd'],
      [{ driver: 'process', name: 'ok', cmd: '/no/such/program' }, 'cmd'],
      [{ driver: 'process', name: 'ok', cmd: './relative' }, 'cmd'],
      [{ driver: 'process', name: 'ok', cmd: 'sleep', cwd: 'tmp' }, 'cwd'],
      [{ driver: 'process', name: 'ok', cmd: 'sleep', memoryMB: -5 }, 'memoryMB'],
    ];
    for (const [spec, field] of bad) {
      await expect(client.call('workloads.create', spec as never), JSON.stringify(spec)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field });
    }
    await expect(client.call('workloads.stop', { id: 'process:000000000000', timeoutSec: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'timeoutSec' });
    expect(readdirSync(join(home, 'processes')).sort()).toEqual(before);
  });

  it('refuses a second workload with the same name', async () => {
    const w = await client.call('workloads.create', { driver: 'process', name: 'twin', cmd: 'sleep', args: ['1'] });
    await expect(client.call('workloads.create', { driver: 'process', name: 'twin', cmd: 'sleep' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await client.call('workloads.delete', { id: w.id });
  });

  it('checks a create against its own driver’s schema, and lists every driver in matrix order', async () => {
    await expect(client.call('workloads.create', { driver: 'libvirt', name: 'vm1' } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'memoryMB', message: 'memoryMB: is required' });
    const drivers = await client.call('drivers.list', {});
    expect(drivers.map((d) => d.id)).toEqual(['kvm', 'container', 'containerd', 'kata-containers', 'process', 'libvirt']);
    const proc = drivers.find((d) => d.id === 'process')!;
    expect(proc.available).toBe(true);
    expect(proc.capabilities.pause.available).toBe(true);
    expect(proc.capabilities.console).toEqual({ available: false, reason: 'a plain process has no display' });
  });

  it('lists every workload with its true state', async () => {
    const a: WorkloadInfo = await client.call('workloads.create', { driver: 'process', name: 'listed', cmd: 'sleep', args: ['300'] });
    await client.call('workloads.start', { id: a.id });
    const { workloads, errors } = await client.call('workloads.list', {});
    expect(errors).toEqual([]);
    expect(workloads.find((w) => w.id === a.id)?.state).toBe('running');
    await client.call('workloads.delete', { id: a.id, force: true });
  });
});
