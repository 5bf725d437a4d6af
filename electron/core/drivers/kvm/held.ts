import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock, type Lock } from '../../base/lock.js';
import { RUN_FILES } from './args.js';
import { QmpClient } from './qmp.js';

/**
 * One QMP connection per running VM, kept open by this process for the VM's life, so an
 * operation costs one command round trip instead of connect + greeting + capabilities.
 *
 * QEMU serves one client per monitor, so this uses a monitor of its own (qmp-h.sock)
 * and claims it with a lock dir in the runtime dir: a second NovaCron process (the CLI
 * beside the desktop app) finds the claim held and connects per operation to qmp.sock as
 * before. A holder that dies leaves a stale claim (taken over) and QEMU frees the
 * monitor when its socket closes. The connection ends when QEMU quits: `gone` then
 * resolves, which is how a stop learns at once that QEMU let go.
 */
export interface Held {
  q: QmpClient;
  /** Resolves when the connection closed (QEMU quit or crashed, or we let go). */
  gone: Promise<void>;
  /**
   * The balloon's size in bytes as QEMU last told this connection (null: the VM has no
   * balloon): asked once, then kept by its BALLOON_CHANGE events, so metrics need not ask every second.
   */
  balloon?: number | null;
  /**
   * QEMU's run status as last asked on this connection, and when. Any event but
   * BALLOON_CHANGE forgets it: QEMU changes its run status only with an event (STOP,
   * RESUME, SHUTDOWN, SUSPEND, GUEST_PANICKED, MIGRATION…), so the watcher's pass each
   * second asks only after one, and at the latest every STATUS_MAX_AGE_MS.
   */
  status?: { value: string; at: number };
  /** Events that forgot the status so far: an answer asked before one is not kept. */
  changes: number;
}

/** How long a run status learnt on the held connection is trusted without an event. */
export const STATUS_MAX_AGE_MS = 10_000;

export class HeldMonitors {
  private readonly byDir = new Map<string, Promise<Held | undefined>>();

  /**
   * The held connection of the QEMU whose runtime dir is runDir, opened on first use;
   * undefined when another live process holds it or the QEMU predates this monitor.
   * waitMs: how long to wait for the socket to appear (a QEMU just spawned).
   */
  get(runDir: string, waitMs = 0, signal?: AbortSignal): Promise<Held | undefined> {
    let p = this.byDir.get(runDir);
    if (!p) {
      p = this.open(runDir, waitMs, signal);
      this.byDir.set(runDir, p);
      // A failed open is not remembered: the next operation tries again (the other holder may be gone).
      void p.then((h) => h ?? this.byDir.delete(runDir));
    }
    return p.then((h) => (h?.q.connected ? h : undefined));
  }

  private async open(runDir: string, waitMs: number, signal?: AbortSignal): Promise<Held | undefined> {
    const path = join(runDir, RUN_FILES.qmpHeld);
    if (waitMs === 0 && !existsSync(path)) return undefined;
    let claim: Lock;
    try {
      claim = await acquireLock(join(runDir, RUN_FILES.qmpHeldClaim), 'holding the QMP monitor', 'qmp-h');
    } catch {
      return undefined; // held by another live process, or the runtime dir is gone
    }
    let q: QmpClient;
    try {
      q = await QmpClient.connect(path, { timeoutMs: Math.max(waitMs, 1_000), retryMs: 2, ...(signal ? { signal } : {}) });
    } catch {
      await claim.release().catch(() => undefined);
      return undefined;
    }
    const held: Held = { q, gone: Promise.resolve(), changes: 0 };
    q.onEvent((e) => {
      if (e.event === 'BALLOON_CHANGE') {
        if (typeof e.data?.actual === 'number') held.balloon = e.data.actual;
      } else {
        delete held.status;
        held.changes++;
      }
    });
    held.gone = new Promise<void>((resolve) =>
      q.onClose(() => {
        this.byDir.delete(runDir);
        void claim.release().catch(() => undefined);
        resolve();
      }),
    );
    return held;
  }

  /** Let go of every held connection (this process is closing); QEMU keeps running. */
  dispose(): void {
    for (const p of this.byDir.values()) void p.then((h) => h?.q.close());
    this.byDir.clear();
  }
}
