// `npm run bench`: bundle the benchmark suite like the CLI (packages stay external) and run it.
// The children are the helper processes some figures measure apart (a TCP source, the console proxy alone).
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' };
await Promise.all([
  build({ ...common, entryPoints: ['bench/main.ts'], outfile: 'dist/bench.mjs' }),
  build({ ...common, entryPoints: ['bench/children/tcp-source.ts', 'bench/children/console-proxy.ts'], outdir: 'dist/bench-children' }),
]);
const { main } = await import(pathToFileURL('dist/bench.mjs').href);
process.exit(await main(process.argv.slice(2)));
