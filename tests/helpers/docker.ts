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
 * The command line (after `unshare`) of a dockerd of our own: in its own network namespace,
 * because `--bridge=none` makes dockerd delete the host's docker0 bridge, which the shared
 * engine needs; its own socket, data-root, exec-root, pidfile and containerd namespaces.
 */
export function privateDockerdArgs(o: { dir: string; socket: string; pidfile: string; containerdSocket: string; prefix: string; configFile?: string }): string[] {
  return [
    '--net',
    '--fork',
    'dockerd',
    ...(o.configFile ? ['--config-file', o.configFile] : []),
    '--host', `unix://${o.socket}`,
    '--data-root', join(o.dir, 'root'),
    '--exec-root', join(o.dir, 'x'),
    '--pidfile', o.pidfile,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    `--containerd=${o.containerdSocket}`,
    '--containerd-namespace', o.prefix,
    '--containerd-plugins-namespace', `${o.prefix}-p`,
  ];
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
    privateDockerdArgs({ dir, socket, pidfile, containerdSocket: '/run/containerd/containerd.sock', prefix }),
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

/**
 * The smallest Docker registry (v2 API, read only) serving one image: the busybox rootfs
 * as a single gzipped layer. The engine trusts 127.0.0.0/8 over plain HTTP, so a pull from
 * `127.0.0.1:PORT/NAME:TAG` works with no registry installed.
 */
export async function tinyRegistry(name: string, tag: string): Promise<{ host: string; close(): Promise<void> }> {
  const { createHash } = await import('node:crypto');
  const { gzipSync } = await import('node:zlib');
  const { createServer: http } = await import('node:http');
  const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const tar = readFileSync(busyboxTarball());
  const layer = gzipSync(tar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [sha(tar)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha(layer) }],
    }),
  );
  const blobs = new Map([
    [sha(config), config],
    [sha(layer), layer],
  ]);
  const server = http((req, res) => {
    const url = req.url ?? '';
    const send = (status: number, body: Buffer, type: string, digest?: string) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length, 'Docker-Distribution-API-Version': 'registry/2.0', ...(digest ? { 'Docker-Content-Digest': digest } : {}) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url === '/v2/' || url === '/v2') return send(200, Buffer.from('{}'), 'application/json');
    if (url === `/v2/${name}/manifests/${tag}` || url === `/v2/${name}/manifests/${sha(manifest)}`) {
      return send(200, manifest, 'application/vnd.docker.distribution.manifest.v2+json', sha(manifest));
    }
    const blob = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url);
    const body = blob ? blobs.get(blob[1]!) : undefined;
    if (body) return send(200, body, 'application/octet-stream', blob![1]);
    send(404, Buffer.from('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'), 'application/json');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
