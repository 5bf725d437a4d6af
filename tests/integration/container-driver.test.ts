import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import type { CoreEvent, LogLine, MetricsSample } from '../../shared/model.js';
import type { Core } from '../../electron/core/core.js';
import { busyboxTarball } from '../helpers/busybox.js';
import { openTestCore, until } from '../helpers/core.js';
import { busyboxImage, cleanupPrefix, docker, dockerWhy, tinyRegistry, uniquePrefix } from '../helpers/docker.js';
import { describeWith } from '../helpers/engines.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describeWith('dockerd', dockerWhy(), 'container driver, against the real dockerd', () => {
  const P = uniquePrefix('drv');
  const IMG = `${P}-img:1`;
  const d = docker();
  let client: NovaClient;
  let core: Core;
  let close: () => Promise<void>;
  let scratch: string;
  const events: CoreEvent[] = [];

  beforeAll(async () => {
    ({ client, core, close } = await openTestCore('nc-ct-'));
    scratch = mkdtempSync(join(tmpdir(), `${P}-`));
    await busyboxImage(d, IMG);
    core.events.subscribe((e) => events.push(e));
  });
  afterAll(async () => {
    await close();
    await cleanupPrefix(d, P);
    rmSync(scratch, { recursive: true, force: true });
  });

  const make = (name: string, extra: Record<string, unknown> = {}) =>
    client.call('workloads.create', { driver: 'container', name: `${P}-${name}`, image: IMG, cmd: 'sleep', args: ['300'], ...extra } as never);
  const engineView = (name: string) => d.getContainer(`${P}-${name}`).inspect();

  it('detects the engine with its version and API version', async () => {
    const info = (await client.call('drivers.list', { refresh: true })).find((x) => x.id === 'container')!;
    expect(info).toMatchObject({ available: true, name: 'Docker' });
    expect(info.version).toMatch(/^Docker \S+ \(API 1\.\d+\)$/);
    expect(info.details).toMatchObject({ host: 'unix:///var/run/docker.sock', api_version: expect.stringMatching(/^1\.\d+$/) });
    expect(info.capabilities.console).toMatchObject({ available: false, reason: expect.stringContaining('terminal') });
    for (const cap of ['create', 'pause', 'logs', 'terminal', 'metrics', 'snapshot', 'migrate', 'scale', 'limits', 'images'] as const) {
      expect(info.capabilities[cap].available, cap).toBe(true);
    }
  });

  it('imports a rootfs tarball and a docker save archive, lists and deletes them', async () => {
    const rootfs = await client.call('images.import', { driver: 'container', file: busyboxTarball(), name: `${P}-rootfs:1` });
    expect(rootfs.refs).toContain(`${P}-rootfs:1`);
    const archive = join(scratch, 'saved.tar');
    await pipeline((await d.getImage(IMG).get()), createWriteStream(archive));
    const loaded = await client.call('images.import', { driver: 'container', file: archive, name: `${P}-loaded:2` });
    expect(loaded.refs).toEqual(expect.arrayContaining([`${P}-loaded:2`]));
    const refs = (await client.call('images.list', { driver: 'container' })).flatMap((i) => i.refs);
    expect(refs).toEqual(expect.arrayContaining([`${P}-rootfs:1`, `${P}-loaded:2`]));

    await client.call('images.delete', { driver: 'container', ref: `${P}-rootfs:1` });
    await client.call('images.delete', { driver: 'container', ref: `${P}-loaded:2` });
    await expect(client.call('images.delete', { driver: 'container', ref: `${P}-loaded:2` })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('No such image') });
    await expect(client.call('images.import', { driver: 'container', file: archive, name: 'Not A/Ref' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(client.call('images.import', { driver: 'container', file: join(scratch, 'none.tar'), name: `${P}-x:1` })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'file' });
  });

  it('pulls from a registry with progress, on request and when a create needs an image', async () => {
    const reg = await tinyRegistry(`${P}/pulled`, 'v1');
    try {
      const ref = `${reg.host}/${P}/pulled:v1`;
      const mark = events.length;
      const img = await client.call('images.pull', { driver: 'container', ref });
      expect(img.refs).toContain(ref);
      expect(events.slice(mark)).toContainEqual(expect.objectContaining({ type: 'progress', progress: expect.objectContaining({ label: expect.stringContaining('pulling'), unit: 'bytes' }) }));
      await client.call('images.delete', { driver: 'container', ref });
      // A create whose image is not here pulls it first.
      const w = await make('pulled', { image: ref });
      expect(w.summary).toContain(ref);
      await client.call('workloads.delete', { id: w.id });
      await client.call('images.delete', { driver: 'container', ref });
      await expect(client.call('images.pull', { driver: 'container', ref: `${reg.host}/${P}/absent:v1` })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('manifest unknown') });
      await expect(client.call('images.pull', { driver: 'container', ref: 'NOT/valid ref' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'ref' });
    } finally {
      await reg.close();
    }
  });

  it("answers a create with the row a read then shows: the image's defaults merged as the engine merges them", async () => {
    const cases: Record<string, Record<string, unknown>> = {
      dflt: { cmd: undefined },
      args: { cmd: undefined, args: ['sleep', '300'] },
      ep: { cmd: undefined, entrypoint: ['sleep'], args: ['300'] },
      epcmd: { entrypoint: ['sh', '-c'], cmd: 'sleep 300' },
      cleared: { entrypoint: [], cmd: 'sleep', args: ['300'], memoryMB: 32, cpus: 0.25 },
    };
    for (const [name, extra] of Object.entries(cases)) {
      const w = await make(name, extra);
      const read = (await client.call('workloads.inspect', { id: w.id })).info;
      // The created time is the engine's: the create answers without it rather than guess it.
      expect(read, name).toEqual({ ...w, createdAt: expect.any(String) });
      await client.call('workloads.delete', { id: w.id });
    }
  });

  it("answers a create with the image's default command as it is now, after the tag moved to another image", async () => {
    const ref = `${P}-retag:1`;
    const base = await d.createContainer({ name: `${P}-retag-base`, Image: IMG, Cmd: ['true'] });
    const tagAs = (seconds: number) => base.commit({ repo: `${P}-retag`, tag: '1', changes: `CMD ["sleep","${seconds}"]` });
    // The engine's events arrive in order: once the marker's pause or resume is seen, so is every image event before it.
    const marker = await d.createContainer({ name: `${P}-retag-mark`, Image: IMG, Cmd: ['sleep', '60'] });
    const seen = (state: string) =>
      until(`the marker ${state}`, () => events.findLast((e) => e.type === 'workload' && e.info.name === `${P}-retag-mark`), (e) => e?.type === 'workload' && e.info.state === state);
    await marker.start();
    // Until the core's event stream is up (it starts with the core), an outside change may pass unseen: repeat one.
    let flips = 0;
    await until('the event stream', async () => (++flips % 2 ? marker.pause() : marker.unpause()).then(() => events.some((e) => e.type === 'workload' && e.info.name === `${P}-retag-mark`)), (v) => v);
    if (flips % 2) await marker.unpause();
    await seen('running');
    const first = (await tagAs(301)) as { Id: string };
    await marker.pause();
    await seen('paused');
    const made = [await make('rt1', { image: ref, cmd: undefined, args: undefined }), await make('rt2', { image: ref, cmd: undefined, args: undefined })];
    for (const w of made) expect(w.summary).toContain('sleep 301');
    await tagAs(302);
    await marker.unpause();
    await seen('running');
    const after = await make('rt3', { image: ref, cmd: undefined, args: undefined });
    expect(after.summary).toContain('sleep 302');
    expect((await client.call('workloads.inspect', { id: after.id })).info).toEqual({ ...after, createdAt: expect.any(String) });
    for (const w of [...made, after]) await client.call('workloads.delete', { id: w.id });
    await marker.remove({ force: true });
    await base.remove();
    // Retagged, the first image has no name left for the prefix cleanup to find it by.
    await d.getImage(first.Id).remove();
  });

  it('creates with every option, and the engine holds them; docker ps shows the same name', async () => {
    const port = await freePort();
    const w = await make('full', {
      cmd: 'sh',
      args: ['-c', 'sleep 300'],
      env: { GREETING: 'hello world' },
      workdir: '/tmp',
      mounts: [
        { type: 'bind', source: scratch, target: '/host', readOnly: true },
        { type: 'volume', source: `${P}-vol`, target: '/data' },
      ],
      ports: [{ host: port, container: 80 }],
      network: 'bridge',
      restart: { policy: 'on-failure', maxRetries: 3 },
      cpuShares: 512,
      cpus: 0.5,
      memoryMB: 64,
      labels: { team: 'infra' },
    });
    expect(w).toMatchObject({ driver: 'container', name: `${P}-full`, state: 'stopped', managed: true });
    expect(w.id).toMatch(/^container:[0-9a-f]{12}$/);
    expect(w.summary).toContain('64 MiB · 0.5 CPU · 512 shares');
    const c = await engineView('full');
    expect(c.Config.Cmd).toEqual(['sh', '-c', 'sleep 300']);
    expect(c.Config.Env).toContain('GREETING=hello world');
    expect(c.Config.WorkingDir).toBe('/tmp');
    expect(c.Config.Labels).toMatchObject({ team: 'infra', 'io.novacron.managed': 'true', 'io.novacron.id': w.id.slice(10) });
    expect(c.HostConfig.Mounts).toEqual([
      expect.objectContaining({ Type: 'bind', Source: scratch, Target: '/host', ReadOnly: true }),
      expect.objectContaining({ Type: 'volume', Source: `${P}-vol`, Target: '/data' }),
    ]);
    expect(c.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '', HostPort: String(port) }] });
    expect(c.HostConfig).toMatchObject({ NetworkMode: 'bridge', RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 }, CpuShares: 512, NanoCpus: 5e8, Memory: 64 * 1024 * 1024 });

    const detail = await client.call('workloads.inspect', { id: w.id });
    expect(detail.config).toMatchObject({ image: IMG, memoryMB: 64, cpus: 0.5, cpuShares: 512, restart: 'on-failure:3', network: 'bridge', ports: [`${port}->80/tcp`] });
    expect(detail.runtime).toMatchObject({ engine: 'unix:///var/run/docker.sock', container_id: c.Id });

    await client.call('workloads.start', { id: w.id });
    const running = await engineView('full');
    expect(running.NetworkSettings.Ports['80/tcp']?.[0]?.HostPort).toBe(String(port));
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('runs the lifecycle: start, pause, resume, stop with a timeout, kill, restart, delete with force', async () => {
    // A shell as PID 1 ignores SIGTERM: stop must wait its timeout, then kill.
    const w = await make('life', { cmd: 'sh', args: ['-c', 'while :; do sleep 1; done'] });
    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    expect((await engineView('life')).State.Running).toBe(true);
    // The engine's own refusals (304, 409), in the contract's words: the router reads nothing first.
    await expect(client.call('workloads.start', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT', message: `container: '${P}-life' is already running` });

    expect((await client.call('workloads.pause', { id: w.id })).state).toBe('paused');
    expect((await engineView('life')).State.Paused).toBe(true);
    await expect(client.call('workloads.pause', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already paused') });
    await expect(client.call('workloads.start', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('is already paused') });
    await expect(client.call('workloads.delete', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('is paused: stop it first') });
    expect((await engineView('life')).State.Paused).toBe(true);
    expect((await client.call('workloads.resume', { id: w.id })).state).toBe('running');

    await expect(client.call('workloads.delete', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('force') });

    let t0 = Date.now();
    const stopped = await client.call('workloads.stop', { id: w.id, timeoutSec: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(stopped).toMatchObject({ state: 'stopped', exit: { signal: 'SIGKILL' } });
    // Stopping what is stopped is not an error.
    expect((await client.call('workloads.stop', { id: w.id })).state).toBe('stopped');

    await client.call('workloads.start', { id: w.id });
    t0 = Date.now();
    expect((await client.call('workloads.stop', { id: w.id, force: true })).state).toBe('stopped');
    expect(Date.now() - t0).toBeLessThan(5000);

    await client.call('workloads.start', { id: w.id });
    await client.call('workloads.delete', { id: w.id, force: true });
    await expect(engineView('life')).rejects.toMatchObject({ statusCode: 404 });
    await expect(client.call('workloads.inspect', { id: w.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // This one ends on SIGTERM, so restart need not wait out the engine's timeout.
    const r = await make('restart', { cmd: 'sh', args: ['-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'], start: true });
    const before = (await engineView('restart')).State.StartedAt;
    expect((await client.call('workloads.restart', { id: r.id })).state).toBe('running');
    expect((await engineView('restart')).State.StartedAt).not.toBe(before);
    await client.call('workloads.delete', { id: r.id, force: true });
  });

  it('lists containers made outside NovaCron as unmanaged, and acts on them by their engine id', async () => {
    const outside = await d.createContainer({ name: `${P}-outside`, Image: IMG, Cmd: ['sleep', '300'] });
    const row = (await client.call('workloads.list', { driver: 'container' })).workloads.find((x) => x.name === `${P}-outside`);
    expect(row).toMatchObject({ id: `container:${outside.id.slice(0, 12)}`, managed: false, state: 'stopped' });
    expect((await client.call('workloads.start', { id: row!.id })).state).toBe('running');
    await client.call('workloads.delete', { id: row!.id, force: true });
  });

  it('follows logs: stdout and stderr apart, with the engine timestamps', async () => {
    const w = await make('talk', { cmd: 'sh', args: ['-c', 'echo out one; sleep 0.3; echo err one >&2; sleep 0.3; echo out two; sleep 300'], start: true });
    const lines: LogLine[] = [];
    const stop = client.subscribe('logs', { id: w.id, follow: true }, { event: (l) => lines.push(l) });
    await until('three lines', () => lines.length, (n) => n >= 3);
    stop();
    expect(lines.map(({ stream, line }) => ({ stream, line }))).toEqual([
      { stream: 'stdout', line: 'out one' },
      { stream: 'stderr', line: 'err one' },
      { stream: 'stdout', line: 'out two' },
    ]);
    expect(lines[0]!.ts).toMatch(/^\d{4}-\d\d-\d\dT/);
    // Without follow the stream ends by itself.
    const tail = await new Promise<LogLine[]>((resolve, reject) => {
      const got: LogLine[] = [];
      client.subscribe('logs', { id: w.id, tail: 1 }, { event: (l) => got.push(l), end: () => resolve(got), error: reject });
    });
    expect(tail.map((l) => l.line)).toEqual(['out two']);
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('opens a terminal: types echo hi, reads hi, resizes', async () => {
    const w = await make('tty', { start: true });
    let out = '';
    let session = '';
    let exited: number | undefined;
    const stop = client.subscribe('terminal', { id: w.id, cols: 80, rows: 24 }, {
      event: (e) => {
        if (e.type === 'ready') session = e.session!;
        if (e.type === 'data') out += e.data;
        if (e.type === 'exit') exited = e.code ?? -1;
      },
    });
    await until('session', () => session, (s) => s !== '');
    await client.call('terminal.input', { session, data: 'echo hi\n' });
    await until('hi', () => out, (o) => /\r?\nhi\r?\n/.test(o));
    await client.call('terminal.resize', { session, cols: 100, rows: 40 });
    // The resize reaches the engine asynchronously: ask until the shell sees it.
    await until(
      'size',
      async () => {
        await client.call('terminal.input', { session, data: 'stty size\n' });
        await new Promise((r) => setTimeout(r, 200));
        return out;
      },
      (o) => o.includes('40 100'),
    );
    await client.call('terminal.input', { session, data: 'exit 7\n' });
    await until('exit', () => exited, (c) => c !== undefined);
    expect(exited).toBe(7);
    stop();
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('streams live metrics from the cgroup files, CPU % as docker computes it, and scales a running container', async () => {
    // Capped well under a core: other suites share this machine's two cores.
    const w = await make('busy', { cmd: 'sh', args: ['-c', 'while :; do :; done'], cpus: 0.3, memoryMB: 64, start: true });
    const samples: MetricsSample[] = [];
    const stop = client.subscribe('metrics', { id: w.id }, { event: (s) => samples.push(...s) });
    await until('three samples', () => samples.length, (n) => n >= 3, 15_000);
    stop();
    const last = samples.at(-1)!;
    expect(last.source).toMatch(/^cgroup v[12]$/);
    // Busy, and held to its quota (30 % of a core); how busy depends on what else runs here.
    expect(last.cpuPercent).toBeGreaterThan(2);
    expect(last.cpuPercent).toBeLessThan(40);
    expect(last.memoryLimitBytes).toBe(64 * 1024 * 1024);
    expect(last.memoryBytes).toBeGreaterThan(0);
    expect(last.netRxBytes).toBeGreaterThanOrEqual(0);

    const scaled = await client.call('workloads.scale', { id: w.id, memoryMB: 128, cpus: 0.1 });
    expect(scaled.summary).toContain('128 MiB · 0.1 CPU');
    expect((await engineView('busy')).HostConfig).toMatchObject({ Memory: 128 * 1024 * 1024, NanoCpus: 1e8 });
    const once = await client.call('workloads.stats', { id: w.id });
    expect(once).toMatchObject({ source: expect.stringMatching(/^cgroup/), memoryLimitBytes: 128 * 1024 * 1024 });
    expect(once.cpuPercent).toBeGreaterThan(0);
    expect(once.cpuPercent).toBeLessThan(20);
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('pushes engine events: an OOM kill with a notice, a crash, a start from outside, a removal', async () => {
    const mark = events.length;
    const hog = await make('oom', { cmd: 'sh', args: ['-c', 'sleep 1; a=xxxxxxxx; while :; do a="$a$a"; done'], memoryMB: 8, start: true });
    // Every event about the hog, so a timeout says what did arrive (its states, the notices).
    const aboutHog = () => events.slice(mark).filter((e) => (e.type === 'workload' ? e.info.id : e.type === 'notice' ? e.workloadId : undefined) === hog.id);
    const seen = await until(
      'OOM crash event',
      () => aboutHog().map((e) => (e.type === 'workload' ? { state: e.info.state, exit: e.info.exit } : { notice: e.type === 'notice' ? e.message : '' })),
      (all) => all.some((e) => 'state' in e && e.state === 'crashed'),
      20_000,
    );
    expect(seen.find((e) => 'state' in e && e.state === 'crashed')).toMatchObject({ exit: { reason: 'killed: out of memory (OOM)' } });
    expect(events.slice(mark)).toContainEqual(expect.objectContaining({ type: 'notice', level: 'error', workloadId: hog.id, message: expect.stringContaining('ran out of memory') }));

    const quitter = await make('quit', { cmd: 'sh', args: ['-c', 'sleep 0.3; exit 3'], start: true });
    await until('exit 3 event', () => events.slice(mark).find((e) => e.type === 'workload' && e.info.id === quitter.id && e.info.state === 'crashed'), (e) => e !== undefined);
    expect((await client.call('workloads.inspect', { id: quitter.id })).info.exit).toMatchObject({ code: 3, reason: 'exited with status 3' });

    const other = await make('byhand');
    await d.getContainer(`${P}-byhand`).start();
    await until('running event', () => events.slice(mark).find((e) => e.type === 'workload' && e.info.id === other.id && e.info.state === 'running'), (e) => e !== undefined);
    await d.getContainer(`${P}-byhand`).remove({ force: true });
    await until('removed event', () => events.slice(mark).find((e) => e.type === 'workload-removed' && e.id === other.id), (e) => e !== undefined);
    for (const w of [hog, quitter]) await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('reads the engine events of its own operation once the operation has ended, in one inspect, not beside it', async () => {
    // A shell as PID 1 ignores SIGTERM: the stop sends it, waits 1 s and kills (events kill, kill, die, stop meanwhile).
    const w = await make('own', { cmd: 'sh', args: ['-c', 'while :; do sleep 1; done'], start: true });
    await until('its start seen', () => events.find((e) => e.type === 'workload' && e.info.id === w.id && e.info.state === 'running'), (e) => e !== undefined);
    await new Promise((r) => setTimeout(r, 300)); // the watcher's reads of the create and the start are done
    const from = events.length;
    const states = () => events.slice(from).flatMap((e) => (e.type === 'workload' && e.info.id === w.id ? [e.info.state] : []));
    const stopping = client.call('workloads.stop', { id: w.id, timeoutSec: 1 });
    await new Promise((r) => setTimeout(r, 700)); // SIGTERM sent, its kill event long in
    expect(states()).toEqual([]); // nothing read beside the stop
    await stopping;
    await new Promise((r) => setTimeout(r, 500));
    // The stop's answer, and at most one read of its four events, after it.
    expect(states().length).toBeGreaterThanOrEqual(1);
    expect(states().length).toBeLessThanOrEqual(2);
    expect(new Set(states())).toEqual(new Set(['stopped']));
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('refuses bad input before the engine sees it, and maps engine errors keeping their message', async () => {
    const bad = (extra: Record<string, unknown>) => make('bad', extra);
    await expect(bad({ image: 'Bad Image' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'image' });
    await expect(client.call('workloads.create', { driver: 'container', name: 'a/b', image: IMG } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(bad({ mounts: [{ type: 'bind', source: 'relative', target: '/x' }] })).rejects.toMatchObject({ field: 'mounts.0.source' });
    await expect(bad({ mounts: [{ type: 'volume', source: 'v', target: '/a/../b' }] })).rejects.toMatchObject({ field: 'mounts.0.target' });
    await expect(bad({ ports: [{ container: 70000 }] })).rejects.toMatchObject({ field: 'ports.0.container' });
    await expect(bad({ ports: [{ host: 8080, container: 80 }, { host: 8080, container: 81 }] })).rejects.toMatchObject({ field: 'ports.1.host' });
    await expect(bad({ labels: { 'io.novacron.id': 'x' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(bad({ memoryMB: 2 })).rejects.toMatchObject({ field: 'memoryMB' });
    await expect(bad({ restart: { policy: 'always', maxRetries: 2 } })).rejects.toMatchObject({ field: 'restart.maxRetries' });
    expect((await d.listContainers({ all: true, filters: { name: [`${P}-bad`] } })).length).toBe(0);

    const w = await make('dup');
    await expect(make('dup')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('is already in use') });
    await expect(client.call('workloads.pause', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('is not running') });
    await client.call('workloads.delete', { id: w.id });
    // No registry here: pulling a missing image fails with the engine's words.
    await expect(make('nopull', { image: 'localhost:1/nc-ct-none:1' })).rejects.toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|NOT_FOUND/), message: expect.stringContaining('localhost:1') });
    await expect(client.call('workloads.start', { id: 'container:nosuchcontainer' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('No such container') });
    await expect(client.call('workloads.inspect', { id: 'container:../../info' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'id' });
  });
});
