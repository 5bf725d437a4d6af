import childProcess from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Watch what the core does while it is fuzzed: every child process it starts (through a
 * shell? never allowed) and every path it creates, writes, renames or removes (outside
 * its roots? never allowed). Node's builtins are patched and their ESM bindings
 * re-synced, so execa and `node:fs/promises` users are seen too. Paths are compared after
 * resolving symlinks in the part that exists, so a write through a link in the data dir
 * that points out of it counts as outside.
 */
export interface Guard {
  shellSpawns: string[];
  writesOutside: string[];
  spawned: number;
  restore(): void;
}

const SHELLS = /(^|\/)(sh|bash|dash|zsh|ksh|csh|tcsh|fish|busybox)$/;
const WRITE_FLAGS = /[wa+]/;
const { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND } = fs.constants;
const writes = (flags: unknown) =>
  typeof flags === 'string' ? WRITE_FLAGS.test(flags) : typeof flags === 'number' && (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) !== 0;
type Fn = (...a: unknown[]) => unknown;

/** The path with symlinks resolved in its existing part (sync: it runs inside patched sync calls too). */
function canonical(p: string): string {
  let cur = resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return join(fs.realpathSync(cur), ...rest);
    } catch {
      const up = dirname(cur);
      if (up === cur) return resolve(p);
      rest.unshift(basename(cur));
      cur = up;
    }
  }
}

/** Opening a character device read-write (/dev/kvm, /dev/null) writes no file. */
function isDevice(p: string): boolean {
  try {
    return fs.statSync(p).isCharacterDevice();
  } catch {
    return false;
  }
}

export function installGuards(allowedRoots: string[]): Guard {
  const g: Guard = { shellSpawns: [], writesOutside: [], spawned: 0, restore: () => undefined };
  const roots = allowedRoots.map(canonical);
  const note = (p: unknown) => {
    if (typeof p !== 'string' && !(p instanceof URL) && !Buffer.isBuffer(p)) return; // an fd: its path was seen when it was opened
    const raw = p instanceof URL ? p.pathname : String(p);
    const abs = canonical(raw);
    if (roots.some((r) => abs === r || abs.startsWith(r + '/'))) return;
    if (isDevice(abs)) return;
    g.writesOutside.push(abs === resolve(raw) ? raw : `${raw} (→ ${abs})`);
  };
  const noteSpawn = (file: unknown, args: unknown, opts: unknown, viaShell: boolean) => {
    g.spawned++;
    const o = (Array.isArray(args) ? opts : args) as { shell?: unknown } | undefined;
    if (viaShell || o?.shell || SHELLS.test(String(file))) g.shellSpawns.push(`${String(file)} ${Array.isArray(args) ? args.join(' ') : ''}`);
  };

  const saved: [object, string, unknown][] = [];
  const wrap = (obj: object, name: string, before: (...a: unknown[]) => void) => {
    const orig = (obj as Record<string, Fn>)[name]!;
    saved.push([obj, name, orig]);
    (obj as Record<string, Fn>)[name] = function (this: unknown, ...a: unknown[]) {
      before(...a);
      return orig.apply(this, a);
    };
  };

  // Child processes: exec and execSync always go through /bin/sh.
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'fork']) wrap(childProcess, name, (f, a, o) => noteSpawn(f, a, o, false));
  for (const name of ['exec', 'execSync']) wrap(childProcess, name, (cmd) => noteSpawn(cmd, [], {}, true));

  // Files: one path written…
  const P = fs.promises as unknown as object;
  for (const name of ['writeFile', 'appendFile', 'mkdir', 'mkdtemp', 'truncate', 'rm', 'rmdir', 'unlink', 'utimes', 'chmod', 'chown', 'lchown']) wrap(P, name, (p) => note(p));
  for (const name of ['writeFileSync', 'appendFileSync', 'mkdirSync', 'mkdtempSync', 'truncateSync', 'rmSync', 'rmdirSync', 'unlinkSync', 'chmodSync', 'chownSync']) wrap(fs, name, (p) => note(p));
  // …two paths written (the link itself is the new file; what it points at is not touched)…
  for (const name of ['rename', 'copyFile', 'cp']) wrap(P, name, (a, b) => (note(name === 'rename' ? a : undefined), note(b)));
  for (const name of ['renameSync', 'copyFileSync', 'cpSync']) wrap(fs, name, (a, b) => (note(name === 'renameSync' ? a : undefined), note(b)));
  for (const name of ['symlink', 'link']) wrap(P, name, (_target, p) => note(p));
  for (const name of ['symlinkSync', 'linkSync']) wrap(fs, name, (_target, p) => note(p));
  // …or opened for writing.
  wrap(P, 'open', (p, flags) => writes(flags) && note(p));
  wrap(fs, 'openSync', (p, flags) => writes(flags) && note(p));
  wrap(fs, 'createWriteStream', (p) => note(p));
  syncBuiltinESMExports();

  g.restore = () => {
    for (const [obj, name, orig] of saved.reverse()) (obj as Record<string, unknown>)[name] = orig;
    syncBuiltinESMExports();
  };
  return g;
}
