import { createInterface } from 'node:readline';
import type { WorkloadInfo } from '../../../../shared/model.js';
import type { Disposable } from '../../base/lifecycle.js';
import type { WorkloadChange } from '../driver.js';
import type { Virsh } from './virsh.js';
import { coalesced, emitListingChanges, type Listing } from '../common/listing-diff.js';

/** Lifecycle events come in bursts (Suspended, Resumed, Stopped…): one listing for a burst. */
const SETTLE_MS = 80;
const RETRY_MS = [1_000, 2_000, 5_000, 10_000];

/**
 * libvirt pushes its changes: one `virsh event --all --loop` process carries every
 * lifecycle event of every domain (defined, started, paused, crashed, undefined…),
 * whoever caused it: NovaCron, virsh, virt-manager, the guest. Each burst of events
 * triggers one listing, and only what changed is emitted; nothing polls. When the
 * daemon goes away the watcher says so once, retries with backoff, and says when it is back.
 */
export function watchDomains(virsh: Virsh, list: () => Promise<WorkloadInfo[]>, emit: (c: WorkloadChange) => void): Disposable {
  let last: Listing | undefined;
  let disposed = false;
  let settle: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let failing = false;
  let attempt = 0;
  let child: ReturnType<Virsh['spawn']> | undefined;

  const refresh = coalesced(async () => {
    try {
      const now = await list();
      if (disposed) return;
      last = emitListingChanges(last, now, emit, (w, before) =>
        w.state === 'crashed' && before?.state !== 'crashed' ? `domain '${w.name}' ${w.exit?.reason ?? 'crashed'}` : undefined,
      );
      if (failing) emit({ type: 'notice', level: 'info', message: `libvirt: ${virsh.uri} answers again` });
      failing = false;
    } catch {
      // The event stream's own failure is what gets reported; a listing fails with it.
    }
  }, () => disposed);

  const soon = () => {
    if (settle) return;
    settle = setTimeout(() => {
      settle = undefined;
      void refresh();
    }, SETTLE_MS);
  };

  const connect = () => {
    if (disposed) return;
    const started = Date.now();
    const c = virsh.spawn(['event', '--all', '--loop']);
    child = c;
    const lines = createInterface({ input: c.stdout });
    lines.on('line', (l) => {
      if (/event '(lifecycle|metadata-change)'/.test(l)) soon();
    });
    let err = '';
    c.stderr.on('data', (b: Buffer) => (err += b.toString()).length > 4096 && (err = err.slice(-4096)));
    void c.then(() => {
      if (disposed) return;
      // A stream that lived a while and ended (daemon restart) is retried at once; one that fails at birth backs off.
      if (Date.now() - started > 30_000) attempt = 0;
      if (!failing) emit({ type: 'notice', level: 'error', message: `libvirt: lost ${virsh.uri}: ${err.replace(/^error:\s*/gm, '').trim().split('\n').join(': ') || 'virsh event ended'}` });
      failing = true;
      const wait = RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]!;
      retry = setTimeout(() => {
        retry = undefined;
        connect();
        void refresh();
      }, wait);
      retry.unref();
    });
  };

  void refresh();
  connect();
  return {
    dispose() {
      disposed = true;
      if (settle) clearTimeout(settle);
      if (retry) clearTimeout(retry);
      child?.kill();
    },
  };
}
