import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import type { CoreEvent, WorkloadInfo } from '../../shared/model.js';
import { openTestCore } from './core.js';
import { bootSectorImage } from './guests.js';

/** Why the kvm driver's tests cannot run here, or undefined. */
export function qemuWhy(): string | undefined {
  for (const bin of ['qemu-system-x86_64', 'qemu-img']) {
    try {
      execFileSync(bin, ['--version'], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed (Debian: qemu-system-x86, qemu-utils)`;
    }
  }
  return undefined;
}

/** Live QEMU processes of a VM: QEMU is named nc-<local id> (its comm) by the driver. */
export function qemuPids(id: string): number[] {
  const comm = `nc-${id.replace(/^kvm:/, '')}`;
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (name === comm && state !== 'Z') out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export const sha256Of = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/**
 * A kvm suite's core (its own data dir) and boot-sector VMs made in it, deleted after the
 * suite. Its fields are set in beforeAll; events collects every event the core sent.
 */
export function kvmSuiteCore(prefix: string) {
  const s = { client: undefined as unknown as NovaClient, home: '', image: '', imageHash: '', events: [] as CoreEvent[] };
  const created: string[] = [];
  let close = async () => {};
  let stopEvents = () => {};
  beforeAll(async () => {
    ({ client: s.client, home: s.home, close } = await openTestCore(prefix));
    s.image = bootSectorImage();
    s.imageHash = sha256Of(s.image);
    stopEvents = s.client.subscribe('events', {}, { event: (e) => s.events.push(e) });
  });
  afterAll(async () => {
    stopEvents();
    for (const id of created) await s.client.call('workloads.delete', { id, force: true }).catch(() => undefined);
    await close();
  });
  return {
    s,
    /** A linked clone of the boot sector (TCG, 32 MiB), deleted after the suite. */
    make: async (name: string, extra: Record<string, unknown> = {}): Promise<WorkloadInfo> => {
      const w = await s.client.call('workloads.create', { driver: 'kvm', name, memoryMB: 32, disks: [{ base: s.image }], accel: 'tcg', ...extra } as never);
      created.push(w.id);
      return w;
    },
    pidOf: async (id: string) => Number((await s.client.call('workloads.inspect', { id })).runtime.pid),
    vmDir: (id: string) => join(s.home, 'vms', id.slice(4)),
  };
}
