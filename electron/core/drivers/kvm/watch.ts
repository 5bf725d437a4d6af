import type { WorkloadInfo } from '../../../../shared/model.js';
import type { Disposable } from '../../base/lifecycle.js';
import { readStat } from '../../base/procfs.js';
import type { WorkloadChange } from '../driver.js';
import { coalesced, emitListingChanges, type Listing } from '../common/listing-diff.js';

const FULL_MS = 1000;
const PID_MS = 200;

/**
 * State changes of VMs, while someone watches: a full listing every second (state files
 * other NovaCron processes write, QEMU's run status), and between those a cheap check
 * of every live QEMU's /proc entry five times a second, so a QEMU that dies is
 * reported well within a second.
 */
export function watchVms(list: () => Promise<WorkloadInfo[]>, emit: (c: WorkloadChange) => void, pidOf: (w: WorkloadInfo) => Promise<number | undefined> = async () => undefined): Disposable {
  let last: Listing | undefined;
  let pids = new Map<string, number>();
  let failing = false;
  let disposed = false;

  const tick = coalesced(async () => {
    try {
      const listed = await list();
      if (disposed) return;
      const now = emitListingChanges(last, listed, emit, (w, before) =>
        w.state === 'crashed' && before && before.state !== 'crashed' ? `VM '${w.name}' crashed: ${w.exit?.reason ?? 'QEMU ended'}` : undefined,
      );
      last = now;
      const next = new Map<string, number>();
      for (const w of now.values()) {
        if (w.state !== 'running' && w.state !== 'paused') continue;
        const pid = await pidOf(w);
        if (pid !== undefined) next.set(w.id, pid);
      }
      pids = next;
      if (failing) emit({ type: 'notice', level: 'info', message: 'kvm: listing works again' });
      failing = false;
    } catch (e) {
      if (!failing && !disposed) emit({ type: 'notice', level: 'error', message: `kvm: ${(e as Error).message}` });
      failing = true;
    }
  }, () => disposed);

  const checkPids = async () => {
    for (const pid of pids.values()) {
      const st = await readStat(pid).catch(() => undefined);
      if (!st || st.state === 'Z' || st.state === 'X') {
        void tick();
        return;
      }
    }
  };

  void tick();
  const full = setInterval(() => void tick(), FULL_MS);
  const fast = setInterval(() => void checkPids(), PID_MS);
  full.unref();
  fast.unref();
  return {
    dispose() {
      disposed = true;
      clearInterval(full);
      clearInterval(fast);
    },
  };
}
