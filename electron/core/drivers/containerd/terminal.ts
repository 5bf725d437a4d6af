import { randomBytes } from 'node:crypto';
import { constants, open } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { driverError } from '../../base/errors.js';
import { Emitter, type Disposable } from '../../base/lifecycle.js';
import type { TerminalSession } from '../driver.js';
import { jsonAny, parseJsonAny, PROCESS_TYPE_URL } from './api/codec.js';
import type { Container } from './api/messages.js';
import { workloadDir, type Family, type Target } from './context.js';
import type { OciSpec } from './spec.js';

const openFd = promisify(open);

/**
 * A TTY inside a running container: a process exec'd into the task with a terminal,
 * its stdin and output carried over two FIFOs NovaCron makes in the workload's folder
 * (containerd's shim opens the other ends and runs the pty). We open each FIFO
 * read-write, which never blocks and keeps it from reading EOF before the shim opens
 * it; the session ends when containerd reports the process's exit.
 */
export async function openExec(
  f: Family,
  t: Target,
  c: Container,
  opts: { cols: number; rows: number; command?: string[] },
  signal: AbortSignal,
): Promise<TerminalSession> {
  const spec = parseJsonAny<OciSpec>(c.spec);
  if (!spec?.process) throw driverError(f.profile.id, 'NOT_SUPPORTED', `'${t.id}' has no process spec to exec from`);
  const execId = `novacron-exec-${randomBytes(6).toString('hex')}`;
  const dir = join(workloadDir(f, t.namespace, t.id), execId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stdinPath = join(dir, 'stdin');
  const stdoutPath = join(dir, 'stdout');
  const sockets: Socket[] = [];
  const cleanup = async () => {
    // Each socket owns its fd and closes it.
    for (const s of sockets) s.destroy();
    await rm(dir, { recursive: true, force: true });
  };
  const ns = { namespace: t.namespace };
  let started = false;
  try {
    await execa('mkfifo', ['-m', '0600', stdinPath, stdoutPath]);
    const flags = constants.O_RDWR | constants.O_NONBLOCK;
    // Raw fds, not FileHandles: a FileHandle would close its fd again when collected.
    const input = new Socket({ fd: await openFd(stdinPath, flags), readable: false, writable: true });
    sockets.push(input);
    const output = new Socket({ fd: await openFd(stdoutPath, flags), readable: true, writable: false });
    sockets.push(output);
    const proc = {
      ...spec.process,
      terminal: true,
      consoleSize: { height: opts.rows, width: opts.cols },
      args: opts.command?.length ? opts.command : ['/bin/sh'],
      env: [...spec.process.env.filter((e) => !e.startsWith('TERM=')), 'TERM=xterm-256color'],
    };
    signal.throwIfAborted();
    await f.client.call(
      'tasks.Exec',
      { container_id: t.id, exec_id: execId, stdin: stdinPath, stdout: stdoutPath, terminal: true, spec: jsonAny(PROCESS_TYPE_URL, proc) },
      ns,
    );
    const waiting = new AbortController();
    const exited = f.client.call('tasks.Wait', { container_id: t.id, exec_id: execId }, { ...ns, timeoutMs: 0, signal: waiting.signal });
    await f.client.call('tasks.Start', { container_id: t.id, exec_id: execId }, ns);
    started = true;
    return session(f, t, execId, { input, output, exited, stopWaiting: () => waiting.abort(), cleanup });
  } catch (e) {
    if (!started) {
      await f.client.call('tasks.DeleteProcess', { container_id: t.id, exec_id: execId }, ns).catch(() => undefined);
    }
    await cleanup();
    throw e;
  }
}

function session(
  f: Family,
  t: Target,
  execId: string,
  io: { input: Socket; output: Socket; exited: Promise<{ exit_status: number }>; stopWaiting: () => void; cleanup: () => Promise<void> },
): TerminalSession {
  const data = new Emitter<string>();
  const exit = new Emitter<number | undefined>();
  const decoder = new StringDecoder('utf8');
  const ns = { namespace: t.namespace };
  let ended = false;
  let code: number | undefined;

  io.output.on('data', (b: Buffer) => {
    const s = decoder.write(b);
    if (s) data.fire(s);
  });
  io.output.on('error', () => undefined);
  io.input.on('error', () => undefined);

  const finish = async () => {
    if (ended) return;
    ended = true;
    await f.client.call('tasks.DeleteProcess', { container_id: t.id, exec_id: execId }, ns).catch(() => undefined);
    await io.cleanup();
    exit.fire(code);
    data.dispose();
    exit.dispose();
  };

  io.exited.then(
    (r) => {
      code = r.exit_status;
      // The shim copies the pty's last bytes after the exit is known: give them a moment.
      setTimeout(() => {
        const rest = decoder.end();
        if (rest) data.fire(rest);
        void finish();
      }, 150);
    },
    () => void finish(),
  );

  return {
    onData: (l): Disposable => data.event(l),
    onExit: (l): Disposable => exit.event(l),
    write(s) {
      if (!ended) io.input.write(s);
    },
    resize(cols, rows) {
      if (ended) return;
      void f.client.call('tasks.ResizePty', { container_id: t.id, exec_id: execId, width: cols, height: rows }, ns).catch(() => undefined);
    },
    dispose() {
      if (ended) return;
      io.stopWaiting();
      void f.client
        .call('tasks.Kill', { container_id: t.id, exec_id: execId, signal: 9 }, ns)
        .catch(() => undefined)
        .then(() => finish());
    },
  };
}
