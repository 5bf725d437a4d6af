import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cli, serve } from '../helpers/cli.js';
import { tempHome } from '../helpers/home.js';
import { wsClient } from '../helpers/ws-client.js';

/** Every file under a dir, as text. */
function readAll(dir: string): string {
  let text = '';
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) text += readFileSync(join(e.parentPath, e.name), 'utf8');
  }
  return text;
}

function untar(file: string): { dir: string; read(name: string): string } {
  const dir = mkdtempSync(join(tmpdir(), 'nc-obs-untar-'));
  execFileSync('tar', ['-xzf', file, '-C', dir]);
  return { dir, read: (name) => readFileSync(join(dir, name), 'utf8') };
}

describe('the core log and the diagnostics bundle never hold a secret', () => {
  const t = tempHome('nc-obs-diag-');
  const TOKEN = 'sekrit-' + 'z9y8x7w6'.repeat(4);
  const DOCKER_PASSWORD = 'hunter2-docker-password';
  const env = { ...t.env, NOVACRON_TOKEN: TOKEN, NOVACRON_LOG_LEVEL: 'debug' };
  let srv: Awaited<ReturnType<typeof serve>>;
  const untarred: string[] = [];
  beforeAll(async () => {
    writeFileSync(t.env.NOVACRON_CONFIG!, `container:\n  docker_host: tcp://admin:${DOCKER_PASSWORD}@127.0.0.1:2376\n`);
    srv = await serve(env);
  });
  afterAll(async () => {
    await srv.stop();
    for (const d of untarred) rmSync(d, { recursive: true, force: true });
    t.cleanup();
  });

  it('logs structured lines with levels, and the server token appears in none of them', async () => {
    // Every way the token travels: the login URL, the cookie, a Bearer header, a WebSocket, and wrong guesses.
    expect((await fetch(srv.loginUrl, { redirect: 'manual' })).status).toBe(302);
    expect((await fetch(srv.url, { headers: { Cookie: `novacron_token=${TOKEN}` } })).status).toBe(200);
    expect((await fetch(new URL('metrics', srv.url), { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(new URL('/nope?token=wrong', srv.url))).status).toBe(401);
    const { client, close } = await wsClient(srv.url.replace('http', 'ws') + 'ws', { Cookie: `novacron_token=${TOKEN}` });
    const w = await client.call('workloads.create', { driver: 'process', name: 'diag-sleeper', cmd: 'sleep', args: ['30'], env: { API_TOKEN: 'workload-env-secret-value' } });
    await client.call('workloads.start', { id: w.id });
    await client.call('workloads.delete', { id: w.id, force: true });
    await expect(client.call('workloads.start', { id: 'process:000000000000' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    close();
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(srv.url.replace('http', 'ws') + 'ws', { headers: { Cookie: 'novacron_token=guess' } });
      ws.once('unexpected-response', () => resolve());
      ws.once('error', () => resolve());
    });

    const logDir = join(t.home, 'state', 'logs');
    const lines = readFileSync(join(logDir, 'novacron.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) {
      expect(l).toMatchObject({ level: expect.stringMatching(/^(trace|debug|info|warn|error|fatal)$/), time: expect.any(String), pid: expect.any(Number) });
    }
    expect(lines.some((l) => l.role === 'headless' && l.msg === 'serving')).toBe(true);
    expect(lines.some((l) => l.level === 'warn' && l.msg === 'request refused' && l.path === '/nope')).toBe(true);
    expect(lines.some((l) => l.level === 'warn' && l.msg === 'operation failed' && l.code === 'NOT_FOUND')).toBe(true);
    expect(lines.some((l) => l.level === 'info' && l.method === 'workloads.create' && l.origin === 'headless')).toBe(true);

    const everything = readAll(join(t.home, 'state'));
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(encodeURIComponent(TOKEN));
    expect(everything).not.toContain('workload-env-secret-value');
    expect(everything).not.toContain(DOCKER_PASSWORD);
  });

  it('writes one archive with engine versions, the matrix, the redacted config, events and log lines', async () => {
    const r = await cli(['diag', '--json', '--events', '50', '--log-lines', '5'], env);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { file: string; bytes: number; entries: string[] };
    expect(out.file.startsWith(join(t.home, 'diagnostics') + '/')).toBe(true);
    expect(out.file).toMatch(/novacron-diag-.*\.tar\.gz$/);
    const x = untar(out.file);
    untarred.push(x.dir);
    expect(readdirSync(x.dir).sort()).toEqual([...out.entries].sort());

    const drivers = JSON.parse(x.read('drivers.json')) as { id: string; available: boolean; version?: string; capabilities: Record<string, unknown> }[];
    expect(drivers.map((d) => d.id)).toEqual(['kvm', 'container', 'containerd', 'kata-containers', 'process', 'libvirt']);
    expect(drivers.find((d) => d.id === 'process')).toMatchObject({ available: true, version: process.version });
    expect(x.read('capabilities.txt')).toMatch(/process \(Process\): available, version v\d+/);
    expect(x.read('capabilities.txt')).toContain('✗ console: a plain process has no display');

    const config = JSON.parse(x.read('config.json')) as { values: Record<string, unknown>; environment: Record<string, string> };
    expect(config.values['container.docker_host']).toBe('tcp://admin:[redacted]@127.0.0.1:2376');
    expect(config.environment.NOVACRON_TOKEN).toBe('[redacted]');
    expect(config.environment.NOVACRON_HOME).toBe(t.home);

    const events = x.read('events.jsonl').trim().split('\n').map((l) => JSON.parse(l) as { method?: string });
    expect(events.map((e) => e.method)).toEqual(expect.arrayContaining(['workloads.create', 'workloads.start', 'workloads.delete']));
    const logLines = x.read('novacron.log').trim().split('\n');
    expect(logLines.length).toBe(5);
    for (const l of logLines) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect(JSON.parse(x.read('manifest.json'))).toMatchObject({ novacron: '0.1.0', role: 'cli' });

    expect(readAll(x.dir)).not.toContain(TOKEN);
    expect(readAll(x.dir)).not.toContain(DOCKER_PASSWORD);
  });

  it('writes where --out says inside the data dir, never over an existing file, and through the contract too', async () => {
    const outDir = mkdtempSync(join(t.home, 'out-'));
    const file = join(outDir, 'bundle.tar.gz');
    expect((await cli(['diag', '--out', file], env)).stdout.trim()).toBe(file);
    const again = await cli(['diag', '--out', file], env);
    expect(again.code).toBe(6);
    expect(again.stderr).toMatch(/^novacron: CONFLICT: out: .*bundle\.tar\.gz exists; NovaCron does not overwrite it/);
    const bad = await cli(['diag', '--out', `${t.home}/nonexistent-dir/x.tar.gz`], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^novacron: INVALID_ARGUMENT: out: .*\/nonexistent-dir is not a directory/);
    // Outside the data dir, directly or through a link in it: refused, nothing written (issue 8).
    const outside = mkdtempSync(join(tmpdir(), 'nc-obs-out-'));
    untarred.push(outside);
    symlinkSync(outside, join(t.home, 'link-out'));
    for (const where of [outside, join(t.home, 'link-out'), join(t.home, 'link-out', 'x.tar.gz'), `${t.home}/../x.tar.gz`]) {
      const r = await cli(['diag', '--out', where], env);
      expect(r.code, where).toBe(2);
      expect(r.stderr, where).toMatch(/^novacron: INVALID_ARGUMENT: out: .* is not inside the data dir/);
    }
    expect(readdirSync(outside)).toEqual([]);
    expect((await cli(['diag', '--log-lines', 'many'], env)).stderr).toMatch(/INVALID_ARGUMENT: --log-lines: must be a whole number/);

    const { client, close } = await wsClient(srv.url.replace('http', 'ws') + 'ws', { Cookie: `novacron_token=${TOKEN}` });
    const viaUi = await client.call('diag.create', { out: outDir });
    close();
    expect(viaUi.file.startsWith(outDir + '/')).toBe(true);
    expect(viaUi.entries).toContain('drivers.json');
    const x = untar(viaUi.file);
    untarred.push(x.dir);
    expect(JSON.parse(x.read('manifest.json'))).toMatchObject({ role: 'headless' });
  });
});
