import { accessSync, constants, readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import { describeWith } from '../helpers/engines.js';
import { openTestCore } from '../helpers/core.js';

/** cgroup v1 memory and cpu controllers we may make child groups in (root on this kind of host). */
function cgroupV1Why(): string | undefined {
  try {
    readFileSync('/sys/fs/cgroup/cgroup.controllers');
    return 'this host runs cgroup v2 only; these tests cover the v1 layout';
  } catch {
    /* not v2-only */
  }
  for (const c of ['memory', 'cpu']) {
    try {
      accessSync(`/sys/fs/cgroup/${c}`, constants.W_OK);
    } catch {
      return `/sys/fs/cgroup/${c} is not writable (not root?)`;
    }
  }
  return undefined;
}

describeWith('writable cgroup v1 controllers', cgroupV1Why(), 'process limits through cgroups', () => {
  let client: NovaClient;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ client, close } = await openTestCore('nc-cg-'));
  });
  afterAll(() => close());

  it('puts the process in its own memory and cpu groups with the limits asked for', async () => {
    const w = await client.call('workloads.create', { driver: 'process', name: 'limited', cmd: process.execPath, args: ['-e', 'for(;;){}'], memoryMB: 128, cpuPercent: 25 });
    await client.call('workloads.start', { id: w.id });
    const local = w.id.slice('process:'.length);
    const pid = (await client.call('workloads.inspect', { id: w.id })).runtime.pid;
    expect(readFileSync(`/sys/fs/cgroup/memory/novacron/${local}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(128 * 1024 * 1024));
    expect(readFileSync(`/sys/fs/cgroup/memory/novacron/${local}/cgroup.procs`, 'utf8')).toContain(String(pid));
    expect(readFileSync(`/sys/fs/cgroup/cpu/novacron/${local}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('25000');
    // The quota is real: a busy loop is held near a quarter of a core.
    const s = await client.call('workloads.stats', { id: w.id });
    expect(s.cpuPercent).toBeLessThan(40);
    expect(s.memoryLimitBytes).toBe(128 * 1024 * 1024);

    // Scaling a running process changes its live limit.
    await client.call('workloads.scale', { id: w.id, memoryMB: 256 });
    expect(readFileSync(`/sys/fs/cgroup/memory/novacron/${local}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(256 * 1024 * 1024));
    await client.call('workloads.delete', { id: w.id, force: true });
  });
});
