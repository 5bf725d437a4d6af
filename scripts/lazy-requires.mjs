// An esbuild plugin that turns a dependency's eager `require` of a rarely used part into a
// require on first call. A bundle evaluates every module it loads, and `novacron ls` is
// mostly start-up: these parts cost milliseconds at every start for features most never use.
// Each rewrite is checked: if the dependency's source no longer has the exact text, the build
// fails rather than silently bundling the eager form (or worse, a half-rewritten file).
import { readFile } from 'node:fs/promises';

/** The rewrites the CLI bundle uses: each keeps the same function, loaded when first called. */
export const LAZY_REQUIRES = [
  {
    // docker-modem's SSH transport (ssh2 and its crypto, a fifth of the bundle), for a
    // docker:// host over SSH that most never configure.
    file: /docker-modem[\\/]lib[\\/]modem\.js$/,
    eager: "ssh = require('./ssh'),",
    lazy: "ssh = function (opt) { return require('./ssh')(opt); },",
  },
  {
    // dockerode's BuildKit session: @grpc/proto-loader and protobufjs' descriptor extension
    // (~10 ms of evaluation), used only by buildImage({ version: '2' }), which NovaCron never calls.
    file: /dockerode[\\/]lib[\\/]docker\.js$/,
    eager: "withSession = require('./session'),",
    lazy: "withSession = function () { return require('./session').apply(this, arguments); },",
  },
];

export function lazyRequires(rewrites = LAZY_REQUIRES) {
  return {
    name: 'lazy-requires',
    setup(b) {
      for (const { file, eager, lazy } of rewrites) {
        b.onLoad({ filter: file }, async (args) => {
          const src = await readFile(args.path, 'utf8');
          if (src.split(eager).length !== 2) throw new Error(`lazy-requires: ${args.path} no longer has exactly one ${eager}`);
          return { contents: src.replace(eager, lazy), loader: 'js' };
        });
      }
    },
  };
}
