import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../lib/browser.js';
import { Core } from '../../electron/core/core.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { entry, type Entry } from '../lib/report.js';
import { median, rssMiB, runMs, timeMs } from '../lib/measure.js';
import { startServe } from '../lib/serve.js';
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
    const up: number[] = [];
    const plain: number[] = [];
    let rss = 0;
    let rows = WORKLOADS;
    try {
      for (let r = 0; r < ctx.reps(5) + 1; r++) {
        const page = await browser.newPage();
        const t0 = performance.now();
        const srv = await startServe(ctx.root, t.env);
        const t1 = performance.now();
        await page.goto(srv.loginUrl);
        if (r === 0) {
          // Untimed first run: how many rows the inventory paints for 100 workloads (all, or a virtualised window).
          rows = await settledRows(page);
          await new Promise((res) => setTimeout(res, 5000)); // idle, with the page watching events
          rss = rssMiB(srv.child.pid!);
        } else {
          await page.locator(ROW).nth(rows - 1).waitFor({ state: 'attached' });
          painted.push(performance.now() - t0);
          up.push(t1 - t0);
        }
        await page.close();
        await srv.stop();
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
      entry('cold start: serve → 100-row inventory painted', 'ms', median(painted), median(plain), 'node http + static 100-row page', { max: 1000 }, `serve up (URL printed) after ${median(up).toFixed(0)} ms; ${rows} rows in the DOM`),
      entry('CLI: novacron ls --json (100 workloads)', 'ms', ls, bareNode, 'node -e 0', { max: 300 }),
      entry('core idle RSS, 100 workloads, UI open', 'MiB', rss, bareRss, 'idle node process', { max: 150 }),
    ];
  } finally {
    for (const id of ids) await client.call('workloads.delete', { id, force: true }).catch(() => undefined);
    core.dispose();
    t.cleanup();
  }
}

const ROW = '[data-testid^="workload-row-"]';

/** The number of rows once it stops changing. */
async function settledRows(page: Page): Promise<number> {
  let last = -1;
  for (let i = 0; i < 400; i++) {
    const n = await page.locator(ROW).count();
    if (n > 0 && n === last) return n;
    last = n;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the inventory never settled');
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
