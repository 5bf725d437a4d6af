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
   * QEMU's run status as this connection last learned it, kept true by QEMU's own events
   * (every monitor gets every event, whichever client caused it): a RESUME means running;
   * any other event that may change the status forgets it, and the next look asks QEMU.
   */
  status: string | undefined;
  /** Counts the events that forgot the status: a command's caller compares it to know nothing else happened. */
  changes: number;
  /** The query-status under way, which a second look joins instead of asking again. */
  asking?: Promise<string>;
}

/** Events that never change the run status; any other one (STOP, SHUTDOWN, RESET, an I/O error…) may. */
const KEEPS_STATUS = new Set(['RESUME', 'BALLOON_CHANGE', 'RTC_CHANGE', 'VNC_CONNECTED', 'VNC_INITIALIZED', 'VNC_DISCONNECTED', 'VSERPORT_CHANGE', 'NIC_RX_FILTER_CHANGED', 'JOB_STATUS_CHANGE']);

/**
 * Resolves once the event loop has polled its sockets at least once since the call: what QEMU
 * already sent on the held monitor (an event another client's command caused) has been read.
 * One setImmediate is not enough: called from a poll callback (a reply on another socket), it
 * runs in the same iteration's check phase, before the next poll.
 */
export const pendingReadsDone = (): Promise<void> => new Promise((r) => setImmediate(() => setImmediate(r)));

/**
 * The held connection's status when it is known, else QEMU's answer (remembered). Events
 * QEMU already sent but this process has not read yet are read first (pendingReadsDone), so
 * a change another process made before this call is never missed.
 */
export async function heldStatus(h: Held, timeoutMs: number): Promise<string> {
  await pendingReadsDone();
  if (h.status !== undefined) return h.status;
  // Joining a query already sent is sound: an event read before its answer was sent before it too,
  // so the answer already includes what the event changed.
  h.asking ??= (async () => {
    const before = h.changes;
    try {
      const status = (await h.q.execute<{ status: string }>('query-status', undefined, timeoutMs)).status;
      // An event after the answer (read in the same chunk) makes the answer old news.
      if (h.changes === before) h.status = status;
      return status;
    } finally {
      h.asking = undefined;
    }
  })();
  return h.asking;
}

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
      // Without a wait, the QEMU is up (or quitting): its socket listens, and a refused connect is not retried.
      q = await QmpClient.connect(path, { timeoutMs: Math.max(waitMs, 1_000), retryMs: 1, once: waitMs === 0, ...(signal ? { signal } : {}) });
    } catch {
      await claim.release().catch(() => undefined);
      return undefined;
    }
    const h: Held = { q, gone: Promise.resolve(), status: undefined, changes: 0 };
    q.onEvent((e) => {
      if (e.event === 'BALLOON_CHANGE' && typeof e.data?.actual === 'number') h.balloon = e.data.actual;
      if (e.event === 'RESUME') h.status = 'running';
      else if (!KEEPS_STATUS.has(e.event)) {
        h.status = undefined;
        h.changes++;
      }
    });
    h.gone = new Promise<void>((resolve) =>
      q.onClose(() => {
        this.byDir.delete(runDir);
        void claim.release().catch(() => undefined);
        resolve();
      }),
    );
    return h;
  }

  /** Let go of every held connection (this process is closing); QEMU keeps running. */
  dispose(): void {
    for (const p of this.byDir.values()) void p.then((h) => h?.q.close());
    this.byDir.clear();
  }
}
