// `npm run bench`: bundle the benchmark suite like the CLI (packages stay external) and run it.
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';

await build({ entryPoints: ['bench/main.ts'], outfile: 'dist/bench.mjs', bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' });
const { main } = await import(pathToFileURL('dist/bench.mjs').href);
process.exit(await main(process.argv.slice(2)));
