import childProcess from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';

/**
 * Watch what the core does while it is fuzzed: every child process it spawns (through
 * a shell? — never allowed) and every path it opens for writing (outside its roots? —
 * never allowed). Node's builtins are patched and their ESM bindings re-synced, so
 * execa and fs/promises users are seen too.
 */
export interface Guard {
  shellSpawns: string[];
  writesOutside: string[];
  spawned: number;
  restore(): void;
}

const SHELLS = /(^|\/)(sh|bash|dash|zsh|ksh|busybox)$/;
const WRITE_FLAGS = /[wa+]/;

export function installGuards(allowedRoots: string[]): Guard {
  const g: Guard = { shellSpawns: [], writesOutside: [], spawned: 0, restore: () => undefined };
  const inside = (p: unknown) => {
    if (typeof p !== 'string' && !(p instanceof URL) && !Buffer.isBuffer(p)) return true; // fds
    const abs = resolve(String(p));
    return allowedRoots.some((r) => abs === r || abs.startsWith(r + '/'));
  };
  const noteWrite = (p: unknown) => {
    if (!inside(p)) g.writesOutside.push(String(p));
  };

  const origSpawn = childProcess.spawn;
  const origOpen = fs.promises.open;
  const origWriteFile = fs.promises.writeFile;
  const origMkdir = fs.promises.mkdir;
  const origRename = fs.promises.rename;
  const origOpenSync = fs.openSync;

  childProcess.spawn = function (this: unknown, file: string, args?: unknown, opts?: unknown) {
    g.spawned++;
    const o = (Array.isArray(args) ? opts : args) as { shell?: unknown } | undefined;
    if (o?.shell || SHELLS.test(file)) g.shellSpawns.push(`${file} ${Array.isArray(args) ? args.join(' ') : ''}`);
    return (origSpawn as (...a: unknown[]) => unknown).call(this, file, args, opts);
  } as typeof childProcess.spawn;
  fs.promises.open = (async (p: fs.PathLike, flags?: string | number, mode?: number) => {
    if (typeof flags === 'string' && WRITE_FLAGS.test(flags)) noteWrite(p);
    return origOpen(p, flags, mode);
  }) as typeof fs.promises.open;
  fs.promises.writeFile = (async (p: Parameters<typeof origWriteFile>[0], ...rest: unknown[]) => {
    noteWrite(p);
    return (origWriteFile as (...a: unknown[]) => Promise<void>)(p, ...rest);
  }) as typeof fs.promises.writeFile;
  fs.promises.mkdir = (async (p: fs.PathLike, o?: fs.MakeDirectoryOptions) => {
    noteWrite(p);
    return origMkdir(p, o);
  }) as typeof fs.promises.mkdir;
  fs.promises.rename = (async (a: fs.PathLike, b: fs.PathLike) => {
    noteWrite(a);
    noteWrite(b);
    return origRename(a, b);
  });
  fs.openSync = ((p: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
    if (typeof flags === 'string' && WRITE_FLAGS.test(flags)) noteWrite(p);
    return origOpenSync(p, flags ?? "r", mode);
  }) as typeof fs.openSync;
  syncBuiltinESMExports();

  g.restore = () => {
    childProcess.spawn = origSpawn;
    fs.promises.open = origOpen;
    fs.promises.writeFile = origWriteFile;
    fs.promises.mkdir = origMkdir;
    fs.promises.rename = origRename;
    fs.openSync = origOpenSync;
    syncBuiltinESMExports();
  };
  return g;
}
