import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rendererDir } from '../../electron/core/base/app-root.js';
import { FailureThrottle, tokenMatches } from '../../electron/core/transport/auth.js';
import { serve } from '../helpers/cli.js';
import { tempHome } from '../helpers/home.js';

/**
 * Headless mode (issue 8): every HTTP route and WebSocket refuses a request without the
 * server's token, the scrape token opens /metrics and nothing else, upgrades must come
 * from the server's own origin, guessing is slowed down. Each probe comes from its own
 * loopback address (127.0.0.N), so the throttle that one probe trips never hides what
 * the next one would see.
 */
let nextAddr = 10;
const fresh = () => `127.0.${Math.floor(nextAddr / 250)}.${(nextAddr++ % 250) + 2}`;

function request(base: string, path: string, opts: { method?: string; headers?: Record<string, string>; from?: string } = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: Number(u.port), path, method: opts.method ?? 'GET', headers: opts.headers ?? {}, localAddress: opts.from ?? fresh() }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

function upgrade(url: string, headers: Record<string, string>, from = fresh()): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, localAddress: from });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

describe('headless mode: no route without the token', () => {
  const t = tempHome('nc-sec-');
  const scrape = randomBytes(24).toString('hex');
  const asset = readdirSync(join(rendererDir(), 'assets')).find((f) => f.endsWith('.js'))!;
  // Every route the server has: the page, its files, client-side routes, /metrics, the two WebSockets' paths, and nothing.
  const ROUTES = ['/', '/index.html', `/assets/${asset}`, '/icon.svg', '/icon.png', '/drivers', '/workloads/process:000000000000', '/metrics', '/ws', '/console', '/nope.txt', '/../package.json'];
  let srv: Awaited<ReturnType<typeof serve>>;
  let metricsBase: string;

  beforeAll(async () => {
    const file = join(t.home, 'scrape.token');
    writeFileSync(file, `${scrape}\n`);
    chmodSync(file, 0o600);
    srv = await serve(t.env, ['--port', '0', '--metrics-token-file', file, '--metrics-listen', '127.0.0.1:0']);
    metricsBase = /Metrics: (http:\/\/\S+)\/metrics/.exec(srv.stdout())![1]!;
  });
  afterAll(async () => {
    await srv.stop();
    t.cleanup();
  });

  it('binds loopback by default', () => {
    expect(new URL(srv.url).hostname).toBe('127.0.0.1');
  });

  it('refuses every route and method without a token, or with a wrong one', async () => {
    const wrong: Record<string, string>[] = [{}, { Authorization: 'Bearer nope' }, { Authorization: `Bearer ${srv.token}x` }, { Authorization: `Basic ${srv.token}` }, { Cookie: 'novacron_token=guess' }, { Cookie: `novacron_token=${srv.token.slice(0, -1)}` }];
    for (const path of ROUTES) {
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS']) {
        for (const headers of wrong) {
          const r = await request(srv.url, path, { method, headers });
          expect(r.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
          expect(r.body).not.toContain('<div id="root">');
          expect(r.body).not.toContain('novacron_workload');
        }
      }
      expect((await request(srv.url, `${path}${path.includes('?') ? '&' : '?'}token=wrong`)).status, path).toBe(401);
    }
  });

  it('serves every route with the token (cookie, Bearer or the URL), and security headers with it', async () => {
    const good: Record<string, string>[] = [{ Authorization: `Bearer ${srv.token}` }, { Cookie: `novacron_token=${encodeURIComponent(srv.token)}` }];
    for (const headers of good) {
      for (const path of ROUTES) {
        const r = await request(srv.url, path, { headers });
        const want = path === '/nope.txt' || path === '/../package.json' ? 404 : 200;
        expect(r.status, `${path} ${Object.keys(headers)[0]}`).toBe(want);
        if (path !== '/metrics') expect(r.headers['content-security-policy'], path).toContain("default-src 'self'");
      }
    }
    const viaUrl = await request(srv.url, `/?token=${encodeURIComponent(srv.token)}`);
    expect(viaUrl.status).toBe(302);
    expect(viaUrl.headers['set-cookie']?.[0]).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it('lets the scrape token open /metrics and nothing else', async () => {
    const scraper = { Authorization: `Bearer ${scrape}` };
    expect((await request(srv.url, '/metrics', { headers: scraper })).status).toBe(200);
    for (const path of ROUTES.filter((p) => p !== '/metrics')) expect((await request(srv.url, path, { headers: scraper })).status, path).toBe(401);
    // Never traded for the server's cookie, never in a cookie or the URL.
    expect((await request(srv.url, `/?token=${scrape}`)).status).toBe(401);
    expect((await request(srv.url, '/metrics', { headers: { Cookie: `novacron_token=${scrape}` } })).status).toBe(401);
    expect(await upgrade(`${srv.url.replace('http', 'ws')}ws`, scraper)).toBe(401);
    expect(await upgrade(`${srv.url.replace('http', 'ws')}console?ticket=x`, scraper)).toBe(401);
  });

  it('serves only /metrics on the separate metrics address, and only with a Bearer token', async () => {
    for (const path of ['/metrics', '/', '/ws']) expect((await request(metricsBase, path)).status, path).toBe(401);
    expect((await request(metricsBase, '/metrics', { headers: { Cookie: `novacron_token=${srv.token}` } })).status).toBe(401);
    expect((await request(metricsBase, '/metrics', { headers: { Authorization: `Bearer ${scrape}` } })).status).toBe(200);
    expect((await request(metricsBase, '/metrics', { headers: { Authorization: `Bearer ${srv.token}` } })).status).toBe(200);
    expect((await request(metricsBase, '/', { headers: { Authorization: `Bearer ${srv.token}` } })).status).toBe(404);
  });

  it('refuses every WebSocket without the token, from another origin, and a console without its ticket', async () => {
    const ws = srv.url.replace('http', 'ws');
    const origin = srv.url.replace(/\/$/, '');
    const auth = { Authorization: `Bearer ${srv.token}` };
    for (const path of ['ws', 'console?ticket=forged', 'console', 'nope', 'metrics']) {
      expect(await upgrade(`${ws}${path}`, {}), path).toBe(401);
      expect(await upgrade(`${ws}${path}`, { Cookie: 'novacron_token=guess' }), path).toBe(401);
      expect(await upgrade(`${ws}${path}`, { ...auth, Origin: 'http://evil.example' }), path).toBe(403);
      expect(await upgrade(`${ws}${path}`, { ...auth, Origin: 'null' }), path).toBe(403);
      expect(await upgrade(`${ws}${path}`, { ...auth, Origin: origin.replace('127.0.0.1', 'localhost') }), path).toBe(403);
    }
    expect(await upgrade(`${ws}ws`, { ...auth, Origin: origin })).toBe(101);
    expect(await upgrade(`${ws}console?ticket=forged`, { ...auth, Origin: origin })).toBe(403);
    expect(await upgrade(`${ws}console`, { ...auth, Origin: origin })).toBe(403);
    expect(await upgrade(`${ws}nope`, { ...auth, Origin: origin })).toBe(404);
  });

  it('slows guessing down: an address that keeps failing is refused, even with the right token, on HTTP and WebSocket alike', async () => {
    const from = fresh();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await request(srv.url, '/', { headers: { Authorization: `Bearer guess-${i}` }, from })).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    expect((await request(srv.url, '/', { headers: { Authorization: `Bearer ${srv.token}` }, from })).status).toBe(429);
    expect((await request(srv.url, '/metrics', { headers: { Authorization: `Bearer ${scrape}` }, from })).status).toBe(429);
    expect(await upgrade(`${srv.url.replace('http', 'ws')}ws`, { Authorization: `Bearer ${srv.token}` }, from)).toBe(429);
    // Other addresses are not punished for it.
    expect((await request(srv.url, '/', { headers: { Authorization: `Bearer ${srv.token}` } })).status).toBe(200);
  });
});

describe('the token check itself', () => {
  it('compares in constant time: hashed first, so neither a wrong prefix nor a wrong length answers sooner', () => {
    const token = randomBytes(24).toString('base64url');
    expect(tokenMatches(token, token)).toBe(true);
    for (const wrong of [undefined, '', 'x', token.slice(0, -1), `${token}x`, `x${token.slice(1)}`, 'a'.repeat(10_000)]) expect(tokenMatches(wrong, token)).toBe(false);
    // Timing: a guess wrong at its first character and one wrong at its last take the same time (medians of interleaved runs).
    const early = `x${token.slice(1)}`;
    const late = `${token.slice(0, -1)}x`;
    const short = 'x';
    const times: Record<string, number[]> = { early: [], late: [], short: [] };
    for (let i = 0; i < 3000; i++) {
      for (const [k, g] of [['early', early], ['late', late], ['short', short]] as const) {
        const t0 = process.hrtime.bigint();
        tokenMatches(g, token);
        times[k]!.push(Number(process.hrtime.bigint() - t0));
      }
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
    const [e, l, s] = [median(times.early!), median(times.late!), median(times.short!)];
    expect(Math.max(e, l) / Math.min(e, l)).toBeLessThan(1.5);
    expect(Math.max(e, s) / Math.min(e, s)).toBeLessThan(1.5);
  });

  it('throttles after ten failures a minute and forgets an address that succeeds', () => {
    const th = new FailureThrottle(10, 60_000);
    for (let i = 0; i < 9; i++) th.fail('a');
    expect(th.blocked('a')).toBe(false);
    th.fail('a');
    expect(th.blocked('a')).toBe(true);
    expect(th.blocked('b')).toBe(false);
    th.fail('b');
    th.succeed('b');
    expect(th.blocked('b')).toBe(false);
  });
});
