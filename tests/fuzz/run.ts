import fc from 'fast-check';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { METHOD_NAMES, STREAM_NAMES, methods, streams } from '../../shared/contract/index.js';
import { ERROR_CODES } from '../../shared/errors.js';
import { main as cliMain } from '../../electron/cli/main.js';
import { openTestCore } from '../helpers/core.js';
import { hostileStrings, sentinelPaths } from './hostile.js';
import { installGuards } from './guards.js';
import { shaped } from './shaped.js';

export interface FuzzFigures {
  cases: number;
  accepted: number;
  rejectedInvalid: number;
  otherErrors: Record<string, number>;
  /** An exception escaped, or an INTERNAL error: a bug either way. */
  crashes: string[];
  writesOutside: string[];
  shellSpawns: string[];
  sentinelsFound: string[];
}

/** Safe values for the few fields where a valid value could run something: only harmless programs. */
const safeLeaf = (path: string) => {
  if (path === 'cmd') return fc.constantFrom('sleep', '/bin/sleep', 'true');
  if (path === 'args' || path === 'args[]') return fc.constantFrom(['300'], ['1']);
  return undefined;
};

/**
 * Fuzz every contract method and stream through the router, and the CLI's argument
 * parsing in-process, with hostile input; then report what was tried and what leaked.
 */
export async function fuzzContract(opts: { contractCases: number; cliCases: number; seed?: number }): Promise<FuzzFigures> {
  const t = await openTestCore('nc-fuzz-');
  const escape = `${t.home}/escape`;
  symlinkSync('/etc', escape);
  mkdirSync(`${t.home}/processes`, { recursive: true });
  const seeds = [];
  for (const name of ['fz-a', 'fz-b']) seeds.push((await t.client.call('workloads.create', { driver: 'process', name, cmd: 'sleep', args: ['300'] })).id);
  const strings = [...hostileStrings(t.home, escape), ...seeds];
  const figures: FuzzFigures = { cases: 0, accepted: 0, rejectedInvalid: 0, otherErrors: {}, crashes: [], writesOutside: [], shellSpawns: [], sentinelsFound: [] };
  // Besides the data dir: our own cgroups, and /dev/kvm, which kvm detection opens read-write
  // to learn whether it may use it (an open for ioctl, never a write of data).
  const guard = installGuards([t.home, '/sys/fs/cgroup/memory/novacron', '/sys/fs/cgroup/cpu/novacron', '/sys/fs/cgroup/cpuacct/novacron', '/sys/fs/cgroup/novacron', '/dev/kvm']);
  const count = (code: string) => {
    if (code === 'INVALID_ARGUMENT') figures.rejectedInvalid++;
    else figures.otherErrors[code] = (figures.otherErrors[code] ?? 0) + 1;
  };

  try {
    const methodArb = fc.constantFrom(...METHOD_NAMES).chain((m) =>
      fc.tuple(fc.constant(m), fc.oneof({ weight: 4, arbitrary: shaped(methods[m].input, strings, safeLeaf) }, { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) })),
    );
    const samples = fc.sample(methodArb, { numRuns: opts.contractCases, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
    for (const [m, input] of samples) {
      figures.cases++;
      try {
        const r = await withTimeout(t.core.router.call(m, input, { origin: 'test' }), 30_000, m);
        if (r.ok) figures.accepted++;
        else {
          if (!(ERROR_CODES as readonly string[]).includes(r.error.code)) figures.crashes.push(`${m}: unknown code ${r.error.code}`);
          if (r.error.code === 'INTERNAL') figures.crashes.push(`${m}(${preview(input)}): INTERNAL ${r.error.message}`);
          count(r.error.code);
        }
      } catch (e) {
        figures.crashes.push(`${m}(${preview(input)}): threw ${(e as Error).message}`);
      }
    }

    const streamArb = fc.constantFrom(...STREAM_NAMES).chain((s) => fc.tuple(fc.constant(s), shaped(streams[s].input, strings, safeLeaf)));
    for (const [s, input] of fc.sample(streamArb, { numRuns: Math.ceil(opts.contractCases / 10) })) {
      figures.cases++;
      try {
        let code: string | undefined;
        const d = t.core.router.subscribe(s, input, { event: () => undefined, error: (e) => (code = e.code) }, { origin: 'test' });
        await new Promise((r) => setTimeout(r, 5));
        d.dispose();
        if (code === 'INTERNAL') figures.crashes.push(`stream ${s}(${preview(input)}): INTERNAL`);
        if (code) count(code);
        else figures.accepted++;
      } catch (e) {
        figures.crashes.push(`stream ${s}: threw ${(e as Error).message}`);
      }
    }

    // The CLI, in-process (a spawn per case would take an hour): its parser and its errors.
    const flags = ['--driver', '--name', '--cmd', '--arg', '--env', '--cwd', '--memory', '--cpu-percent', '--force', '--timeout', '--json', '--to', '--tail', '--cpus', '--host', '--port', '--refresh', '-h', '--help'];
    const commands = ['drivers', 'ls', 'create', 'start', 'stop', 'restart', 'pause', 'resume', 'rm', 'inspect', 'stats', 'scale', 'snapshot', 'snapshots', 'revert', 'snapshot-rm', 'migrate', 'images', 'config', 'bogus', ''];
    const argvArb = fc.tuple(fc.constantFrom(...commands), fc.array(fc.oneof(fc.constantFrom(...flags, 'process', 'kvm', 'import', 'set', 'unset', 'get', 'ls'), fc.constantFrom(...strings.filter((x) => x.length < 5000))), { maxLength: 8 }));
    const env = { NOVACRON_HOME: process.env.NOVACRON_HOME, NOVACRON_CONFIG: process.env.NOVACRON_CONFIG };
    process.env.NOVACRON_HOME = t.home;
    process.env.NOVACRON_CONFIG = `${t.home}/config.yaml`;
    let lastErr = '';
    const silent = { out: () => undefined, err: (e: string) => void (lastErr = e) };
    try {
      for (const [cmd, rest] of fc.sample(argvArb, { numRuns: opts.cliCases })) {
        const argv = [cmd, ...rest];
        if (argv.includes('--follow') || argv.includes('-f')) continue;
        figures.cases++;
        try {
          lastErr = '';
          const code = await withTimeout(cliMain(argv, silent), 30_000, argv.join(' '));
          if (![0, 1, 2, 3, 4, 5, 6, 130].includes(code)) figures.crashes.push(`cli ${preview(argv)}: exit ${code}`);
          else if (lastErr.startsWith('novacron: INTERNAL')) figures.crashes.push(`cli ${preview(argv)}: ${lastErr}`);
          else if (code === 2) figures.rejectedInvalid++;
          else if (code === 0) figures.accepted++;
          else figures.otherErrors[`cli exit ${code}`] = (figures.otherErrors[`cli exit ${code}`] ?? 0) + 1;
        } catch (e) {
          figures.crashes.push(`cli ${preview(argv)}: threw ${(e as Error).message}`);
        }
      }
    } finally {
      if (env.NOVACRON_HOME === undefined) delete process.env.NOVACRON_HOME;
      else process.env.NOVACRON_HOME = env.NOVACRON_HOME;
      if (env.NOVACRON_CONFIG === undefined) delete process.env.NOVACRON_CONFIG;
      else process.env.NOVACRON_CONFIG = env.NOVACRON_CONFIG;
    }
  } finally {
    guard.restore();
    await t.close();
  }
  figures.writesOutside = [...new Set(guard.writesOutside)];
  figures.shellSpawns = guard.shellSpawns;
  figures.sentinelsFound = sentinelPaths(t.home).filter((p) => existsSync(p));
  return figures;
}

const preview = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
};

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const h = setTimeout(() => reject(new Error(`hung for ${ms} ms: ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(h);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(h);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
