import { join } from 'node:path';
import { appRoot } from '../electron/core/base/app-root.js';
import { makeContext, type BenchContext } from './lib/context.js';
import { printTable, writeReport, type Entry } from './lib/report.js';
import { coldStart } from './figures/cold-start.js';
import { factory } from './figures/factory.js';
import { lifecycleDocker } from './figures/lifecycle-docker.js';
import { lifecycleContainerd } from './figures/lifecycle-containerd.js';
import { lifecycleKvm } from './figures/lifecycle-kvm.js';
import { vncProxy } from './figures/vnc-proxy.js';

/**
 * `npm run bench [-- --quick] [-- --only NAME]`: every figure measures NovaCron and its
 * baseline in the same run, prints a table and writes bench/report.json. --quick only
 * checks that the benchmarks still run (CI); it gates on nothing.
 */
const FIGURES: Record<string, (ctx: BenchContext) => Promise<Entry[]>> = {
  factory,
  'cold-start': coldStart,
  'lifecycle-docker': lifecycleDocker,
  'lifecycle-containerd': lifecycleContainerd,
  'lifecycle-kvm': lifecycleKvm,
  'vnc-proxy': vncProxy,
};

export async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  if (only && !(only in FIGURES)) {
    console.error(`bench: --only: '${only}' is not a figure (${Object.keys(FIGURES).join(', ')})`);
    return 2;
  }
  const root = appRoot();
  const ctx = makeContext(quick, root);
  const entries: Entry[] = [];
  const failures: string[] = [];
  for (const [name, run] of Object.entries(FIGURES)) {
    if (only && name !== only) continue;
    process.stderr.write(`bench: ${name}…\n`);
    try {
      entries.push(...(await run(ctx)));
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message}`);
    }
  }
  console.log(printTable(entries));
  const out = join(root, 'bench', quick ? 'report.quick.json' : 'report.json');
  writeReport(out, entries, { quick, at: new Date().toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length });
  console.log(`\nwritten: ${out}`);
  for (const f of failures) console.error(`bench: FAILED ${f}`);
  return failures.length ? 1 : 0;
}
