import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runInThisContext } from 'node:vm';
import type Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { lazyRequires } from '../../scripts/lazy-requires.mjs';

// The CLI bundle loads dockerode's SSH transport and BuildKit session when first used, not
// at start (scripts/lazy-requires.mjs). Bundled here the same way, with the packages those
// parts pull in left outside so that the bundle's `require` of them can be watched.
const ROOT = join(import.meta.dirname, '..', '..');
const WATCHED = ['ssh2', '@grpc/grpc-js', '@grpc/proto-loader'];

async function loadDockerode(plugins: ReturnType<typeof lazyRequires>[]): Promise<{ Docker: typeof Docker; required: string[] }> {
  const out = await build({
    stdin: { contents: "module.exports = require('dockerode');", resolveDir: ROOT, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'silent',
    external: [...WATCHED, 'cpu-features'],
    plugins,
  });
  const required: string[] = [];
  const real = createRequire(createRequire(join(ROOT, 'package.json')).resolve('dockerode'));
  const watch = (id: string): unknown => {
    if (WATCHED.includes(id)) required.push(id);
    return real(id);
  };
  const module = { exports: {} as unknown };
  const run = runInThisContext(`(function (exports, require, module) {${out.outputFiles[0]!.text}\n})`) as (e: unknown, r: typeof watch, m: typeof module) => void;
  run(module.exports, watch, module);
  return { Docker: module.exports as typeof Docker, required };
}

describe('dockerode in the CLI bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nc-lazy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads without the SSH transport or the BuildKit session, which the eager build does load', async () => {
    expect((await loadDockerode([])).required).toEqual(expect.arrayContaining(WATCHED));
    expect((await loadDockerode([lazyRequires()])).required).toEqual([]);
  });

  it('loads the BuildKit session when a BuildKit build asks for one', async () => {
    const { Docker, required } = await loadDockerode([lazyRequires()]);
    const docker = new Docker({ socketPath: join(dir, 'no-engine.sock') });
    // The session dials the engine first: the socket is not there, and that is the error.
    await expect(docker.buildImage(Readable.from([]), { version: '2' })).rejects.toThrow(/ENOENT/);
    expect(required).toEqual(expect.arrayContaining(['@grpc/grpc-js', '@grpc/proto-loader']));
  });

  it('loads the SSH transport when an ssh:// engine is dialled', async () => {
    const { Docker, required } = await loadDockerode([lazyRequires()]);
    const docker = new Docker({ protocol: 'ssh', host: '127.0.0.1', port: 1, username: 'nobody' });
    await expect(docker.ping()).rejects.toThrow(/ECONNREFUSED/);
    expect(required).toContain('ssh2');
  });

  it('fails the build when a dependency no longer has the require it rewrites', async () => {
    const stale = lazyRequires([{ file: /dockerode[\\/]lib[\\/]docker\.js$/, eager: "nothing = require('./nothing'),", lazy: '' }]);
    await expect(loadDockerode([stale])).rejects.toThrow(/no longer has exactly one nothing = require/);
  });
});
