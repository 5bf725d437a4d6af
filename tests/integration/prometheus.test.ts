import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, serve } from '../helpers/cli.js';
import { until } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { tempHome } from '../helpers/home.js';

const PROMETHEUS = '/usr/bin/prometheus';
const prometheusWhy = existsSync(PROMETHEUS) ? undefined : "Debian's prometheus package is not installed (/usr/bin/prometheus missing)";

/** A loopback port nobody listens on right now. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** Bursts of CPU with pauses: a counter that rises, without taking a whole core from the suites running beside it. */
const BURN = 'while :; do i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done; sleep 0.1; done';

const SCRAPE_TOKEN = 'scrape-' + 'a1b2c3d4e5f6'.repeat(3);

describeWith('prometheus', prometheusWhy, 'a real Prometheus scrapes novacron serve', () => {
  const t = tempHome('nc-obs-prom-');
  const tokenFile = join(t.home, 'scrape.token');
  let srv: Awaited<ReturnType<typeof serve>>;
  let prom: ChildProcess | undefined;
  let promUrl = '';
  let metricsUrl = '';
  let burnId = '';

  beforeAll(async () => {
    writeFileSync(tokenFile, `${SCRAPE_TOKEN}\n`, { mode: 0o600 });
    srv = await serve(t.env, ['--port', '0', '--metrics-listen', '127.0.0.1:0', '--metrics-token-file', tokenFile]);
    metricsUrl = /Metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(srv.stdout())![1]!;
  });
  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    }
    if (burnId) await cli(['rm', '--force', burnId], t.env);
    await srv.stop();
    t.cleanup();
  });

  it('refuses /metrics without a token, and the scrape token opens /metrics only', async () => {
    const main = new URL('metrics', srv.url).href;
    expect((await fetch(main)).status).toBe(401);
    expect((await fetch(main, { headers: { Authorization: 'Bearer not-the-token' } })).status).toBe(401);
    expect((await fetch(metricsUrl)).status).toBe(401);
    const scrape = { Authorization: `Bearer ${SCRAPE_TOKEN}` };
    expect((await fetch(main, { headers: scrape })).status).toBe(200);
    expect((await fetch(main, { headers: { Authorization: `Bearer ${srv.token}` } })).status).toBe(200);
    // It is a read-only credential: not the UI, not the WebSocket, and never traded for the server's cookie.
    expect((await fetch(srv.url, { headers: scrape })).status).toBe(401);
    const traded = await fetch(`${main}?token=${SCRAPE_TOKEN}`, { headers: scrape, redirect: 'manual' });
    expect(traded.status).toBe(200);
    expect(traded.headers.get('set-cookie')).toBeNull();
    const r = await fetch(metricsUrl, { headers: scrape });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await r.text()).toContain('novacron_driver_available{driver="process"} 1');
    expect((await fetch(metricsUrl.replace('/metrics', '/'), { headers: scrape })).status).toBe(404);
    // The token file's path is said; the token never is.
    expect(srv.stdout()).toContain(tokenFile);
    expect(srv.stdout() + srv.stderr()).not.toContain(SCRAPE_TOKEN);
  });

  it("answers a PromQL query for a running workload's CPU counter, rising", async () => {
    burnId = (await cli(['create', '--driver', 'process', '--name', 'prom-burn', '--cmd', '/bin/sh', '--arg=-c', '--arg', BURN], t.env)).stdout.trim();
    expect((await cli(['start', burnId], t.env)).code).toBe(0);

    const dir = join(t.home, 'prometheus');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const target = new URL(metricsUrl).host;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: novacron',
        '    scrape_interval: 1s',
        '    scrape_timeout: 1s',
        '    metrics_path: /metrics',
        '    authorization:',
        '      type: Bearer',
        `      credentials_file: ${tokenFile}`,
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    chmodSync(tokenFile, 0o600);
    const check = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
    if (!check.error) expect(check.status, check.stdout + check.stderr).toBe(0);

    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    let promLog = '';
    prom = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    prom.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));

    const query = async (q: string): Promise<number | undefined> => {
      try {
        const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
        const body = (await r.json()) as { data?: { result?: { value: [number, string] }[] } };
        const v = body.data?.result?.[0]?.value[1];
        return v === undefined ? undefined : Number(v);
      } catch {
        return undefined; // not up yet
      }
    };
    const series = `novacron_workload_cpu_seconds_total{driver="process",id="${burnId}",name="prom-burn"}`;
    const first = await until(`Prometheus to have ${series} (its log: ${promLog})`, () => query(series), (v) => v !== undefined && v > 0, 30_000);
    // Two scrape intervals later, the counter has risen.
    await new Promise((r) => setTimeout(r, 2_500));
    const second = await query(series);
    expect(second).toBeGreaterThan(first!);
    // Prometheus sees the target up, through the scrape token.
    const targets = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string }[] } };
    expect(targets.data.activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });
    expect(await query(`novacron_workload_state{id="${burnId}",state="running"}`)).toBe(1);
    expect(await query('novacron_operations_total{driver="process",operation="workloads.start",result="ok"}')).toBe(1);
    expect(await query('novacron_operation_duration_seconds_count{driver="process",operation="workloads.create"}')).toBe(1);
  });
});

describe('serve refuses a malformed metrics configuration, naming the flag', () => {
  const t = tempHome('nc-obs-flags-');
  afterAll(() => t.cleanup());

  it.each([
    [['--metrics-listen', 'nonsense'], 2, /^novacron: INVALID_ARGUMENT: --metrics-listen: must be HOST:PORT/],
    [['--metrics-listen', '127.0.0.1:99999'], 2, /^novacron: INVALID_ARGUMENT: --metrics-listen: port must be 0…65535, got 99999/],
    [['--metrics-listen', '203.0.113.7:9464'], 2, /^novacron: INVALID_ARGUMENT: --metrics-listen: cannot listen on '203\.0\.113\.7'/],
    [['--metrics-token-file', '/nonexistent/token'], 2, /^novacron: INVALID_ARGUMENT: --metrics-token-file: cannot read \/nonexistent\/token: no such file/],
    [['--metrics-token-file', '/'], 2, /^novacron: INVALID_ARGUMENT: --metrics-token-file: cannot read \/: is a directory/],
  ])('%j', async (args, code, err) => {
    const r = await cli(['serve', '--port', '0', ...args], t.env, 20_000);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code, stderr: expect.stringMatching(err) });
  });

  it('says what is wrong with a token file without ever printing its content', async () => {
    const cases: [string, RegExp][] = [
      ['', /is empty/],
      ['short-secret', /too short: use at least 16 characters/],
      ['two words secret-secret-secret', /must hold one token on one line, without spaces/],
    ];
    for (const [content, err] of cases) {
      const f = join(t.home, 'tok');
      writeFileSync(f, content, { mode: 0o600 });
      const r = await cli(['serve', '--port', '0', '--metrics-token-file', f], t.env, 20_000);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^novacron: INVALID_ARGUMENT: --metrics-token-file: .*${err.source}`));
      if (content) expect(r.stderr).not.toContain(content);
    }
  });

  it('a metrics address already in use is a CONFLICT naming --metrics-listen', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const { port } = blocker.address() as { port: number };
    const r = await cli(['serve', '--port', '0', '--metrics-listen', `127.0.0.1:${port}`], t.env, 20_000);
    blocker.close();
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^novacron: CONFLICT: --metrics-listen: 127\.0\.0\.1:\d+ is already in use/);
  });
});
