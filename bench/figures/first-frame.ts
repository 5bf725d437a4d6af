import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { qemuArgs, RUN_FILES } from '../../electron/core/drivers/kvm/args.js';
import { bareVmDefinition } from '../lib/bare-vm.js';
import { bootSectorImage, bootSectorWhy } from '../../tests/helpers/guests.js';
import { bareQmp } from '../lib/bare-qmp.js';
import { firstFrame } from '../lib/bare-rfb.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../lib/browser.js';
import { openContract } from '../lib/contract.js';
import { median, runMs } from '../lib/measure.js';
import { entry, type Entry } from '../lib/report.js';
import type { BenchContext } from '../lib/context.js';

interface Timings {
  start: number;
  open: number;
  connect: number;
  total: number;
}

/** What bench/pages/first-frame.ts puts on the page's window. */
interface BenchPage {
  benchFirstFrame(id: string): Promise<Timings>;
}

/**
 * Figure 2: a stopped VM (the boot-sector guest, TCG) to the first frame a noVNC client
 * has drawn, the way the page does it: `workloads.start` and `console.open` over the
 * headless WebSocket, then noVNC through the console proxy. The baseline is the least it
 * can take: the same QEMU command line spawned by hand and a bare RFB client on its VNC
 * socket reading the first full framebuffer update.
 */
export async function firstFrameFigure(ctx: BenchContext): Promise<Entry[]> {
  const why = bootSectorWhy();
  if (why) throw new Error(`kvm: ${why}`);
  const boot = bootSectorImage();
  const contract = await openContract(ctx, {}, join(ctx.root, 'dist', 'bench-pages'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const reps = ctx.reps(10);
  const ours: Timings[] = [];
  const bare: number[] = [];
  try {
    const vm = await contract.inproc.call('workloads.create', { driver: 'kvm', name: 'ff', memoryMB: 32, disks: [{ base: boot }], network: 'none', accel: 'tcg' });
    const page = await browser.newPage();
    await page.goto(`${contract.url}first-frame.html?token=${contract.token}`);
    await page.waitForFunction(() => typeof (globalThis as unknown as Partial<BenchPage>).benchFirstFrame === 'function');
    const scratch = join(contract.home, 'bare');
    const def = bareVmDefinition('bare', boot, 32);
    mkdirSync(join(scratch, 'run'), { recursive: true });
    await runMs('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', boot, '-F', 'raw', join(scratch, 'd0.qcow2')]);
    for (let r = 0; r < reps + 1; r++) {
      const t = await page.evaluate((id) => (globalThis as unknown as BenchPage).benchFirstFrame(id), vm.id);
      await contract.inproc.call('workloads.stop', { id: vm.id, force: true });
      const t0 = performance.now();
      const child = spawn('qemu-system-x86_64', qemuArgs(def, { vmDir: scratch, accel: 'tcg' }), { cwd: join(scratch, 'run'), detached: true, stdio: 'ignore' });
      await firstFrame(join(scratch, 'run', RUN_FILES.vnc));
      const b = performance.now() - t0;
      const q = await bareQmp(join(scratch, 'run', RUN_FILES.qmp));
      await q.cmd('quit').catch(() => undefined);
      await q.closed;
      child.unref();
      rmSync(join(scratch, 'run', RUN_FILES.vnc), { force: true });
      if (r === 0) continue; // warm-up
      ours.push(t);
      bare.push(b);
      ctx.log(`first frame: ${t.total.toFixed(0)} ms (start ${t.start.toFixed(0)}, open ${t.open.toFixed(0)}, connect ${t.connect.toFixed(0)}); bare ${b.toFixed(0)} ms`);
    }
    await contract.inproc.call('workloads.delete', { id: vm.id, force: true });
  } finally {
    await browser.close();
    await contract.close();
  }
  const m = (k: keyof Timings) => median(ours.map((t) => t[k]));
  return [
    entry('VM start → first VNC frame in noVNC (through the proxy)', 'ms', m('total'), median(bare), 'spawned QEMU + bare RFB on its socket', { max: 300 }, `of which start ${m('start').toFixed(0)} ms, console.open ${m('open').toFixed(0)} ms, noVNC connect ${m('connect').toFixed(0)} ms`),
  ];
}
