import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The applets our test images and guests need; `true` is not there unless linked. */
export const APPLETS = ['sh', 'sleep', 'cat', 'echo', 'ls', 'ps', 'top', 'true', 'false', 'env', 'id', 'hostname', 'mkdir', 'rm', 'touch', 'dd', 'yes', 'head', 'grep', 'mount', 'uname', 'date', 'stty', 'seq', 'wc'];

const CACHE = join(tmpdir(), 'novacron-test-assets');

/** Why the busybox-based test images cannot be built here, or undefined. */
export function busyboxWhy(): string | undefined {
  return existsSync('/bin/busybox') ? undefined : 'busybox-static is not installed (/bin/busybox missing)';
}

/**
 * A minimal root filesystem: Debian's static busybox with links for the usual applets.
 * Built once per machine into a cache shared by the test files (built under a temp name
 * and renamed, so concurrent suites never see half of it).
 */
export function busyboxRootfs(): string {
  const dir = join(CACHE, 'busybox-rootfs');
  if (existsSync(join(dir, 'bin', 'sh'))) return dir;
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'data']) mkdirSync(join(tmp, d), { recursive: true });
  copyFileSync('/bin/busybox', join(tmp, 'bin', 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(tmp, 'bin', a));
  writeFileSync(join(tmp, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(tmp, 'etc', 'group'), 'root:x:0:\n');
  mkdirSync(CACHE, { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another suite won the race: use its copy
  }
  return dir;
}

/** The same rootfs as a tarball, for `docker import` / `novacron images import`. */
export function busyboxTarball(): string {
  const tar = join(CACHE, 'busybox-rootfs.tar');
  if (existsSync(tar)) return tar;
  const root = busyboxRootfs();
  const tmp = `${tar}.${process.pid}.tmp`;
  execFileSync('tar', ['-C', root, '-cf', tmp, '.']);
  renameSync(tmp, tar);
  return tar;
}
