import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The folder holding NovaCron's package.json. The core runs from its sources (tests),
 * from the bundle in dist/ (CLI, server) and from inside an Electron app archive, so it
 * is found by walking up rather than by a fixed relative path.
 */
export function appRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'novacron') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the NovaCron package root');
    dir = up;
  }
}

/** The built renderer: what the Electron window loads and the headless server serves. */
export const rendererDir = () => join(appRoot(), 'dist', 'renderer');
