// Bundles the Node side: the CLI/server core (ESM), the Electron main (ESM) and the
// sandboxed preload (CommonJS, self-contained: a sandboxed preload cannot require packages).
import { build } from 'esbuild';
import { isAscii } from 'node:buffer';
import { readFile, rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { lazyRequires } from './lazy-requires.mjs';

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning' };

// The preload needs the contract's method and stream names, not its schemas (zod would
// triple its size): read them from the contract itself and inline them.
const names = 'dist/.contract-names.mjs';
await build({ ...common, sourcemap: false, entryPoints: ['shared/contract/index.ts'], outfile: names, format: 'esm', packages: 'external' });
const { METHOD_NAMES, STREAM_NAMES } = await import(pathToFileURL(names).href);
await rm(names);

// containerd's protobuf definitions, parsed here once rather than at every start of a bundle.
const protos = 'dist/.containerd-protos.mjs';
await build({ ...common, sourcemap: false, entryPoints: ['electron/core/drivers/containerd/api/codec.ts'], outfile: protos, format: 'esm', packages: 'external' });
const { protoJson } = await import(pathToFileURL(protos).href);
await rm(protos);
const coreDefines = { __CONTAINERD_PROTO_JSON__: JSON.stringify(protoJson()) };

// The CLI (also `serve`) carries its dependencies in its one file: loading a bundle is some
// three times faster than resolving and reading the hundreds of ESM files in node_modules,
// and `novacron ls` is mostly start-up. Native or optional add-ons stay outside. It is
// CommonJS so that bin/novacron.mjs can run it with a V8 code cache (bin/load-cached.mjs);
// the code's import.meta.url is the bundle's own URL. Whitespace is minified: that drops the
// comments, the one place esbuild leaves non-ASCII text, so the bundle is ASCII, which the
// loader reads as a one-byte string (~10 ms sooner for 3 MB), and a third smaller. Names stay,
// for stack traces; the source map is beside it.
const cliBanner = "const __ncMetaUrl = require('node:url').pathToFileURL(__filename).href;";

await Promise.all([
  build({
    ...common,
    entryPoints: ['electron/cli/main.ts'],
    outfile: 'dist/cli.cjs',
    format: 'cjs',
    external: ['electron', 'cpu-features', 'bufferutil', 'utf-8-validate'],
    banner: { js: cliBanner },
    define: { ...coreDefines, 'import.meta.url': '__ncMetaUrl' },
    plugins: [lazyRequires()],
    minifyWhitespace: true,
  }).then(async () => {
    // A regular expression (or String.raw) with a non-ASCII character keeps it: escape it in the source.
    const cli = await readFile('dist/cli.cjs');
    if (!isAscii(cli)) console.warn(`build: dist/cli.cjs is not ASCII (at byte ${cli.findIndex((b) => b > 127)}): it loads slower`);
  }),
  build({ ...common, entryPoints: ['electron/shell/main.ts'], outfile: 'dist/electron/main.mjs', format: 'esm', packages: 'external', define: coreDefines }),
  build({
    ...common,
    entryPoints: ['electron/shell/preload.ts'],
    outfile: 'dist/electron/preload.cjs',
    format: 'cjs',
    external: ['electron'],
    define: { __NOVACRON_METHODS__: JSON.stringify(METHOD_NAMES), __NOVACRON_STREAMS__: JSON.stringify(STREAM_NAMES) },
  }),
]);
