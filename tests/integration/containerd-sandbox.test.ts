import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import { busyboxWhy } from '../helpers/busybox.js';
import { containerdWhy, ctr } from '../helpers/containerd.js';
import { BUSYBOX, execIn, logsOf, openContainerdCore } from '../helpers/containerd-core.js';
import { until } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { existsSync, readFileSync } from 'node:fs';

const runscWhy = () => (existsSync('/usr/bin/runsc') || existsSync('/usr/local/bin/runsc') ? undefined : 'runsc (gVisor) is not installed');

describeWith('containerd + gVisor', containerdWhy() ?? busyboxWhy() ?? runscWhy(), 'containerd snapshots and sandboxed runtimes', () => {
  let client: NovaClient;
  let ns: string;
  let close: () => void;
  beforeAll(async () => {
    ({ client, namespace: ns, close } = await openContainerdCore('sbx'));
  });
  afterAll(() => close());

  it('snapshots a rootfs to an image and reverts to it', async () => {
    const w = await client.call('workloads.create', { driver: 'containerd', name: 'keeper', image: BUSYBOX, cmd: 'sh', args: ['-c', 'while true; do sleep 1; done'] });
    await client.call('workloads.start', { id: w.id });
    await execIn(client, w.id, ['sh', '-c', 'echo before > /root/marker']);

    const snap = await client.call('snapshots.create', { id: w.id, name: 's1' });
    expect(snap).toMatchObject({ name: 's1' });
    expect(snap.sizeBytes).toBeGreaterThan(0);
    expect((await client.call('snapshots.list', { id: w.id })).map((s) => s.name)).toEqual(['s1']);
    // Nothing changed since: the same layer again, already unpacked (its commit says so), and its own image.
    expect(await client.call('snapshots.create', { id: w.id, name: 's0' })).toMatchObject({ name: 's0', sizeBytes: snap.sizeBytes });
    await client.call('snapshots.delete', { id: w.id, name: 's0' });
    // The snapshot is an image containerd knows, one layer more than busybox.
    expect(ctr(ns, ['images', 'ls', '-q'])).toContain('novacron-snapshot/keeper:s1');
    // The workload kept running while it was taken.
    expect((await client.call('workloads.inspect', { id: w.id })).info.state).toBe('running');

    await execIn(client, w.id, ['sh', '-c', 'rm /root/marker; echo later > /root/other']);
    expect((await execIn(client, w.id, ['cat', '/root/marker'])).code).not.toBe(0);

    const reverted = await client.call('snapshots.revert', { id: w.id, name: 's1' });
    expect(reverted.state).toBe('running');
    expect((await execIn(client, w.id, ['cat', '/root/marker'])).out.trim()).toBe('before');
    expect((await execIn(client, w.id, ['ls', '/root/other'])).code).not.toBe(0);
    expect((await client.call('workloads.inspect', { id: w.id })).runtime.snapshot).toBe('s1');

    // The snapshot it runs from cannot go; the workload takes its snapshots with it.
    await expect(client.call('snapshots.delete', { id: w.id, name: 's1' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await client.call('workloads.delete', { id: w.id, force: true });
    expect(ctr(ns, ['images', 'ls', '-q'])).not.toContain('novacron-snapshot/keeper');
  });

  it('runs a workload sandboxed by gVisor (runsc) through the same driver', async () => {
    const w = await client.call('workloads.create', {
      driver: 'containerd',
      name: 'sandboxed',
      image: BUSYBOX,
      runtime: 'runsc',
      cmd: 'sh',
      args: ['-c', 'uname -r; dmesg | head -n 1; while true; do sleep 1; done'],
      memoryMB: 128,
    });
    expect(w.runtime).toBe('runsc');
    await client.call('workloads.start', { id: w.id });
    // containerd records runc's shim with runsc as its runtime binary.
    const info = JSON.parse(ctr(ns, ['containers', 'info', 'sandboxed'])) as { Runtime: { Name: string; Options: { type_url: string; value: string } } };
    expect(info.Runtime.Name).toBe('io.containerd.runc.v2');
    expect(info.Runtime.Options.type_url).toBe('containerd.runc.v1.Options');
    expect(Buffer.from(info.Runtime.Options.value, 'base64').toString('latin1')).toMatch(/\/bin\/runsc$/);
    // On the host, the task's process is gVisor's sandbox, not busybox.
    const pid = Number((await client.call('workloads.inspect', { id: w.id })).runtime.pid);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toMatch(/runsc/);
    // gVisor's kernel says who it is: its own version and boot log, not the host's.
    const lines = await until('gVisor output', () => logsOf(client, w.id), (l) => l.length >= 2, 30_000);
    expect(lines[0]!.line).toBe('4.4.0');
    expect(lines[1]!.line).toMatch(/Starting gVisor/);
    const host = (await import('node:os')).release();
    expect((await execIn(client, w.id, ['uname', '-r'])).out.trim()).toBe('4.4.0');
    expect(host).not.toBe('4.4.0');

    // Its limits apply to the whole sandbox, and its metrics come through the same call.
    expect(await client.call('workloads.stats', { id: w.id })).toMatchObject({ memoryLimitBytes: 128 * 1024 * 1024, source: expect.stringMatching(/containerd/) });
    expect((await client.call('workloads.pause', { id: w.id })).state).toBe('paused');
    expect((await client.call('workloads.resume', { id: w.id })).state).toBe('running');
    expect((await client.call('workloads.stop', { id: w.id, timeoutSec: 2 })).state).toBe('stopped');
    await client.call('workloads.delete', { id: w.id });
  });
});
