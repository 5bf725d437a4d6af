import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import type { CoreEvent, MetricsSample } from '../../shared/model.js';
import { busyboxWhy } from '../helpers/busybox.js';
import { containerdWhy, ctr } from '../helpers/containerd.js';
import { BUSYBOX, execIn, logsOf, openContainerdCore } from '../helpers/containerd-core.js';
import { until } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';

describeWith('containerd', containerdWhy() ?? busyboxWhy(), 'containerd driver, against the real containerd', () => {
  let client: NovaClient;
  let ns: string;
  let close: () => void;
  let home: string;
  let shared: string;
  /** Everything the core's event stream says, from the start. */
  const events: CoreEvent[] = [];
  let stopEvents: () => void;
  beforeAll(async () => {
    ({ client, namespace: ns, close, home } = await openContainerdCore('cd'));
    stopEvents = client.subscribe('events', {}, { event: (e) => events.push(e) });
    shared = mkdtempSync(join(tmpdir(), 'nc-cd-mount-'));
    writeFileSync(join(shared, 'hello.txt'), 'from the host\n');
  });
  afterAll(() => {
    stopEvents();
    close();
    rmSync(shared, { recursive: true, force: true });
  });

  it('imports the image into its namespace, unpacked, as ctr sees it', async () => {
    const images = await client.call('images.list', { driver: 'containerd' });
    expect(images.map((i) => i.refs[0])).toContain(BUSYBOX);
    expect(ctr(ns, ['images', 'ls', '-q'])).toContain(BUSYBOX);
    expect(ctr(ns, ['images', 'check'])).toMatch(/complete/);
    // The layer is unpacked as a committed overlayfs snapshot named by its chain id.
    expect(ctr(ns, ['snapshots', 'ls'])).toMatch(/sha256:[0-9a-f]{64}\s+Committed/);
  });

  it('runs the whole lifecycle with limits, scaling, mounts, logs, metrics, exec and pause', async () => {
    const w = await client.call('workloads.create', {
      driver: 'containerd',
      name: 'web',
      image: BUSYBOX,
      cmd: '/bin/sh',
      args: ['-c', 'echo started $GREETING; echo oops >&2; cat /host/hello.txt; while true; do sleep 1; done'],
      env: { GREETING: 'hello' },
      mounts: [{ source: shared, target: '/host', readOnly: true }],
      memoryMB: 64,
      cpus: 0.5,
      labels: { team: 'infra' },
    });
    expect(w).toMatchObject({ id: 'containerd:web', name: 'web', state: 'stopped', managed: true, runtime: 'runc' });
    // containerd's id is the workload's name.
    expect(ctr(ns, ['containers', 'ls', '-q']).split('\n')).toContain('web');
    const info = JSON.parse(ctr(ns, ['containers', 'info', 'web'])) as { Labels: Record<string, string>; Spec: { linux: { resources: { memory: { limit: number } } } } };
    expect(info.Labels).toMatchObject({ team: 'infra', 'novacron.io/driver': 'containerd' });
    expect(info.Spec.linux.resources.memory.limit).toBe(64 * 1024 * 1024);

    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    await expect(client.call('workloads.start', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(ctr(ns, ['tasks', 'ls'])).toMatch(/web\s+\d+\s+RUNNING/);
    // The limits reached the container's cgroup (v1 on these hosts).
    const limit = readFileSync(`/sys/fs/cgroup/memory/${ns}/web/memory.limit_in_bytes`, 'utf8').trim();
    expect(Number(limit)).toBe(64 * 1024 * 1024);
    expect(readFileSync(`/sys/fs/cgroup/cpu/${ns}/web/cpu.cfs_quota_us`, 'utf8').trim()).toBe('50000');
    // Scaling changes the running task's cgroup and what the next start gets.
    await client.call('workloads.scale', { id: w.id, memoryMB: 96, cpus: 1 });
    expect(Number(readFileSync(`/sys/fs/cgroup/memory/${ns}/web/memory.limit_in_bytes`, 'utf8'))).toBe(96 * 1024 * 1024);
    expect(readFileSync(`/sys/fs/cgroup/cpu/${ns}/web/cpu.cfs_quota_us`, 'utf8').trim()).toBe('100000');
    expect((await client.call('workloads.inspect', { id: w.id })).config).toMatchObject({ memoryMB: 96, cpus: 1 });

    const lines = await until('logs', () => logsOf(client, w.id), (l) => l.length >= 3);
    expect(lines).toEqual(
      expect.arrayContaining([
        { stream: 'stdout', line: 'started hello' },
        { stream: 'stderr', line: 'oops' },
        { stream: 'stdout', line: 'from the host' },
      ]),
    );

    const hi = await execIn(client, w.id, ['echo', 'hi']);
    expect(hi.out.trim()).toBe('hi');
    expect(hi.code).toBe(0);
    const tty = await execIn(client, w.id, ['/bin/sh'], 'stty size; exit 7\n');
    expect(tty.out).toContain('30 100');
    expect(tty.code).toBe(7);

    const sample = await client.call('workloads.stats', { id: w.id });
    expect(sample.memoryBytes).toBeGreaterThan(0);
    expect(sample.memoryLimitBytes).toBe(96 * 1024 * 1024);
    expect(sample.source).toMatch(/containerd \(cgroup v[12]\)/);
    const streamed = await new Promise<MetricsSample[]>((resolve) => {
      const stop = client.subscribe('metrics', { id: w.id }, {
        event: (s) => {
          stop();
          resolve(s);
        },
      });
    });
    expect(streamed[0]!.cpuPercent).toBeGreaterThanOrEqual(0);

    expect((await client.call('workloads.pause', { id: w.id })).state).toBe('paused');
    expect(ctr(ns, ['tasks', 'ls'])).toMatch(/web\s+\d+\s+PAUSED/);
    // Pause and resume go straight to the engine; its refusal is read afresh and named.
    await expect(client.call('workloads.pause', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('is paused, not running') });
    expect((await client.call('workloads.resume', { id: w.id })).state).toBe('running');
    expect(ctr(ns, ['tasks', 'ls'])).toMatch(/web\s+\d+\s+RUNNING/);
    await expect(client.call('workloads.resume', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('is running, not paused') });

    await expect(client.call('workloads.delete', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT' });
    // sh as pid 1 ignores SIGTERM: the stop escalates to SIGKILL after the timeout.
    const t0 = Date.now();
    expect((await client.call('workloads.stop', { id: w.id, timeoutSec: 1 })).state).toBe('stopped');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(ctr(ns, ['tasks', 'ls'])).not.toMatch(/\bweb\b/);
    await expect(client.call('workloads.pause', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('is stopped, not running') });

    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    await client.call('workloads.delete', { id: w.id, force: true });
    expect(ctr(ns, ['containers', 'ls', '-q'])).not.toMatch(/\bweb\b/);
    expect(ctr(ns, ['snapshots', 'ls'])).not.toMatch(/^web\s/m);
    await expect(client.call('workloads.inspect', { id: w.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('puts back a task logger that is not ours before a start, and the output still lands', async () => {
    const w = await client.call('workloads.create', { driver: 'containerd', name: 'talker', image: BUSYBOX, cmd: 'sh', args: ['-c', 'echo said; while true; do sleep 1; done'] });
    await client.call('workloads.start', { id: w.id });
    const logger = execFileSync('find', [home, '-name', 'novacron-logger'], { encoding: 'utf8' }).trim();
    expect(readFileSync(logger, 'utf8')).toContain('Written by NovaCron');
    await client.call('workloads.stop', { id: w.id, force: true, timeoutSec: 0 });
    writeFileSync(logger, '#!/bin/sh\nexit 1\n');
    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    expect(readFileSync(logger, 'utf8')).toContain('Written by NovaCron');
    await until('both runs in the log', () => logsOf(client, w.id), (l) => l.filter((x) => x.line === 'said').length >= 2);
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it("reads its own operation's events once the operation has ended, not beside it", async () => {
    // 20 MB of noise in the rootfs: the snapshot's diff of it takes a while, with the task frozen.
    const w = await client.call('workloads.create', { driver: 'containerd', name: 'noisy', image: BUSYBOX, cmd: 'sh', args: ['-c', 'head -c 20000000 /dev/urandom > /noise; echo ready; while true; do sleep 1; done'] });
    await client.call('workloads.start', { id: w.id });
    await until('the noise written', () => logsOf(client, w.id), (l) => l.some((x) => x.line === 'ready'), 15_000);
    await new Promise((r) => setTimeout(r, 300)); // the watcher's reads of the create and the start are done
    const from = events.length;
    const states = () => events.slice(from).flatMap((e) => (e.type === 'workload' && e.info.id === w.id ? [e.info.state] : []));
    // Its /tasks/paused event comes as the diff begins: read then, the workload would show paused.
    await client.call('snapshots.create', { id: w.id, name: 'noise' });
    await new Promise((r) => setTimeout(r, 500));
    expect(states()).not.toContain('paused');
    // Its paused and resumed events are read after it, once; the router reads the row after a snapshot too.
    expect(states()).toEqual(['running', 'running']);
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('pushes task exits and OOM kills to the event stream as they happen', async () => {
    const w = await client.call('workloads.create', { driver: 'containerd', name: 'brief', image: BUSYBOX, cmd: 'sh', args: ['-c', 'sleep 1; exit 3'] });
    await client.call('workloads.start', { id: w.id });
    const exit = await until(
      'the exit event',
      () => events.find((e) => e.type === 'workload' && e.info.id === w.id && e.info.state === 'crashed'),
      (e) => e !== undefined,
      15_000,
    );
    expect(exit).toMatchObject({ info: { exit: { code: 3, reason: 'exited with status 3' } } });
    await client.call('workloads.delete', { id: w.id });

    // A task over its memory limit: containerd's OOM event becomes a notice, its death a crash.
    const hog = await client.call('workloads.create', { driver: 'containerd', name: 'hog', image: BUSYBOX, cmd: 'sh', args: ['-c', 'x=$(yes | head -c 200000000); echo survived'], memoryMB: 16 });
    await client.call('workloads.start', { id: hog.id });
    await until('the OOM notice', () => events.find((e) => e.type === 'notice' && e.workloadId === hog.id), (e) => e !== undefined, 20_000);
    const dead = await until('the OOM kill', () => events.find((e) => e.type === 'workload' && e.info.id === hog.id && e.info.state === 'crashed'), (e) => e !== undefined, 20_000);
    expect(dead).toMatchObject({ info: { exit: { signal: 'SIGKILL' } } });
    await client.call('workloads.delete', { id: hog.id });
  });
});
