import { closeSync, openSync } from 'node:fs';
import { connect, type OnReadOpts, type Socket } from 'node:net';

/** sun_path holds 108 bytes including the NUL. */
export const MAX_SOCKET_PATH = 107;

/**
 * Connect to a unix socket, even one whose path is longer than sun_path allows: the
 * directory is opened and the socket reached through /proc/self/fd/N/name, which is short.
 */
/** A read callback with a buffer of the caller's (net.connect's onread option). */
export type { OnReadOpts as OnRead } from 'node:net';

export function connectUnix(path: string, timeoutMs: number, opts: { onread?: OnReadOpts } = {}): Promise<Socket> {
  let dirFd: number | undefined;
  let target = path;
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    const slash = path.lastIndexOf('/');
    dirFd = openSync(path.slice(0, slash) || '/', 'r');
    target = `/proc/self/fd/${dirFd}/${path.slice(slash + 1)}`;
  }
  const release = () => {
    if (dirFd !== undefined) closeSync(dirFd);
    dirFd = undefined;
  };
  return new Promise<Socket>((resolve, reject) => {
    const sock = connect({ path: target, ...opts });
    const timer = setTimeout(() => {
      sock.destroy();
      release();
      reject(Object.assign(new Error(`connecting to ${path} timed out`), { code: 'ETIMEDOUT' }));
    }, Math.max(timeoutMs, 1));
    sock.once('connect', () => {
      clearTimeout(timer);
      release();
      resolve(sock);
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      release();
      reject(e);
    });
  });
}
