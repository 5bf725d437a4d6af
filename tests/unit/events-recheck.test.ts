import { describe, expect, it, vi } from 'vitest';
import type { Detection, Driver } from '../../electron/core/drivers/driver.js';
import type { DriverManager } from '../../electron/core/drivers/manager.js';
import { ABSENT_RECHECK_MS, EventService } from '../../electron/core/services/events.js';

/** A manager of two drivers nobody can watch yet: one whose engine is down, one not installed. */
function manager() {
  const asked: Record<string, number> = { down: 0, absent: 0 };
  const driver = (id: string) => ({ id, watch: () => ({ dispose() {} }) }) as unknown as Driver;
  const det: Record<string, Detection> = { down: { available: false, reason: 'socket refused' }, absent: { available: false, absent: true, reason: 'not installed' } };
  const m = {
    ids: ['down', 'absent'],
    cached: (id: string) => driver(id),
    available: async () => ({ drivers: [], unavailable: [] }),
    detect: async (id: string) => {
      asked[id]!++;
      return det[id]!;
    },
  } as unknown as DriverManager;
  return { m, asked };
}

describe('the event service, for drivers it cannot watch yet', () => {
  it('asks about an engine that is down every 2 s, but about software that is not installed only once a minute', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    try {
      const { m, asked } = manager();
      const svc = new EventService(m);
      const sub = svc.subscribe(() => undefined);
      await vi.advanceTimersByTimeAsync(ABSENT_RECHECK_MS);
      // Down: every 2 s, asked from the cache and then afresh.
      expect(asked.down).toBeGreaterThanOrEqual(2 * (ABSENT_RECHECK_MS / 2000) - 2);
      // Not installed: at the first recheck, then once the minute has passed.
      expect(asked.absent).toBeLessThanOrEqual(2);
      await vi.advanceTimersByTimeAsync(ABSENT_RECHECK_MS);
      expect(asked.absent).toBeGreaterThanOrEqual(2);
      expect(asked.absent).toBeLessThanOrEqual(3);
      sub.dispose();
      svc.dispose();
    } finally {
      vi.useRealTimers();
    }
  });
});
