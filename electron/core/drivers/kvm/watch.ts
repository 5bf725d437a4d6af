import type { WorkloadInfo } from '../../../../shared/model.js';
import type { Disposable } from '../../base/lifecycle.js';
import type { PinnedSet } from '../../base/pinned.js';
import { readPinnedStat, type PinnedStat } from '../../base/pinned-stat.js';
import type { WorkloadChange } from '../driver.js';
import { coalesced, emitListingChanges, type Listing } from '../common/listing-diff.js';

const FULL_MS = 1000;
const PID_MS = 200;

/** A QEMU as the VM's run state names it: the pid alone is no identity (the kernel reuses it). */
export interface QemuProcess {
  pid: number;
  startTicks: number;
}

const keyOf = (q: QemuProcess) => `${q.pid}:${q.startTicks}`;

/**
 * State changes of VMs, while someone watches: a full listing every second (state files
 * other NovaCron processes write, QEMU's run status), and between those a cheap check
 * of every live QEMU's /proc stat five times a second, so a QEMU that dies is reported
 * well within a second.
 *
 * Each QEMU's stat is read through `stats` (the driver's set, which its metrics read too):
 * opened once and re-read in place, bound to that very process, so a reused pid reads as
 * gone, never as the old QEMU. The watcher closes what it read once that QEMU leaves the
 * listing or the watch ends (metrics, if they still read one, open it again).
 */
export function watchVms(
  list: () => Promise<WorkloadInfo[]>,
  emit: (c: WorkloadChange) => void,
  qemuOf: (w: WorkloadInfo) => Promise<QemuProcess | undefined>,
  stats: PinnedSet<PinnedStat>,
): Disposable {
  let last: Listing | undefined;
  let qemus = new Map<string, QemuProcess>();
  let failing = false;
  let disposed = false;

  const tick = coalesced(async () => {
    try {
      const listed = await list();
      if (disposed) return;
      // A VM new since the last listing and already crashed was started and ended in between (a created VM lists as
      // stopped): that gets its notice too, as libvirt's watch gives one. Those crashed before the first listing do not.
      const now = emitListingChanges(last, listed, emit, (w, before) =>
        w.state === 'crashed' && before?.state !== 'crashed' ? `VM '${w.name}' crashed: ${w.exit?.reason ?? 'QEMU ended'}` : undefined,
      );
      last = now;
      const next = new Map<string, QemuProcess>();
      for (const w of now.values()) {
        if (w.state !== 'running' && w.state !== 'paused') continue;
        const q = await qemuOf(w);
        if (q !== undefined) next.set(keyOf(q), q);
      }
      if (disposed) return;
      for (const key of qemus.keys()) if (!next.has(key)) stats.delete(key);
      qemus = next;
      if (failing) emit({ type: 'notice', level: 'info', message: 'kvm: listing works again' });
      failing = false;
    } catch (e) {
      if (!failing && !disposed) emit({ type: 'notice', level: 'error', message: `kvm: ${(e as Error).message}` });
      failing = true;
    }
  }, () => disposed);

  const checkQemus = () => {
    for (const q of qemus.values()) {
      // Undefined once that QEMU has ended, is a zombie, or its pid now names another process.
      if (!readPinnedStat(stats, q.pid, q.startTicks)) {
        void tick();
        return;
      }
    }
  };

  void tick();
  const full = setInterval(() => void tick(), FULL_MS);
  const fast = setInterval(checkQemus, PID_MS);
  full.unref();
  fast.unref();
  return {
    dispose() {
      disposed = true;
      clearInterval(full);
      clearInterval(fast);
      for (const key of qemus.keys()) stats.delete(key);
      qemus.clear();
    },
  };
}
