import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { MethodName } from '../../shared/contract/index.js';
import type { Result } from '../../shared/errors.js';
import { BIN, serve } from '../helpers/cli.js';
import { wsClient } from '../helpers/ws-client.js';

/**
 * The NovaCron processes the fault suites kill -9 mid-operation: the CLI, the headless
 * server (the operation arrives over its WebSocket, as from a browser) and the desktop
 * core (desktop-core.ts, as electron/shell/main.ts runs it; the operation arrives as the
 * IPC handlers pass it on).
 */
export type VictimKind = 'cli' | 'headless' | 'desktop';
export const VICTIMS: VictimKind[] = ['cli', 'headless', 'desktop'];

/** One operation, in the contract's words and as an admin types it. */
export interface Op {
  method: MethodName;
  input: Record<string, unknown>;
  argv: string[];
}

export interface Running {
  kind: VictimKind;
  pid: number;
  /** When the operation left for the victim (for the CLI: when it was spawned). */
  sentAt: number;
  /** Settles if the victim answers before it is killed. */
  answer: Promise<Result<unknown> | { ok: boolean; exit: number }>;
  kill(): Promise<void>;
}

const ROOT = join(import.meta.dirname, '..', '..');
let harness: Promise<string> | undefined;

/** desktop-core.ts bundled once per run, next to node_modules so its packages resolve. */
function desktopHarness(): Promise<string> {
  harness ??= (async () => {
    const out = join(ROOT, 'node_modules', '.cache', 'novacron-faults', 'desktop-core.mjs');
    await build({ entryPoints: [join(ROOT, 'tests', 'faults', 'desktop-core.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
    return out;
  })();
  return harness;
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Start a victim and hand it the operation; the caller kills it when it likes. */
export async function launch(kind: VictimKind, env: NodeJS.ProcessEnv, op: Op): Promise<Running> {
  if (kind === 'cli') {
    const child = spawn(process.execPath, [BIN, ...op.argv], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const answer = new Promise<{ ok: boolean; exit: number }>((resolve) => child.once('exit', (code) => resolve({ ok: code === 0, exit: code ?? -1 })));
    return { kind, pid: child.pid!, sentAt: Date.now(), answer, kill: () => killed(child) };
  }
  if (kind === 'headless') {
    const srv = await serve(env);
    const c = await wsClient(`${srv.url.replace('http', 'ws')}ws`, { Authorization: `Bearer ${srv.token}` });
    c.ws.on('error', () => undefined);
    const sentAt = Date.now();
    const answer = c.client.call(op.method, op.input as never).then(
      (value) => ({ ok: true as const, value }),
      (e: Error & { code?: string }) => ({ ok: false as const, error: { code: (e.code ?? 'INTERNAL') as 'INTERNAL', message: e.message } }),
    );
    return {
      kind,
      pid: srv.child.pid!,
      sentAt,
      answer,
      kill: async () => {
        await killed(srv.child);
        c.close();
      },
    };
  }
  const child = spawn(process.execPath, [await desktopHarness()], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let resolveAnswer: (r: Result<unknown>) => void = () => undefined;
  const answer = new Promise<Result<unknown>>((r) => (resolveAnswer = r));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the desktop core did not start')), 30_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.startsWith('ready\n')) {
        clearTimeout(timer);
        resolve();
        const line = out.split('\n')[1];
        if (line) resolveAnswer((JSON.parse(line) as { r: Result<unknown> }).r);
      }
    });
    child.once('exit', (code) => reject(new Error(`the desktop core exited (${code})`)));
  });
  child.stdin.on('error', () => undefined);
  child.stdin.write(`${JSON.stringify({ id: 1, method: op.method, input: op.input })}\n`);
  return { kind, pid: child.pid!, sentAt: Date.now(), answer, kill: () => killed(child) };
}

/** How long the CLI takes to reach its operation: node, the bundle, the core. Measured, not guessed. */
export async function cliStartupMs(env: NodeJS.ProcessEnv): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    await new Promise((r) => spawn(process.execPath, [BIN, 'config', '--json'], { env, stdio: 'ignore' }).once('exit', r));
    times.push(Date.now() - t0);
  }
  return Math.min(...times);
}

/** Whether a process is still there (not a zombie). */
export function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A desktop core that takes many calls at once (the concurrency suite): each answer comes back with its id. */
export interface CorePool {
  pid: number;
  call(method: MethodName, input: Record<string, unknown>): Promise<Result<unknown>>;
  close(): Promise<void>;
}

export async function desktopCore(env: NodeJS.ProcessEnv): Promise<CorePool> {
  const child = spawn(process.execPath, [await desktopHarness()], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const pending = new Map<number, (r: Result<unknown>) => void>();
  let buf = '';
  let next = 1;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the desktop core exited (${code})`)));
    child.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l === 'ready') resolve();
        else if (l.trim()) {
          const { id, r } = JSON.parse(l) as { id: number; r: Result<unknown> };
          pending.get(id)?.(r);
          pending.delete(id);
        }
      }
    });
  });
  return {
    pid: child.pid!,
    call: (method, input) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        child.stdin.write(`${JSON.stringify({ id, method, input })}\n`);
      }),
    close: async () => {
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      clearTimeout(t);
    },
  };
}
