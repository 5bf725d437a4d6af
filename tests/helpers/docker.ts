import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { busyboxTarball, busyboxWhy } from './busybox.js';

export const DOCKER_SOCK = '/var/run/docker.sock';

/** Why the Docker tests cannot run here, or undefined. */
export function dockerWhy(): string | undefined {
  if (!existsSync(DOCKER_SOCK)) return `${DOCKER_SOCK} is missing (is dockerd running? bash scripts/engines.sh)`;
  return busyboxWhy();
}

/** A unique prefix for every engine object a test file makes: containers, images, volumes. */
export const uniquePrefix = (what: string) => `nc-ct-${what}-${randomBytes(3).toString('hex')}`;

export const docker = (socketPath = DOCKER_SOCK) => new Docker({ socketPath });

async function drain(stream: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const c of stream as AsyncIterable<Buffer>) out += c.toString();
  if (/"error(Detail)?"/.test(out)) throw new Error(out);
  return out;
}

/** The busybox rootfs as an image, imported through the engine's API (a fixture, not the code under test). */
export async function busyboxImage(d: Docker, ref: string): Promise<string> {
  const [repo, tag = 'latest'] = ref.split(':') as [string, string?];
  await drain(await d.importImage(createReadStream(busyboxTarball()), { repo, tag }));
  return ref;
}

/** Remove everything whose name starts with the prefix: containers, then images, then volumes. */
export async function cleanupPrefix(d: Docker, prefix: string): Promise<void> {
  for (const c of await d.listContainers({ all: true })) {
    if (c.Names.some((n) => n.slice(1).startsWith(prefix))) await d.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
  for (const img of await d.listImages()) {
    for (const t of img.RepoTags ?? []) if (t.includes(prefix)) await d.getImage(t).remove({ force: true }).catch(() => undefined);
  }
  const { Volumes } = await d.listVolumes();
  for (const v of Volumes ?? []) if (v.Name.startsWith(prefix)) await d.getVolume(v.Name).remove().catch(() => undefined);
}

/**
 * A second dockerd of our own: own socket, data-root, exec-root, pidfile and containerd
 * namespace. It runs in its own network namespace, because `--bridge=none` makes dockerd
 * delete the host's docker0 bridge, which the shared engine needs.
 */
export async function secondEngine(prefix: string): Promise<{ address: string; socket: string; docker: Docker; stop(): Promise<void> }> {
  const dir = join(tmpdir(), prefix);
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'd.sock');
  const pidfile = join(dir, 'd.pid');
  const child = spawn(
    'unshare',
    [
      '--net',
      '--fork',
      'dockerd',
      '--host', `unix://${socket}`,
      '--data-root', join(dir, 'root'),
      '--exec-root', join(dir, 'x'),
      '--pidfile', pidfile,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--containerd=/run/containerd/containerd.sock',
      '--containerd-namespace', prefix,
      '--containerd-plugins-namespace', `${prefix}-p`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: false },
  );
  let log = '';
  child.stderr.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  const d = docker(socket);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await d.ping().then(() => true, () => false)) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`second dockerd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address: `unix://${socket}`,
    socket,
    docker: d,
    async stop() {
      for (const c of await d.listContainers({ all: true }).catch(() => [])) await d.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      const pid = existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8')) : undefined;
      if (pid) process.kill(pid, 'SIGTERM');
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
      for (const ns of [prefix, `${prefix}-p`]) {
        await new Promise((r) => spawn('ctr', ['namespaces', 'rm', ns], { stdio: 'ignore' }).once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** tcp://127.0.0.1:PORT in front of a unix socket: a TCP engine address for the real engine, that a test can cut. */
export async function tcpProxy(socketPath = DOCKER_SOCK): Promise<{ address: string; close(): Promise<void>; reopen(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let port = 0;
  let server: Server;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const up = connect(socketPath);
        sockets.add(client).add(up);
        client.pipe(up).pipe(client);
        const end = () => {
          client.destroy();
          up.destroy();
        };
        client.on('error', end).on('close', end);
        up.on('error', end).on('close', end);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  await listen();
  return {
    get address() {
      return `tcp://127.0.0.1:${port}`;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        sockets.clear();
        server.close(() => r());
      }),
    reopen: listen,
  };
}

/** Run a shell snippet in a running container through the engine's API (a fixture); its stdout. */
export async function shIn(d: Docker, container: string, script: string): Promise<string> {
  const exec = await d.getContainer(container).exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  let out = '';
  const sink = { write: (b: Buffer) => ((out += b.toString()), true) } as unknown as NodeJS.WritableStream;
  d.modem.demuxStream(stream, sink, sink);
  await new Promise((r) => stream.on('end', r));
  return out;
}
