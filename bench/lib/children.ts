import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A helper process of the bench (dist/bench-children/NAME.js), talked to by lines on stdin/stdout. */
export interface Child {
  child: ChildProcess;
  /** The next line it prints. */
  line(): Promise<string>;
  send(line: string): void;
  stop(): Promise<void>;
}

export function startChild(root: string, name: string, opts: { args?: string[]; nodeArgs?: string[] } = {}): Child {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), join(root, 'dist', 'bench-children', `${name}.js`), ...(opts.args ?? [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return wrap(child);
}

export function wrap(child: ChildProcess): Child {
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else lines.push(l);
  });
  return {
    child,
    line: () => {
      const l = lines.shift();
      if (l !== undefined) return Promise.resolve(l);
      return new Promise<string>((resolve, reject) => {
        // The exit listener goes once the line came: a child asked for many lines would pile them up.
        const onExit = (code: number | null) => reject(new Error(`${String(child.spawnfile)} exited ${code}`));
        waiters.push((l) => {
          child.off('exit', onExit);
          resolve(l);
        });
        child.once('exit', onExit);
      });
    },
    send: (l) => child.stdin!.write(`${l}\n`),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin?.end();
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
