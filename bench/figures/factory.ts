import { DriverManager } from '../../electron/core/drivers/manager.js';
import { resolvePaths } from '../../electron/core/base/paths.js';
import { loadConfig } from '../../electron/core/config/config.js';
import { entry, type Entry } from '../lib/report.js';
import { median, runMs, timeMs } from '../lib/measure.js';
import type { BenchContext } from '../lib/context.js';

/**
 * Figure 7: the driver factory. Cached retrieval against a bare Map lookup (the least a
 * cache can cost), and detecting every driver against one `qemu-system-x86_64 --version`
 * (the cheapest thing a detection of QEMU has to do).
 */
export async function factory(ctx: BenchContext): Promise<Entry[]> {
  const t = ctx.tempHome();
  try {
    const paths = resolvePaths(t.env);
    const { config } = await loadConfig(paths, t.env);
    const manager = new DriverManager({ config, paths });
    await manager.get('process');

    const N = ctx.quick ? 200_000 : 2_000_000;
    const perOp = (fn: () => unknown) => {
      const runs: number[] = [];
      for (let r = 0; r < 7; r++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < N; i++) fn();
        runs.push(Number(process.hrtime.bigint() - t0) / N);
      }
      return median(runs);
    };
    const map = new Map(manager.ids.map((id) => [id, {}]));
    let sink: unknown;
    const cached = perOp(() => (sink = manager.cached('process')));
    const bare = perOp(() => (sink = map.get('process')));
    void sink;

    const detect = await timeMs(ctx.reps(10), async () => {
      const m = new DriverManager({ config, paths });
      await m.infoAll(true);
      m.dispose();
    });
    const qemu = await timeMs(ctx.reps(10), () => runMs('qemu-system-x86_64', ['--version']).catch(() => runMs('true', [])));
    manager.dispose();
    return [
      entry('driver factory: cached retrieval', 'ns', cached, bare, 'Map.get', { max: 10_000 }),
      entry('driver detection: all drivers', 'ms', detect, qemu, 'one qemu --version', { max: 200 }),
    ];
  } finally {
    t.cleanup();
  }
}
