import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  /** The thread's CPU time within the event, where Chromium records it. */
  tdur?: number;
  args?: { name?: string; data?: { frame?: string; frames?: { frame: string; processId: number; isOutermostMainFrame?: boolean }[]; processId?: number } };
}

const CATEGORIES = ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline'];

/** A task's wall time, and the CPU time its thread got within it (NaN where the trace has none). */
export interface TaskTime {
  ms: number;
  cpuMs: number;
}

/**
 * The longest task on the page's main thread while fn ran, from Chromium's own trace, in ms,
 * with its thread's CPU time: on a busy machine the two part when the thread waits for a
 * core (or on another process) inside the task.
 * Traced through a CDP session of the page's own (not browser.startTracing, whose state
 * outlives a page whose renderer died: no later trace could start in that browser).
 */
export async function longestTask(page: Page, fn: () => Promise<void>): Promise<TaskTime> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Tracing.start', { transferMode: 'ReturnAsStream', traceConfig: { includedCategories: CATEGORIES } });
    let failed: unknown;
    await fn().catch((e: unknown) => (failed = e));
    const complete = new Promise<{ stream?: string }>((resolve) => cdp.once('Tracing.tracingComplete', resolve));
    await cdp.send('Tracing.end');
    const { stream } = await complete;
    if (!stream) throw new Error('Chromium returned no trace');
    const chunks: Buffer[] = [];
    for (;;) {
      const r = await cdp.send('IO.read', { handle: stream });
      chunks.push(Buffer.from(r.data, r.base64Encoded ? 'base64' : 'utf8'));
      if (r.eof) break;
    }
    await cdp.send('IO.close', { handle: stream });
    if (failed) throw failed;
    const buf = Buffer.concat(chunks);
    // BENCH_TRACE_DIR: keep each trace, to open in Chromium's performance panel and see what the longest task did.
    if (process.env.BENCH_TRACE_DIR) writeFileSync(join(process.env.BENCH_TRACE_DIR, `trace-${Date.now()}.json`), buf);
    const parsed = JSON.parse(buf.toString('utf8')) as { traceEvents: TraceEvent[] } | TraceEvent[];
    return longestOf(Array.isArray(parsed) ? { traceEvents: parsed } : parsed);
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

/**
 * The renderer processes the traced page's main frame lived in: the one it had when tracing
 * started, and each one a navigation committed it to. Chromium traces the whole browser,
 * and other renderers (a WebUI page Chromium opens by itself) must not count as the page.
 */
function pageProcesses(events: TraceEvent[]): Set<number> | undefined {
  const started = events.find((e) => e.name === 'TracingStartedInBrowser')?.args?.data?.frames?.find((f) => f.isOutermostMainFrame);
  if (!started) return undefined;
  const pids = new Set([started.processId]);
  for (const e of events) {
    if (e.name === 'FrameCommittedInBrowser' && e.args?.data?.frame === started.frame && e.args.data.processId !== undefined) pids.add(e.args.data.processId);
  }
  return pids;
}

function longestOf(trace: { traceEvents: TraceEvent[] }): TaskTime {
  const pids = pageProcesses(trace.traceEvents);
  const mains = new Set(
    trace.traceEvents.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && (!pids || pids.has(e.pid))).map((e) => `${e.pid}:${e.tid}`),
  );
  // The page's main thread is the one of its renderers that worked the most.
  const busy = new Map<string, { total: number; max: TraceEvent | undefined }>();
  for (const e of trace.traceEvents) {
    if (e.ph !== 'X' || (e.name !== 'RunTask' && e.name !== 'ThreadControllerImpl::RunTask')) continue;
    const key = `${e.pid}:${e.tid}`;
    if (!mains.has(key)) continue;
    const b = busy.get(key) ?? { total: 0, max: undefined };
    b.total += e.dur ?? 0;
    if ((e.dur ?? 0) > (b.max?.dur ?? -1)) b.max = e;
    busy.set(key, b);
  }
  const top = [...busy.values()].sort((a, b) => b.total - a.total)[0]?.max;
  return { ms: (top?.dur ?? 0) / 1000, cpuMs: top?.tdur !== undefined ? top.tdur / 1000 : NaN };
}

/**
 * Counts frames the page missed over ms: requestAnimationFrame should come every 16.7 ms;
 * each longer gap misses round(gap / 16.7) − 1 frames.
 */
export async function droppedFrames(page: Page, ms: number): Promise<{ dropped: number; frames: number }> {
  return page.evaluate(
    (ms) =>
      new Promise<{ dropped: number; frames: number }>((resolve) => {
        // In the page: a browser global this Node-typed file does not know.
        const raf = (globalThis as unknown as { requestAnimationFrame(cb: (t: number) => void): number }).requestAnimationFrame.bind(globalThis);
        let last = performance.now();
        const end = last + ms;
        let dropped = 0;
        let frames = 0;
        const tick = (now: number) => {
          const gap = now - last;
          last = now;
          frames++;
          dropped += Math.max(0, Math.round(gap / (1000 / 60)) - 1);
          if (now < end) raf(tick);
          else resolve({ dropped, frames });
        };
        raf(tick);
      }),
    ms,
  );
}

/** The page's live JS heap after a full garbage collection, in MiB. */
export async function heapMiB(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    return usedSize / 1024 / 1024;
  } finally {
    await cdp.detach();
  }
}
