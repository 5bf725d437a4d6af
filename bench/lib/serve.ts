import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface Served {
  child: ChildProcess;
  /** http://127.0.0.1:PORT/ */
  url: string;
  /** The URL with the token, as printed. */
  loginUrl: string;
  token: string;
  stop(): Promise<void>;
}

/** `novacron serve --port 0` from the built CLI, in its own process; resolves once it prints its URL. */
export function startServe(root: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin', 'novacron.mjs'), 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const onExit = (code: number | null) => reject(new Error(`serve exited ${code}`));
    child.once('exit', onExit);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Open: (\S+)/.exec(out);
      if (!m) return;
      child.off('exit', onExit);
      child.stdout.resume();
      const u = new URL(m[1]!);
      resolve({
        child,
        url: `${u.origin}/`,
        loginUrl: m[1]!,
        token: u.searchParams.get('token')!,
        stop: () =>
          new Promise<void>((r) => {
            if (child.exitCode !== null || child.signalCode !== null) return r();
            child.once('exit', () => r());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
