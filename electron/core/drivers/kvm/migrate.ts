import { driverError, NovaError } from '../../base/errors.js';
import type { OpContext } from '../driver.js';
import type { QmpClient } from './qmp.js';

const D = 'kvm';

interface MigrateInfo {
  status?: string;
  ram?: { transferred: number; total: number; remaining: number };
  downtime?: number;
  'error-desc'?: string;
}

export interface MigrationResult {
  downtimeMs?: number;
  transferredBytes?: number;
}

/**
 * Drive one live migration from the source's QMP: start it, report RAM transferred /
 * total until it ends, cancel it when the caller aborts. The source keeps running on
 * failure or cancel (QEMU resumes it); the caller decides what happens to it on success.
 */
export async function runMigration(src: QmpClient, uri: string, label: string, ctx: OpContext): Promise<MigrationResult> {
  await src.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
  // A bandwidth cap of 0 would mean "none" in some versions: set a generous one explicitly.
  await src.execute('migrate-set-parameters', { 'max-bandwidth': 1024 * 1024 * 1024, 'downtime-limit': 300 });
  await src.execute('migrate', { uri });
  let cancelled = false;
  for (;;) {
    if (ctx.signal.aborted && !cancelled) {
      cancelled = true;
      await src.execute('migrate_cancel').catch(() => undefined);
    }
    const m = await src.execute<MigrateInfo>('query-migrate');
    const ram = m.ram;
    if (ram) {
      ctx.progress({
        label: `${label}: ${m.status}${m.downtime !== undefined ? `, downtime ${m.downtime} ms` : ''}`,
        done: ram.transferred,
        total: Math.max(ram.total, ram.transferred),
        unit: 'bytes',
      });
    }
    switch (m.status) {
      case 'completed':
        return { ...(m.downtime !== undefined ? { downtimeMs: m.downtime } : {}), ...(ram ? { transferredBytes: ram.transferred } : {}) };
      case 'failed':
        throw driverError(D, 'UNAVAILABLE', `${label} failed: ${m['error-desc'] ?? 'QEMU gave no reason'}; the VM keeps running here`);
      case 'cancelled':
        throw new NovaError('CANCELLED', `${label} was cancelled; the VM keeps running here`);
      default:
        await new Promise((r) => setTimeout(r, 150));
    }
  }
}
