import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../electron/core/base/app-root.js';
import { makeContext, type BenchContext } from './lib/context.js';
import { hostLoad } from './lib/measure.js';
import { markdownTable, printTable, writeReport, type Entry } from './lib/report.js';
import { coldStart } from './figures/cold-start.js';
import { factory } from './figures/factory.js';
import { firstFrameFigure } from './figures/first-frame.js';
import { lifecycleContainerd } from './figures/lifecycle-containerd.js';
import { lifecycleDocker } from './figures/lifecycle-docker.js';
import { lifecycleKvm } from './figures/lifecycle-kvm.js';
import { rendererScale } from './figures/renderer-scale.js';
import { vncProxy } from './figures/vnc-proxy.js';
import { watching } from './figures/watching.js';

/**
 * `npm run bench [-- --quick] [-- --only NAME[,NAME…]]`: every figure measures NovaCron
 * and its baseline in the same run, prints a table and writes bench/report.json (with
 * --only, the other figures' rows of the last report are kept). --quick only checks that
 * the benchmarks still run (CI); it gates on nothing. BENCH_VERBOSE=1 shows progress.
 */
const FIGURES: Record<string, (ctx: BenchContext) => Promise<Entry[]>> = {
  factory,
  'cold-start': coldStart,
  'lifecycle-docker': lifecycleDocker,
  'lifecycle-containerd': lifecycleContainerd,
  'lifecycle-kvm': lifecycleKvm,
  'first-frame': firstFrameFigure,
  'vnc-proxy': vncProxy,
  watching,
  'renderer-scale': rendererScale,
};

export async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const only = argv.includes('--only') ? (argv[argv.indexOf('--only') + 1] ?? '').split(',') : undefined;
  const unknown = only?.filter((n) => !(n in FIGURES)) ?? [];
  if (unknown.length) {
    console.error(`bench: --only: '${unknown.join(', ')}' is not a figure (${Object.keys(FIGURES).join(', ')})`);
    return 2;
  }
  const root = appRoot();
  const ctx = makeContext(quick, root);
  const out = join(root, 'bench', quick ? 'report.quick.json' : 'report.json');
  // With --only, the rows of the other figures come from the last report.
  const kept: Entry[] = only && existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { entries: Entry[] }).entries.filter((e) => !only.includes(e.figure ?? '')) : [];
  const entries: Entry[] = [];
  const failures: string[] = [];
  const loads: number[] = [];
  for (const [name, run] of Object.entries(FIGURES)) {
    if (only && !only.includes(name)) continue;
    process.stderr.write(`bench: ${name}…\n`);
    loads.push(hostLoad().load1);
    try {
      entries.push(...(await run(ctx)).map((e) => ({ ...e, figure: name })));
    } catch (e) {
      failures.push(`${name}: ${(e as Error).stack ?? (e as Error).message}`);
    }
  }
  loads.push(hostLoad().load1);
  const all = Object.keys(FIGURES).flatMap((f) => [...kept, ...entries].filter((e) => e.figure === f));
  console.log(printTable(all));
  const { cpus } = hostLoad();
  const load = `load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cpus} CPUs while measuring`;
  console.log(`\n${load}`);
  writeReport(out, all, { quick, at: new Date().toISOString(), node: process.version, cpus, load });
  if (!quick) writeFileSync(join(root, 'bench', 'report.md'), `${markdownTable(all)}\n\n${load}, ${new Date().toISOString().slice(0, 10)}.\n`);
  console.log(`written: ${out}`);
  for (const f of failures) console.error(`bench: FAILED ${f}`);
  return failures.length ? 1 : 0;
}
