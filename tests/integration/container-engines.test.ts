import { execFileSync, execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DriverInfo } from '../../shared/capabilities.js';
import type { CoreEvent, MetricsSample } from '../../shared/model.js';
import { BIN, cli } from '../helpers/cli.js';
import { openTestCore, until } from '../helpers/core.js';
import { busyboxImage, cleanupPrefix, docker, dockerWhy, tcpProxy, uniquePrefix } from '../helpers/docker.js';
import { describeWith } from '../helpers/engines.js';
import { tempHome } from '../helpers/home.js';

const containerOf = (list: DriverInfo[]) => list.find((d) => d.id === 'container')!;

describeWith('dockerd', dockerWhy(), 'container driver: how it reaches engines, and how it says it cannot', () => {
  const P = uniquePrefix('eng');
  const IMG = `${P}-img:1`;
  const d = docker();
  beforeAll(async () => {
    await busyboxImage(d, IMG);
  });
  afterAll(async () => {
    await cleanupPrefix(d, P);
  });

  it('says why the engine is unavailable: socket missing, engine not answering; the list shows an error, not nothing', async () => {
    const t = await openTestCore('nc-ct-');
    try {
      await t.client.call('config.set', { values: { 'container.docker_host': `unix://${t.home}/missing.sock` } });
      const info = containerOf(await t.client.call('drivers.list', { refresh: true }));
      expect(info).toMatchObject({ available: false, reason: expect.stringContaining('socket missing') });
      expect(info.capabilities.create).toMatchObject({ available: false, reason: expect.stringContaining('socket missing') });
      const all = await t.client.call('workloads.list', {});
      expect(all.errors).toContainEqual(expect.objectContaining({ driver: 'container', code: 'UNAVAILABLE', message: expect.stringContaining('socket missing') }));
      await expect(t.client.call('workloads.list', { driver: 'container' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });

      // A socket that takes connections but never answers.
      const mute = join(t.home, 'mute.sock');
      const server: Server = createServer(() => undefined).listen(mute);
      await t.client.call('config.set', { values: { 'container.docker_host': `unix://${mute}` } });
      const t0 = Date.now();
      const muted = containerOf(await t.client.call('drivers.list', { refresh: true }));
      expect(muted).toMatchObject({ available: false, reason: expect.stringContaining('not answering') });
      expect(Date.now() - t0).toBeLessThan(8000);
      server.close();
    } finally {
      await t.close();
    }
  });

  it('says "permission denied" to a user outside the docker group', async () => {
    const t = tempHome('nc-ct-');
    chmodSync(t.home, 0o777);
    try {
      const out = await new Promise<string>((resolve) =>
        execFile(process.execPath, [BIN, 'drivers', '--json'], { env: { ...t.env, HOME: t.home }, uid: 65534, gid: 65534 }, (_e, stdout) => resolve(stdout)),
      );
      expect(containerOf(JSON.parse(out) as DriverInfo[])).toMatchObject({ available: false, reason: expect.stringContaining('permission denied') });
    } finally {
      t.cleanup();
    }
  });

  it('talks to an engine over tcp://: its stats stream for metrics, and its events, including the engine going away and coming back', async () => {
    const proxy = await tcpProxy();
    const t = await openTestCore('nc-ct-');
    const events: CoreEvent[] = [];
    try {
      await t.client.call('config.set', { values: { 'container.docker_host': proxy.address } });
      const info = containerOf(await t.client.call('drivers.list', { refresh: true }));
      expect(info).toMatchObject({ available: true, details: { host: proxy.address, metrics_source: 'engine API stats stream' } });
      const sub = t.core.events.subscribe((e) => events.push(e));
      const w = await t.client.call('workloads.create', { driver: 'container', name: `${P}-tcp`, image: IMG, cmd: 'sh', args: ['-c', 'while :; do :; done'], cpus: 0.3, start: true } as never);
      const samples: MetricsSample[] = [];
      const stop = t.client.subscribe('metrics', { id: w.id }, { event: (s) => samples.push(...s) });
      await until('stream samples', () => samples.length, (n) => n >= 3, 15_000);
      stop();
      const last = samples.at(-1)!;
      expect(last.source).toBe('engine API (stream)');
      expect(last.cpuPercent).toBeGreaterThan(2);
      expect(last.cpuPercent).toBeLessThan(40);
      await until('a start event', () => events.find((e) => e.type === 'workload' && e.info.id === w.id && e.info.state === 'running'), (e) => e !== undefined);

      await proxy.close();
      await until('went away', () => events.find((e) => e.type === 'notice' && e.message.includes('went away')), (e) => e !== undefined);
      await proxy.reopen();
      await until('back', () => events.find((e) => e.type === 'notice' && e.message.includes('answers again')), (e) => e !== undefined, 15_000);
      sub.dispose();
      await t.client.call('workloads.delete', { id: w.id, force: true });
    } finally {
      await t.close();
      await proxy.close();
    }
  });
});

const sshWhy = () => (existsSync('/usr/sbin/sshd') ? dockerWhy() : 'openssh-server is not installed (/usr/sbin/sshd missing)');

describeWith('sshd and dockerd', sshWhy(), 'container driver over ssh://', () => {
  let dir = '';
  let sshd: ChildProcess;
  let port = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nc-ct-ssh-'));
    mkdirSync(join(dir, 'home', '.ssh'), { recursive: true });
    mkdirSync('/run/sshd', { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'home', '.ssh', 'id_ed25519')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'home', '.ssh', 'id_ed25519.pub')));
    port = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
      ].join('\n') + '\n',
    );
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: 'ignore' });
    await until('sshd listening', () => new Promise<boolean>((r) => { const c = createServer(); c.once('error', () => r(true)); c.listen(port, '127.0.0.1', () => c.close(() => r(false))); }), (up) => up);
  });
  afterAll(() => {
    sshd?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('detects and lists the engine through ssh (docker system dial-stdio on the far side)', async () => {
    const t = tempHome('nc-ct-');
    try {
      const env: NodeJS.ProcessEnv = { ...t.env, HOME: join(dir, 'home'), DOCKER_HOST: `ssh://root@127.0.0.1:${port}` };
      delete env.SSH_AUTH_SOCK;
      const r = await cli(['drivers', '--json'], env);
      const info = containerOf(JSON.parse(r.stdout) as DriverInfo[]);
      expect(info).toMatchObject({ available: true, details: { host: `ssh://root@127.0.0.1:${port}` } });
      const ls = await cli(['ls', '--driver', 'container', '--json'], env);
      expect(ls.code).toBe(0);
      expect(JSON.parse(ls.stdout)).toMatchObject({ workloads: expect.any(Array), errors: [] });
    } finally {
      t.cleanup();
    }
  });
});
