import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Detection, Driver, DriverEnv } from '../../electron/core/drivers/driver.js';
import { DriverManager } from '../../electron/core/drivers/manager.js';

/** A driver whose detections answer when the test says, and say what the test says. */
function gatedDriver() {
  const pending: ((d: Detection) => void)[] = [];
  const driver = {
    id: 'process',
    name: 'Gated',
    detect: () => new Promise<Detection>((resolve) => pending.push(resolve)),
    list: async () => [],
    start: async () => {
      throw new Error('not called');
    },
  } as unknown as Driver;
  const manager = new DriverManager({} as DriverEnv, [{ id: 'process', name: 'Gated', load: async () => async () => driver }]);
  const answer = async (d: Detection) => {
    await vi.waitFor(() => expect(pending.length).toBeGreaterThan(0));
    pending.shift()!(d);
  };
  return { manager, answer, asked: () => pending.length };
}

describe('driver manager: what an operation checks its driver against', () => {
  afterEach(() => vi.useRealTimers());

  it('does not wait for the periodic re-detection of a driver it found available; the next asker gets the fresh one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { manager, answer, asked } = gatedDriver();
    const first = manager.require('process', 'start');
    await answer({ available: true });
    await first;
    vi.setSystemTime(Date.now() + 6_000); // past the detection's 5 s
    // Answered at once from the last detection, while a fresh one is asked behind it.
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the operation waited for the re-detection')), 1_000)));
    await expect(Promise.race([manager.require('process', 'start'), waited])).resolves.toMatchObject({ name: 'Gated' });
    clearTimeout(timer);
    expect(asked()).toBe(1);
    await answer({ available: false, reason: 'engine gone' });
    await expect(manager.require('process', 'start')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'process: engine gone' });
  });

  it('asks afresh when the last detection found the driver unavailable, so an engine that came back is used at once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { manager, answer } = gatedDriver();
    const first = manager.require('process', 'start');
    await answer({ available: false, reason: 'down' });
    await expect(first).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    vi.setSystemTime(Date.now() + 6_000);
    const again = manager.require('process', 'start');
    await answer({ available: true });
    await expect(again).resolves.toMatchObject({ name: 'Gated' });
  });

  it('answers a capability from the detection that allowed it, never another capability or a later detection', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { manager, answer } = gatedDriver();
    const first = manager.require('process', 'start');
    await answer({ available: true });
    const driver = await first;
    await expect(manager.require('process', 'start')).resolves.toBe(driver);
    // The driver has no pause: a grant of start says nothing about it.
    await expect(manager.require('process', 'pause')).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
    // A refreshed detection that finds the driver gone replaces the one start was granted by.
    const refreshed = manager.detect('process', true);
    await answer({ available: false, reason: 'engine gone' });
    await refreshed;
    await expect(manager.require('process', 'start')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'process: engine gone' });
  });
});
