import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'novacron.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real CLI in its own process, as an admin would. */
export function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : err ? 1 : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `novacron serve` in the background; resolves with its URL and token once it listens. */
export function serve(env: NodeJS.ProcessEnv, args: string[] = ['--port', '0']): Promise<{ child: ChildProcess; url: string; loginUrl: string; token: string; stdout(): string; stderr(): string; stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out} ${err}`)), 20_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Open: (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const loginUrl = m[1]!;
      const u = new URL(loginUrl);
      const token = u.searchParams.get('token')!;
      resolve({
        child,
        url: `${u.origin}/`,
        loginUrl,
        token,
        stdout: () => out,
        stderr: () => err,
        stop: () =>
          new Promise<void>((r) => {
            if (child.exitCode !== null) return r();
            child.once('exit', () => r());
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
  });
}
