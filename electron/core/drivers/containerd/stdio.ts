import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stdioPath, workloadDir, type Family, type Target } from './context.js';

/**
 * A task's stdout and stderr, kept apart in two files that outlive NovaCron. containerd's
 * own "file://" log mode merges both streams into one file, so tasks use its "binary://"
 * mode instead: the shim starts a logger with stdout on fd 3 and stderr on fd 4, and
 * waits until it closes fd 5. Our logger is this small script in the data dir: two
 * `cat`s append each stream to its file. It belongs to the shim, not to NovaCron.
 */
const LOGGER = `#!/bin/sh
# Written by NovaCron: containerd's shim runs this with a task's stdout on fd 3 and its
# stderr on fd 4; closing fd 5 says we are ready. Arguments: -id ID dir DIRECTORY.
dir=
while [ $# -gt 0 ]; do
  if [ "$1" = dir ]; then dir=$2; shift; fi
  shift
done
[ -n "$dir" ] || exit 2
exec 5>&-
cat <&3 >>"$dir/stdout.log" 4<&- &
cat <&4 >>"$dir/stderr.log" 3<&- &
exec 3<&- 4<&-
wait
`;

/**
 * The logger, written when missing or not ours. Synchronous, like the folder below: asked on
 * every start, it is a small read and, nearly always, a mkdir that finds the folder there,
 * where each promise call is a trip through libuv's threadpool (several ms on a busy host,
 * on the start's critical path while the rootfs mounts are read).
 */
function loggerPath(f: Family): string {
  const path = join(f.base, 'bin', 'novacron-logger');
  try {
    if (readFileSync(path, 'utf8') === LOGGER) return path;
  } catch {
    // missing: written below
  }
  mkdirSync(join(f.base, 'bin'), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, LOGGER, { mode: 0o755 });
  chmodSync(tmp, 0o755);
  renameSync(tmp, path);
  return path;
}

/** The stdout/stderr URIs a task is created with, its folder made. */
export function taskStdio(f: Family, t: Target): { stdout: string; stderr: string } {
  const dir = workloadDir(f, t.namespace, t.id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const uri = `binary://${encodeURI(loggerPath(f))}?dir=${encodeURIComponent(dir)}`;
  return { stdout: uri, stderr: uri };
}

/**
 * Where a task's output is, from the URI it was created with: our logger's folder, a
 * file:// log (ctr --log-uri), or nothing NovaCron can read (FIFOs someone else holds).
 */
export function stdioFiles(f: Family, t: Target, uri: string | undefined): { stdout: string; stderr?: string } | undefined {
  if (uri?.startsWith('binary://')) {
    const dir = new URL(uri).searchParams.get('dir');
    if (dir) return { stdout: join(dir, 'stdout.log'), stderr: join(dir, 'stderr.log') };
  }
  if (uri?.startsWith('file://')) {
    // One file holds both streams there.
    return { stdout: decodeURI(new URL(uri).pathname) };
  }
  if (!uri && t.own) return { stdout: stdioPath(f, t.namespace, t.id, 'stdout'), stderr: stdioPath(f, t.namespace, t.id, 'stderr') };
  return undefined;
}
