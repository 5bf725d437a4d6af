import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { invalid, isNodeError } from './errors.js';

/**
 * The canonical form of a path that must stay inside `root`: symlinks are resolved in
 * the part of the path that exists, so `<data dir>/link-to-etc/x` is seen as `/etc/x`
 * and refused. What does not exist yet cannot be a link; the caller creates it with
 * O_EXCL (`wx`), which never follows a link at the last component.
 */
export async function confinedPath(root: string, path: string, field: string): Promise<string> {
  const realRoot = await realpath(root);
  let cur = resolve(path);
  const rest: string[] = [];
  let real: string;
  for (;;) {
    try {
      real = await realpath(cur);
      break;
    } catch (e) {
      if (!isNodeError(e, 'ENOENT') && !isNodeError(e, 'ENOTDIR')) throw e;
      const up = dirname(cur);
      if (up === cur) throw invalid(field, `${path} is not inside the data dir ${root}`);
      rest.unshift(basename(cur));
      cur = up;
    }
  }
  const canonical = rest.length ? join(real, ...rest) : real;
  if (canonical !== realRoot && !canonical.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
    throw invalid(field, `${path} is not inside the data dir ${root}${canonical !== resolve(path) ? ` (it leads to ${canonical})` : ''}: NovaCron writes only there`);
  }
  return canonical;
}
