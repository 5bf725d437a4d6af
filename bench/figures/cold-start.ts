import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../lib/browser.js';
import { Core } from '../../electron/core/core.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { entry, type Entry } from '../lib/report.js';
import { median, rssMiB, runMs, timeMs } from '../lib/measure.js';
import type { BenchContext } from '../lib/context.js';

const WORKLOADS = 100;

/**
 * Figure 6: cold start with 100 workloads present. `novacron serve` to the inventory
 * painted, against a plain Node server painting a static 100-row page (what a browser
 * and a process start cost anyway); `novacron ls --json` against `node -e 0`; the idle
 * core's memory against an idle bare Node process.
 */
export async function coldStart(ctx: BenchContext): Promise<Entry[]> {
  const t = ctx.tempHome();
  const bin = join(ctx.root, 'bin', 'novacron.mjs');
  const core = await Core.open({ env: t.env });
  const client = inprocClient(core.router, 'test');
  const ids: string[] = [];
  try {
    for (let i = 0; i < WORKLOADS; i++) {
      const w = await client.call('workloads.create', { driver: 'process', name: `bench-${i}`, cmd: 'sleep', args: ['3600'] });
      ids.push(w.id);
      if (i % 2 === 0) await client.call('workloads.start', { id: w.id });
    }

    const ls = await timeMs(ctx.reps(10), () => runMs(process.execPath, [bin, 'ls', '--json'], t.env));
    const bareNode = await timeMs(ctx.reps(10), () => runMs(process.execPath, ['-e', '0']));

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const painted: number[] = [];
    const plain: number[] = [];
    let rss = 0;
    try {
      for (let r = 0; r < ctx.reps(5); r++) {
        const page = await browser.newPage();
        const t0 = performance.now();
        const srv = await startServe(bin, t.env);
        await page.goto(srv.loginUrl);
        await page.locator('[data-testid^="workload-row-"]').nth(WORKLOADS - 1).waitFor({ state: 'attached' });
        painted.push(performance.now() - t0);
        if (r === 0) {
          await new Promise((res) => setTimeout(res, 5000)); // idle, with the page watching events
          rss = rssMiB(srv.child.pid!);
        }
        await page.close();
        srv.child.kill('SIGTERM');
        await new Promise((res) => srv.child.once('exit', res));
      }
      for (let r = 0; r < ctx.reps(5); r++) {
        const page = await browser.newPage();
        const t0 = performance.now();
        const srv = await staticServer();
        await page.goto(srv.url);
        await page.locator('tr').nth(WORKLOADS - 1).waitFor({ state: 'attached' });
        plain.push(performance.now() - t0);
        await page.close();
        srv.close();
      }
    } finally {
      await browser.close();
    }
    const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((res) => setTimeout(res, 1000));
    const bareRss = rssMiB(idle.pid!);
    idle.kill();

    return [
      entry('cold start: serve → 100-row inventory painted', 'ms', median(painted), median(plain), 'node http + static 100-row page', { max: 1000 }),
      entry('CLI: novacron ls --json (100 workloads)', 'ms', ls, bareNode, 'node -e 0', { max: 300 }),
      entry('core idle RSS, 100 workloads, UI open', 'MiB', rss, bareRss, 'idle node process', { max: 150 }),
    ];
  } finally {
    for (const id of ids) await client.call('workloads.delete', { id, force: true }).catch(() => undefined);
    core.dispose();
    t.cleanup();
  }
}

function startServe(bin: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; loginUrl: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Open: (\S+)/.exec(out);
      if (m) resolve({ child, loginUrl: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
}

async function staticServer(): Promise<{ url: string; close(): void }> {
  const rows = Array.from({ length: WORKLOADS }, (_, i) => `<tr><td>bench-${i}</td><td>process</td><td>running</td></tr>`).join('');
  const html = `<!doctype html><html><body><table>${rows}</table></body></html>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}
