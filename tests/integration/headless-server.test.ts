import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cli, serve } from '../helpers/cli.js';
import { tempHome } from '../helpers/home.js';
import { wsClient } from '../helpers/ws-client.js';
import { until } from '../helpers/core.js';

const upgrade = (url: string, headers: Record<string, string>) =>
  new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });

describe('novacron serve: the headless web mode', () => {
  const t = tempHome('nc-srv-');
  let srv: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    srv = await serve(t.env);
  });
  afterAll(async () => {
    await srv.stop();
    t.cleanup();
  });

  it('binds loopback and prints a URL carrying a token', () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(srv.token.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses every HTTP request without the token', async () => {
    for (const path of ['/', '/index.html', '/icon.svg', '/assets/', '/ws', '/nope']) {
      const r = await fetch(new URL(path, srv.url));
      expect(r.status, path).toBe(401);
    }
    expect((await fetch(new URL('/', srv.url), { headers: { Cookie: 'novacron_token=wrong' } })).status).toBe(401);
  });

  it('trades the URL token for an HttpOnly SameSite=Strict cookie and serves the UI with it', async () => {
    const r = await fetch(srv.loginUrl, { redirect: 'manual' });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('/');
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^novacron_token=[^;]+; HttpOnly; SameSite=Strict; Path=\//);
    const page = await fetch(srv.url, { headers: { Cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<div id="root">');
  });

  it('never serves a file outside the built UI', async () => {
    // Raw request lines: fetch() would normalise the dots away before sending.
    const port = Number(new URL(srv.url).port);
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/assets/../../package.json', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd']) {
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path, headers: { Authorization: `Bearer ${srv.token}` } }, (res) => {
          let b = '';
          res.on('data', (d: Buffer) => (b += d.toString()));
          res.on('end', () => resolve(b));
        }).on('error', reject);
      });
      expect(body, path).not.toContain('"name": "novacron"');
      expect(body, path).not.toContain('root:x:0:0');
    }
  });

  it('refuses WebSocket upgrades without the token or from another origin', async () => {
    const ws = srv.url.replace('http', 'ws') + 'ws';
    const origin = srv.url.slice(0, -1);
    expect(await upgrade(ws, {})).toBe(401);
    expect(await upgrade(ws, { Cookie: 'novacron_token=guess' })).toBe(401);
    expect(await upgrade(ws, { Cookie: `novacron_token=${srv.token}`, Origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade(ws, { Cookie: `novacron_token=${srv.token}`, Origin: origin })).toBe(101);
  });

  it('carries the contract over the WebSocket, and sees what the CLI does in another process', async () => {
    const { client, close } = await wsClient(srv.url.replace('http', 'ws') + 'ws', { Cookie: `novacron_token=${srv.token}` });
    const drivers = await client.call('drivers.list', {});
    expect(drivers).toHaveLength(6);
    await expect(client.call('workloads.create', { driver: 'process', name: '../x', cmd: 'sleep' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });

    const seen: string[] = [];
    const stop = client.subscribe('events', {}, { event: (e) => e.type === 'workload' && seen.push(`${e.info.name}:${e.info.state}`) });
    await new Promise((r) => setTimeout(r, 300));
    const created = await cli(['create', '--driver', 'process', '--name', 'from-cli', '--cmd', 'sleep', '--arg', '60'], t.env);
    const id = created.stdout.trim();
    await cli(['start', id], t.env);
    await until('the server saw the CLI start it', () => seen, (s) => s.includes('from-cli:running'), 5000);
    const { workloads } = await client.call('workloads.list', {});
    expect(workloads.find((w) => w.id === id)?.state).toBe('running');
    await client.call('workloads.delete', { id, force: true });
    stop();
    close();
  });

  it('slows down token guessing from one address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await fetch(srv.url, { headers: { Authorization: 'Bearer nope' } })).status);
    expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // Even the right token is refused while the address is throttled.
    expect((await fetch(srv.url, { headers: { Authorization: `Bearer ${srv.token}` } })).status).toBe(429);
  });
});

describe('novacron serve on a public address', () => {
  it('works but warns', async () => {
    const t = tempHome('nc-srv2-');
    const srv = await serve(t.env, ['--host', '0.0.0.0', '--port', '0']);
    expect((await fetch(srv.url, { headers: { Authorization: `Bearer ${srv.token}` } })).status).toBe(200);
    await srv.stop();
    t.cleanup();
    expect(srv.stderr()).toMatch(/warning: listening on 0\.0\.0\.0: anyone who can reach this address/);
  });
});

describe('novacron serve with a certificate', () => {
  it('speaks TLS only, with a Secure cookie', async () => {
    const t = tempHome('nc-tls-');
    const { execFileSync } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const https = await import('node:https');
    const cert = `${t.home}/cert.pem`;
    const key = `${t.home}/key.pem`;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const srv = await serve(t.env, ['--port', '0', '--tls-cert', cert, '--tls-key', key]);
    try {
      expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
        https.get(srv.loginUrl, { ca: readFileSync(cert) }, (r) => {
          r.resume();
          resolve({ status: r.statusCode ?? 0, cookie: String(r.headers['set-cookie'] ?? '') });
        }).on('error', reject);
      });
      expect(res.status).toBe(302);
      expect(res.cookie).toMatch(/HttpOnly; SameSite=Strict; Path=\/; Secure/);
      // Plain HTTP to the same port gets nowhere.
      const plain = await fetch(srv.url.replace('https:', 'http:')).then((r) => r.status, () => 'refused');
      expect(plain).not.toBe(200);
    } finally {
      await srv.stop();
      t.cleanup();
    }
  });

  it('refuses half a certificate naming the missing flag', async () => {
    const t = tempHome('nc-tls2-');
    const r = await cli(['serve', '--tls-cert', '/etc/hostname'], t.env);
    t.cleanup();
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('novacron: INVALID_ARGUMENT: --tls-key: give both --tls-cert and --tls-key\n');
  });

  it('names a certificate it cannot read, or that is no certificate (found by the fuzzer)', async () => {
    const t = tempHome('nc-tls3-');
    const missing = await cli(['serve', '--port', '0', '--tls-cert', '/nonexistent/c.pem', '--tls-key', '/etc/hostname'], t.env);
    const garbage = await cli(['serve', '--port', '0', '--tls-cert', '/etc/hostname', '--tls-key', '/etc/hostname'], t.env);
    t.cleanup();
    expect(missing).toMatchObject({ code: 2, stderr: "novacron: INVALID_ARGUMENT: --tls-cert: cannot read '/nonexistent/c.pem' (ENOENT)\n" });
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toMatch(/^novacron: INVALID_ARGUMENT: --tls-cert\/--tls-key: not a PEM certificate and its private key/);
  });
});
