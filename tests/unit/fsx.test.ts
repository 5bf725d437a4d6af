import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeTree, syncDir, syncFileData, writeFileAtomic, writeFileSynced, writeJsonAtomic } from '../../electron/core/base/fsx.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nc-fsx-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('durable writes', () => {
  it('writeFileSynced makes the file at the call, before its fsync (so a caller may fsync the dir alongside)', async () => {
    const path = join(dir, 'definition.json');
    const done = writeFileSynced(path, '{}\n');
    expect(existsSync(path)).toBe(true);
    await done;
    expect(readFileSync(path, 'utf8')).toBe('{}\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('writeFileSynced refuses a file that is there, and leaves it alone', async () => {
    const path = join(dir, 'state.json');
    await writeFileSynced(path, 'first');
    await expect(writeFileSynced(path, 'second')).rejects.toThrow(/EEXIST/);
    expect(readFileSync(path, 'utf8')).toBe('first');
  });

  it('writeFileAtomic replaces whole, small or large (the large one written off the event loop), and leaves no temp file', async () => {
    const path = join(dir, 'claim');
    await writeFileAtomic(path, 'a');
    await writeFileAtomic(path, 'b');
    expect(readFileSync(path, 'utf8')).toBe('b');
    const big = 'x'.repeat(1024 * 1024);
    await writeJsonAtomic(join(dir, 'big.json'), { big });
    expect(JSON.parse(readFileSync(join(dir, 'big.json'), 'utf8'))).toEqual({ big });
    expect(readdirSync(dir).sort()).toEqual(['big.json', 'claim']);
  });

  it('a failed write throws, names the path, and leaves the old content and no temp file', async () => {
    const path = join(dir, 'claim');
    await writeFileAtomic(path, 'old');
    // The rename cannot replace a directory with a file: the temp file was made and must go.
    const blocked = join(dir, 'blocked');
    mkdirSync(blocked);
    await expect(writeFileAtomic(blocked, 'new')).rejects.toThrow(/EISDIR|blocked/);
    expect(readdirSync(dir).sort()).toEqual(['blocked', 'claim']);
    expect(readFileSync(path, 'utf8')).toBe('old');
    // A dir that is not there: not even the temp file can be made.
    await expect(writeFileAtomic(join(dir, 'gone', 'claim'), 'new')).rejects.toThrow(/ENOENT/);
  });

  it('syncs a dir and a file by path, and says when one is not there', async () => {
    await writeFileAtomic(join(dir, 'f'), 'data');
    await syncDir(dir);
    await syncFileData(join(dir, 'f'));
    await expect(syncDir(join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
    await expect(syncFileData(join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
  });
});

describe('removeTree', () => {
  it('removes a tree of small and large files, nested dirs and links (not what a link points to)', async () => {
    const tree = join(dir, 'trash');
    mkdirSync(join(tree, 'run', '1'), { recursive: true });
    writeFileSync(join(tree, 'definition.json'), '{}');
    writeFileSync(join(tree, 'run', '1', 'status'), 'running');
    writeFileSync(join(tree, 'disk.qcow2'), '');
    truncateSync(join(tree, 'disk.qcow2'), 64 * 1024 * 1024); // sparse, past the size unlinked synchronously
    const outside = join(dir, 'kept');
    writeFileSync(outside, 'kept');
    symlinkSync(outside, join(tree, 'link'));
    symlinkSync(join(dir, 'nowhere'), join(tree, 'dangling'));
    await removeTree(tree);
    expect(readdirSync(dir)).toEqual(['kept']);
    expect(readFileSync(outside, 'utf8')).toBe('kept');
  });

  it('is fine with a path that is not there, and removes a plain file', async () => {
    await removeTree(join(dir, 'missing'));
    await removeTree(join(dir, 'missing', 'deeper'));
    writeFileSync(join(dir, 'file'), 'x');
    await removeTree(join(dir, 'file'));
    expect(readdirSync(dir)).toEqual([]);
  });
});
