#!/usr/bin/env node
// The CLI entry: runs the bundled core from dist/ (built by `npm ci` through `prepare`, or `npm run build`).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCached } from './load-cached.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'cli.cjs');
if (!existsSync(entry)) {
  console.error('novacron: UNAVAILABLE: NovaCron is not built: run `npm run build` in ' + root);
  process.exit(5);
}
const cli = loadCached(entry);
const code = await cli.exports.main(process.argv.slice(2));
cli.done();
// Flush what was printed, then leave: detached children and idle handles must not keep the CLI alive.
process.stdout.write('', () => process.exit(code));
