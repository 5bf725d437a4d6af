// Loads a CommonJS bundle with a V8 code cache: `novacron ls` is mostly start-up, and
// most of start-up was V8 reading and compiling the 4 MB bundle and the functions its
// first run calls. The cache holds that compiled code; V8 checks it against the source
// and its own version and flags, and one it rejects is simply made again. It lives in
// the user's own data dir (cache/, 0700), never in a place another user could write:
// compiled code is trusted as code.
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

/** In the data dir's cache/ (resolved as electron/core/base/paths.ts does): every file NovaCron writes lives under it. */
function cachePath(file, st) {
  const env = process.env;
  const home = env.NOVACRON_HOME || join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'novacron');
  const key = createHash('sha256').update(`${file}\0${st.size}\0${st.mtimeMs}\0${process.version}\0${process.arch}`).digest('hex').slice(0, 16);
  return join(home, 'cache', `cli-${key}.v8`);
}

/** A cache file only when it is ours: made by this user, not writable by others. */
function readOwn(path) {
  try {
    const st = statSync(path);
    if ((typeof process.getuid === 'function' && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0) return undefined;
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Runs the bundle at `file` as a CommonJS module and returns its exports. `done()`, called
 * once the command has run, saves the code cache when there was none to use (so it holds
 * what the command compiled on the way, not just the top level).
 */
export function loadCached(file) {
  // An ASCII file's bytes are its one-byte string: made with a copy, where decoding 3 MB as UTF-8
  // took ~10 ms here. The build keeps the bundle ASCII (scripts/build-node.mjs); any other is decoded.
  const bytes = readFileSync(file);
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const cache = cachePath(file, statSync(file));
  const cachedData = readOwn(cache);
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapper, { filename: file, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  const done = () => {
    if (cachedData && !script.cachedDataRejected) return;
    const dir = dirname(cache);
    const tmp = `${cache}.${process.pid}.tmp`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      renameSync(tmp, cache);
    } catch {
      // No room (a full disk) or no right to write (a read-only home): the next run compiles again, that is
      // all, and nothing is left behind: not the partial file, nor the folder if it holds nothing else.
      rmSync(tmp, { force: true });
      try {
        rmdirSync(dir);
      } catch {
        // Not empty (other caches), or never made.
      }
    }
  };
  return { exports: module.exports, done };
}
