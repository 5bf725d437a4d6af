import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import type { CoreEvent } from '../../shared/model.js';
import type { Core } from '../../electron/core/core.js';
import { cli } from '../helpers/cli.js';
import { openTestCore } from '../helpers/core.js';
import { busyboxImage, cleanupPrefix, docker, dockerWhy, secondEngine, shIn, uniquePrefix } from '../helpers/docker.js';
import { describeWith } from '../helpers/engines.js';

describeWith('dockerd', dockerWhy(), 'container snapshots and cold migration, against real engines', () => {
  const P = uniquePrefix('mig');
  const IMG = `${P}-img:1`;
  const d = docker();
  let client: NovaClient;
  let core: Core;
  let env: NodeJS.ProcessEnv;
  let close: () => Promise<void>;
  let other: Awaited<ReturnType<typeof secondEngine>>;
  const events: CoreEvent[] = [];

  beforeAll(async () => {
    ({ client, core, env, close } = await openTestCore('nc-ct-'));
    core.events.subscribe((e) => events.push(e));
    [other] = await Promise.all([secondEngine(P), busyboxImage(d, IMG)]);
  });
  afterAll(async () => {
    await close();
    await other?.stop();
    await cleanupPrefix(d, P);
  });

  const make = (name: string, extra: Record<string, unknown> = {}) =>
    client.call('workloads.create', { driver: 'container', name: `${P}-${name}`, image: IMG, cmd: 'sleep', args: ['300'], start: true, ...extra } as never);

  it('commits a snapshot, and reverting brings back the files with the same configuration', async () => {
    const w = await make('snap', { cmd: 'sh', args: ['-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'], env: { MODE: 'x' }, memoryMB: 32, mounts: [{ type: 'volume', source: `${P}-vol`, target: '/data' }], ports: [{ container: 80 }] });
    const name = `${P}-snap`;
    await shIn(d, name, 'echo before > /root/kept; echo vol > /data/v');
    const s = await client.call('snapshots.create', { id: w.id, name: 's1' });
    expect(s).toMatchObject({ name: 's1', kind: expect.stringContaining('commit') });
    await expect(client.call('snapshots.create', { id: w.id, name: 's1' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await client.call('snapshots.list', { id: w.id })).map((x) => x.name)).toEqual(['s1']);

    await shIn(d, name, 'rm /root/kept; echo after > /root/new');
    const beforeRevert = await d.getContainer(name).inspect();
    const back = await client.call('snapshots.revert', { id: w.id, name: 's1' });
    expect(back).toMatchObject({ id: w.id, name, state: 'running' });
    expect(back.summary).toContain(`${IMG} (snapshot s1)`);
    expect(await shIn(d, name, 'cat /root/kept; ls /root; cat /data/v')).toBe('before\nkept\nvol\n');

    const after = await d.getContainer(name).inspect();
    expect(after.Id).not.toBe(beforeRevert.Id);
    expect(after.Config.Env).toEqual(beforeRevert.Config.Env);
    expect(after.Config.Cmd).toEqual(beforeRevert.Config.Cmd);
    expect(after.HostConfig.Memory).toBe(32 * 1024 * 1024);
    expect(after.HostConfig.PortBindings).toEqual(beforeRevert.HostConfig.PortBindings);
    expect(after.Mounts.map((m) => m.Name)).toEqual([`${P}-vol`]);
    expect(after.Config.Labels['io.novacron.id']).toBe(w.id.slice(10));

    // The snapshot the container now runs from can still be deleted: only its tag goes.
    await client.call('snapshots.delete', { id: w.id, name: 's1' });
    expect(await client.call('snapshots.list', { id: w.id })).toEqual([]);
    await expect(client.call('snapshots.delete', { id: w.id, name: 's1' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.call('snapshots.revert', { id: w.id, name: 's1' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await client.call('workloads.inspect', { id: w.id })).info.state).toBe('running');
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('refuses a migration the target cannot take, and leaves the source untouched', async () => {
    const w = await make('bridged');
    const before = await d.getContainer(`${P}-bridged`).inspect();
    await expect(client.call('workloads.migrate', { id: w.id, to: other.address })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining("no network 'bridge'") });
    const now = await d.getContainer(`${P}-bridged`).inspect();
    expect(now).toMatchObject({ Id: before.Id, State: { Running: true, StartedAt: before.State.StartedAt } });
    await expect(client.call('workloads.migrate', { id: w.id, to: 'ftp://nowhere' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'to' });
    await expect(client.call('workloads.migrate', { id: w.id, to: 'unix:///var/run/docker.sock' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('migrates a running container to another engine with its files and config, then back through the CLI', async () => {
    const w = await make('mover', { network: 'none', env: { WHERE: 'moving' }, memoryMB: 32, cmd: 'sh', args: ['-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'] });
    const name = `${P}-mover`;
    await shIn(d, name, 'echo carried > /root/luggage');
    const mark = events.length;
    const moved = await client.call('workloads.migrate', { id: w.id, to: other.address });
    expect(moved).toMatchObject({ id: w.id, name, state: 'running' });
    expect(moved.summary).toContain(`on ${other.address}`);
    const copying = events.slice(mark).filter((e) => e.type === 'progress' && e.progress.unit === 'bytes');
    expect(copying.length).toBeGreaterThan(0);

    // Gone from the source, running on the target with what it had.
    await expect(d.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const there = await other.docker.getContainer(name).inspect();
    expect(there.State.Running).toBe(true);
    expect(there.Config.Env).toContain('WHERE=moving');
    expect(there.HostConfig).toMatchObject({ Memory: 32 * 1024 * 1024, NetworkMode: 'none' });
    expect(await shIn(other.docker, name, 'cat /root/luggage')).toBe('carried\n');

    // NovaCron still knows it by the same id: listed, inspected, stopped, started there.
    const row = (await client.call('workloads.list', { driver: 'container' })).workloads.find((x) => x.id === w.id);
    expect(row).toMatchObject({ name, state: 'running' });
    expect((await client.call('workloads.inspect', { id: w.id })).runtime.engine).toBe(other.address);
    expect((await client.call('workloads.stop', { id: w.id, timeoutSec: 5 })).state).toBe('exited');
    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    const stats = await client.call('workloads.stats', { id: w.id });
    expect(stats.source).toMatch(/cgroup|engine/);

    // Back home, through the CLI (another process reading the same data dir).
    const r = await cli(['migrate', w.id, '--to', 'unix:///var/run/docker.sock'], env, 120_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`${w.id} running`);
    await expect(other.docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect(await shIn(d, name, 'cat /root/luggage')).toBe('carried\n');
    expect((await client.call('workloads.inspect', { id: w.id })).runtime.engine).toBe('unix:///var/run/docker.sock');
    await client.call('workloads.delete', { id: w.id, force: true });
  });
});
