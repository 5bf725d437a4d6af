import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What every figure is handed. */
export interface BenchContext {
  quick: boolean;
  /** Repetitions for a measurement: fewer in --quick mode, which only checks the bench still runs. */
  reps(full: number): number;
  /** A private NovaCron data dir. */
  tempHome(): { home: string; env: NodeJS.ProcessEnv; cleanup(): void };
  root: string;
  /** Progress on stderr, with BENCH_VERBOSE=1. */
  log(msg: string): void;
}

export function makeContext(quick: boolean, root: string): BenchContext {
  return {
    quick,
    root,
    log: (msg) => {
      if (process.env.BENCH_VERBOSE) process.stderr.write(`  ${new Date().toISOString().slice(11, 23)} ${msg}\n`);
    },
    reps: (full) => (quick ? Math.max(2, Math.ceil(full / 5)) : full),
    tempHome() {
      const home = mkdtempSync(join(tmpdir(), 'nc-bench-'));
      return {
        home,
        env: { ...process.env, NOVACRON_HOME: home, NOVACRON_CONFIG: join(home, 'config.yaml') },
        cleanup: () => rmSync(home, { recursive: true, force: true }),
      };
    },
  };
}
