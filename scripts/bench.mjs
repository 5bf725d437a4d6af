// `npm run bench`: bundle the benchmark suite like the CLI (packages stay external) and run it.
// Besides the suite: the helper processes some figures measure apart (a TCP source, the
// console proxy alone), and the browser pages some figures load in Chromium.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

const node = { bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' };
await mkdir('dist/bench-pages', { recursive: true });
await Promise.all([
  build({ ...node, entryPoints: ['bench/main.ts'], outfile: 'dist/bench.mjs' }),
  build({ ...node, entryPoints: ['bench/children/tcp-source.ts', 'bench/children/console-proxy.ts'], outdir: 'dist/bench-children' }),
  build({ entryPoints: ['bench/pages/first-frame.ts'], outdir: 'dist/bench-pages', bundle: true, platform: 'browser', format: 'esm', target: 'es2022', logLevel: 'warning' }),
  copyFile('bench/pages/first-frame.html', 'dist/bench-pages/first-frame.html'),
]);
const { main } = await import(pathToFileURL('dist/bench.mjs').href);
process.exit(await main(process.argv.slice(2)));
