// Bundles the Node side: the CLI/server core (ESM), the Electron main (ESM) and the
// sandboxed preload (CommonJS, self-contained: a sandboxed preload cannot require packages).
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning' };

// The preload needs the contract's method and stream names, not its schemas (zod would
// triple its size): read them from the contract itself and inline them.
const names = 'dist/.contract-names.mjs';
await build({ ...common, sourcemap: false, entryPoints: ['shared/contract/index.ts'], outfile: names, format: 'esm', packages: 'external' });
const { METHOD_NAMES, STREAM_NAMES } = await import(pathToFileURL(names).href);
await rm(names);

await Promise.all([
  build({ ...common, entryPoints: ['electron/cli/main.ts'], outfile: 'dist/cli.mjs', format: 'esm', packages: 'external' }),
  build({ ...common, entryPoints: ['electron/shell/main.ts'], outfile: 'dist/electron/main.mjs', format: 'esm', packages: 'external' }),
  build({
    ...common,
    entryPoints: ['electron/shell/preload.ts'],
    outfile: 'dist/electron/preload.cjs',
    format: 'cjs',
    external: ['electron'],
    define: { __NOVACRON_METHODS__: JSON.stringify(METHOD_NAMES), __NOVACRON_STREAMS__: JSON.stringify(STREAM_NAMES) },
  }),
]);
