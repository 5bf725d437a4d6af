import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { privateDockerdArgs } from './docker.js';

/**
 * A containerd and a dockerd of a test's own, to kill and restart: the shared engines
 * serve every other suite on this machine and are never touched. Each has its own
 * socket, root, state, exec-root and pidfile under one temp dir; the dockerd runs in its
 * own network namespace (`--bridge=none` in the host's would delete docker0) and keeps its
 * containers in a containerd namespace of its own.
 */
export interface PrivateEngine {
  /** unix:///… for dockerd (DOCKER_HOST), the socket path for containerd (CONTAINERD_ADDRESS). */
  address: string;
  socket: string;
  dir: string;
  pid(): number | undefined;
  /** kill -9 the daemon (never anything else); resolves once it is gone. */
  kill(): Promise<void>;
  /** Start it again on the same state; resolves once it answers. */
  start(): Promise<void>;
  /** Stop it for good and remove its state. */
  stop(): Promise<void>;
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms: number, log: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up: ${log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function gone(pid: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (pid === undefined || !existsSync(`/proc/${pid}`) || /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return resolve();
      setTimeout(check, 20);
    };
    check();
  });
}

/** Unmount whatever a daemon left mounted under dir (overlay rootfs, shm), deepest first, before removing it. */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}

export async function privateContainerd(prefix: string): Promise<PrivateEngine> {
  const dir = join(tmpdir(), `${prefix}-ctd`);
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'c.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      // The CRI plugin would listen on a fixed port and configure CNI: not ours to run.
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${socket}.ttrpc"`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${dir}/opt"`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let log = '';
  const answers = () => spawnSync('ctr', ['--address', socket, 'version'], { stdio: 'ignore', timeout: 5_000 }).status === 0;
  const engine: PrivateEngine = {
    address: socket,
    socket,
    dir,
    pid: () => child?.pid,
    async start() {
      child = spawn('containerd', ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-8000)));
      await waitFor('private containerd', answers, 30_000, () => log);
    },
    async kill() {
      const pid = child?.pid;
      child?.kill('SIGKILL');
      await gone(pid);
    },
    async stop() {
      for (const ns of (spawnSync('ctr', ['--address', socket, 'namespaces', 'ls', '-q'], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean)) {
        const tasks = (spawnSync('ctr', ['--address', socket, '-n', ns, 'tasks', 'ls', '-q'], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean);
        for (const t of tasks) spawnSync('ctr', ['--address', socket, '-n', ns, 'tasks', 'kill', '-a', '-s', 'SIGKILL', t], { stdio: 'ignore' });
        for (const t of tasks) spawnSync('ctr', ['--address', socket, '-n', ns, 'tasks', 'rm', '-f', t], { stdio: 'ignore', timeout: 10_000 });
      }
      const pid = child?.pid;
      child?.kill('SIGTERM');
      await gone(pid);
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await engine.start();
  return engine;
}

export async function privateDockerd(prefix: string, containerdSocket: string): Promise<PrivateEngine & { docker: Docker }> {
  const dir = join(tmpdir(), `${prefix}-dkd`);
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'd.sock');
  const pidfile = join(dir, 'd.pid');
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  const docker = new Docker({ socketPath: socket });
  let child: ChildProcess | undefined;
  let log = '';
  const daemonPid = () => (existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8').trim()) || undefined : undefined);
  const engine = {
    address: `unix://${socket}`,
    socket,
    dir,
    docker,
    pid: daemonPid,
    async start() {
      child = spawn(
        'unshare',
        privateDockerdArgs({ dir, socket, pidfile, containerdSocket, prefix, configFile: join(dir, 'daemon.json') }),
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-8000)));
      await waitFor('private dockerd', () => docker.ping().then(() => true, () => false), 60_000, () => log);
    },
    async kill() {
      const pid = daemonPid();
      if (pid && existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
      await gone(pid);
    },
    async stop() {
      for (const c of await docker.listContainers({ all: true }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      const pid = daemonPid();
      if (pid && existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGTERM');
      await gone(pid);
      if (child && child.exitCode === null) await new Promise((r) => child!.once('exit', r));
      for (const ns of [prefix, `${prefix}-p`]) spawnSync('ctr', ['--address', containerdSocket, 'namespaces', 'rm', ns], { stdio: 'ignore' });
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await engine.start();
  return engine;
}
