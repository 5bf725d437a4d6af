import type { WorkloadInfo } from '../../../../shared/model.js';
import type { Disposable } from '../../base/lifecycle.js';
import { readStat } from '../../base/procfs.js';
import type { WorkloadChange } from '../driver.js';

const FULL_MS = 1000;
const PID_MS = 200;

const same = (a: WorkloadInfo, b: WorkloadInfo) => JSON.stringify(a) === JSON.stringify(b);

/**
 * State changes of VMs, while someone watches: a full listing every second (state files
 * other NovaCron processes write, QEMU's run status), and between those a cheap check
 * of every live QEMU's /proc entry five times a second, so a QEMU that dies is
 * reported well within a second.
 */
export function watchVms(list: () => Promise<WorkloadInfo[]>, emit: (c: WorkloadChange) => void, pidOf: (w: WorkloadInfo) => Promise<number | undefined> = async () => undefined): Disposable {
  let last: Map<string, WorkloadInfo> | undefined;
  let pids = new Map<string, number>();
  let running = false;
  let again = false;
  let failing = false;
  let disposed = false;

  const tick = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      const now = new Map((await list()).map((w) => [w.id, w]));
      if (disposed) return;
      if (last) {
        for (const [id, w] of now) {
          const before = last.get(id);
          if (before && same(before, w)) continue;
          emit({ type: 'upsert', info: w });
          if (w.state === 'crashed' && before && before.state !== 'crashed') {
            emit({ type: 'notice', level: 'error', message: `VM '${w.name}' crashed: ${w.exit?.reason ?? 'QEMU ended'}`, workloadId: id });
          }
        }
        for (const id of last.keys()) if (!now.has(id)) emit({ type: 'removed', id });
      }
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
    } finally {
      running = false;
      if (again && !disposed) {
        again = false;
        void tick();
      }
    }
  };

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
