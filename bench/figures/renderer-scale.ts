import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { WorkloadInfo } from '../../shared/model.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../lib/browser.js';
import { openContract } from '../lib/contract.js';
import { median, sleep } from '../lib/measure.js';
import { entry, type Entry } from '../lib/report.js';
import { droppedFrames, heapMiB, longestTask, type TaskTime } from '../lib/trace.js';
import type { BenchContext } from '../lib/context.js';

const ROW = '[data-testid^="workload-row-"]';

/**
 * Rows in the DOM stop changing: the inventory has painted what it will (all of them, or a
 * virtualised window). Counted with a bare CDP evaluation: a Playwright locator injects its
 * own large script into the page, and compiling that was a task of the page's main thread
 * as long as the page's own (30-90 ms), measured as if the page had run it.
 */
async function settled(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    let last = -1;
    for (let i = 0; i < 600; i++) {
      const { result } = await cdp.send('Runtime.evaluate', { expression: `document.querySelectorAll(${JSON.stringify(ROW)}).length`, returnByValue: true });
      const n = Number(result.value ?? 0);
      if (n > 0 && n === last) return n;
      last = n;
      await sleep(250);
    }
    throw new Error('the inventory never settled');
  } finally {
    await cdp.detach();
  }
}

/**
 * Figure 5: the inventory with 1,000 workloads (sleeping processes of the process
 * driver) in Chromium through the headless mode, while every workload changes once a
 * second. The changes are synthetic, pushed through the core's real event stream (each
 * workload's state flips between running and paused: every row's badge and buttons
 * change), so the renderer's side is what is measured: longest main-thread task from
 * Chromium's trace, frames missed, live JS heap. The baseline is the same table as
 * plain DOM, updated by hand at the same rate.
 */
export async function rendererScale(ctx: BenchContext): Promise<Entry[]> {
  const n = ctx.quick ? 100 : 1000;
  const windowMs = ctx.quick ? 4_000 : 10_000;
  // One page load is one sample of a noisy figure (30–75 ms seen here on the same build): the median of several.
  const loads = ctx.quick ? 1 : 5;
  const contract = await openContract(ctx);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  let feed: NodeJS.Timeout | undefined;
  try {
    ctx.log(`creating and starting ${n} processes`);
    const infos: WorkloadInfo[] = [];
    const queue = Array.from({ length: n }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const w = await contract.inproc.call('workloads.create', { driver: 'process', name: `r${String(i).padStart(4, '0')}`, cmd: 'sleep', args: ['3600'] });
          infos.push(await contract.inproc.call('workloads.start', { id: w.id }));
        }
      }),
    );

    let rows = 0;
    ctx.log('loading the inventory');
    const loadTask = await medianLoadTask(browser, loads, async (page) => {
      await page.goto(`${contract.url}?token=${contract.token}`);
      rows = await settled(page);
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${contract.url}?token=${contract.token}`);
    await settled(page);
    let tick = 0;
    feed = setInterval(() => {
      tick++;
      for (const w of infos) contract.core.events.publish({ type: 'workload', info: { ...w, state: tick % 2 ? 'paused' : 'running' } });
    }, 1000);
    await sleep(1500);
    ctx.log('measuring updates');
    let frames = { dropped: 0, frames: 0 };
    const updateTask = await longestTask(page, async () => {
      frames = await droppedFrames(page, windowMs);
    });
    clearInterval(feed);
    feed = undefined;
    const heap = await heapMiB(page);
    await page.close();

    const base = await plainTable(browser, n, windowMs, loads);
    // Wall time is the target (what the user waits); the thread's CPU time within the task says how much of it
    // was the page's own work and how much waiting for one of this 2-core machine's cores, or on another process.
    const cpu = (t: TaskTime, b: TaskTime) => `the main thread's CPU time within that task ${t.cpuMs.toFixed(1)} ms (the plain table's ${b.cpuMs.toFixed(1)} ms)`;
    const note = `${rows} rows in the DOM for ${n} workloads; ${frames.frames} frames drawn in ${windowMs / 1000} s; ${cpu(updateTask, base.task)}`;
    return [
      entry(`inventory, ${n} workloads, 1 Hz updates: longest main-thread task`, 'ms', updateTask.ms, base.task.ms, `plain DOM table of ${n} rows`, { max: 50 }, note),
      entry(`inventory, ${n} workloads: longest task while loading`, 'ms', loadTask.ms, base.loadTask.ms, `plain DOM table of ${n} rows`, { max: 50 }, `median of ${loads} loads in fresh pages of one browser (its code cache is warm after the first, as it is for an app opened before); ${cpu(loadTask, base.loadTask)}, median`),
      entry(`inventory, ${n} workloads, 1 Hz updates: frames missed`, 'frames', frames.dropped, base.dropped, `plain DOM table of ${n} rows`, { max: Math.round(windowMs / 1000) }, `over ${windowMs / 1000} s; target: at most one a second`),
      entry(`inventory, ${n} workloads: live JS heap`, 'MiB', heap, base.heap, `plain DOM table of ${n} rows`, { max: 64 }),
    ];
  } finally {
    if (feed) clearInterval(feed);
    await browser.close();
    const { workloads } = await contract.inproc.call('workloads.list', { driver: 'process' });
    await Promise.all(workloads.map((w) => contract.inproc.call('workloads.delete', { id: w.id, force: true }).catch(() => undefined)));
    await contract.close();
  }
}

/** The median, over `loads` fresh pages, of the longest main-thread task while `load` ran in one. */
async function medianLoadTask(browser: Browser, loads: number, load: (page: Page) => Promise<void>): Promise<TaskTime> {
  const tasks: TaskTime[] = [];
  for (let i = 0, crashes = 0; i < loads; i++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    let crashed = false;
    page.once('crash', () => (crashed = true));
    try {
      tasks.push(await longestTask(page, () => load(page)));
    } catch (e) {
      // Chromium's page died while traced once here (on the plain table; stopTracing found it closed): that load
      // is measured again, once, and said so. Any other failure, or a second such death, fails the figure.
      if (!(crashed || /has been closed/.test((e as Error).message)) || ++crashes > 1) throw e;
      console.error(`bench: renderer-scale: the page's renderer died while traced (${(e as Error).message.split('\n')[0]}); measuring that load again`);
      i--;
    } finally {
      await page.close().catch(() => undefined);
    }
  }
  return { ms: median(tasks.map((t) => t.ms)), cpuMs: median(tasks.map((t) => t.cpuMs)) };
}

/** The least a page can do: a static table of n rows whose state cells are rewritten every second. */
async function plainTable(browser: Browser, n: number, windowMs: number, loads: number) {
  const rows = Array.from({ length: n }, (_, i) => `<tr data-testid="workload-row-${i}"><td>r${i}</td><td>process</td><td class="s">running</td><td>/bin/sleep 3600</td></tr>`).join('');
  const html = `<!doctype html><html><body><table>${rows}</table><script>
    let t = 0; setInterval(() => { t++; for (const c of document.querySelectorAll('td.s')) c.textContent = t % 2 ? 'paused' : 'running'; }, 1000);
  </script></body></html>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const loadTask = await medianLoadTask(browser, loads, async (p) => {
    await p.goto(url);
    await settled(p);
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await page.goto(url);
    await settled(page);
    await sleep(1500);
    let f = { dropped: 0, frames: 0 };
    const task = await longestTask(page, async () => {
      f = await droppedFrames(page, windowMs);
    });
    return { task, loadTask, dropped: f.dropped, heap: await heapMiB(page) };
  } finally {
    await page.close();
    server.close();
  }
}
