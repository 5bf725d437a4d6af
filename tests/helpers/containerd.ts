import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

export const CONTAINERD_SOCKET = process.env.CONTAINERD_ADDRESS || '/run/containerd/containerd.sock';

/** Why the containerd suites cannot run here, or undefined. */
export function containerdWhy(): string | undefined {
  if (process.getuid?.() !== 0) return 'containerd tasks need root';
  if (!existsSync(CONTAINERD_SOCKET)) return `no containerd socket at ${CONTAINERD_SOCKET} (bash scripts/engines.sh starts it)`;
  const r = spawnSync('ctr', ['--address', CONTAINERD_SOCKET, 'version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return `ctr is not installed: ${r.error.message}`;
  if (r.status !== 0) return `containerd does not answer: ${r.stderr.trim()}`;
  return undefined;
}

/** A namespace of our own per test run, so parallel suites and other developers never collide. */
export const testNamespace = (what: string) => `nc-test-${what}-${randomBytes(4).toString('hex')}`;

/** `ctr -n NS …`: the independent check of what NovaCron did. */
export function ctr(namespace: string, args: string[]): string {
  return execFileSync('ctr', ['--address', CONTAINERD_SOCKET, '-n', namespace, ...args], { encoding: 'utf8', timeout: 60_000 });
}

const quiet = (namespace: string, args: string[]) =>
  spawnSync('ctr', ['--address', CONTAINERD_SOCKET, '-n', namespace, ...args], { encoding: 'utf8', timeout: 60_000 });

const column = (out: string) =>
  out
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((x): x is string => !!x);

/**
 * Remove everything a test put into its namespace, then the namespace: tasks, containers,
 * images (synchronously garbage-collected, which takes content and snapshots with them),
 * leftovers, and leases. Only ever called on a namespace the test made.
 */
export function removeNamespace(namespace: string): void {
  if (!namespace.startsWith('nc-test-')) throw new Error(`refusing to clean namespace ${namespace}`);
  for (const id of column(quiet(namespace, ['tasks', 'ls']).stdout ?? '')) {
    quiet(namespace, ['tasks', 'kill', '-a', '-s', 'SIGKILL', id]);
  }
  for (const id of column(quiet(namespace, ['tasks', 'ls']).stdout ?? '')) {
    for (let i = 0; i < 20 && quiet(namespace, ['tasks', 'rm', '-f', id]).status !== 0; i++) spawnSync('sleep', ['0.2']);
  }
  for (const id of column(quiet(namespace, ['containers', 'ls']).stdout ?? '')) quiet(namespace, ['containers', 'rm', id]);
  for (const ref of column(quiet(namespace, ['images', 'ls']).stdout ?? '')) quiet(namespace, ['images', 'rm', '--sync', ref]);
  for (const id of column(quiet(namespace, ['leases', 'ls']).stdout ?? '')) quiet(namespace, ['leases', 'rm', '--sync', id]);
  for (const key of column(quiet(namespace, ['snapshots', 'ls']).stdout ?? '').reverse()) quiet(namespace, ['snapshots', 'rm', key]);
  for (const d of column(quiet(namespace, ['content', 'ls']).stdout ?? '')) quiet(namespace, ['content', 'rm', d]);
  quiet('default', ['namespaces', 'rm', namespace]);
}
