import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LINUX_BANNER, tinyLinux, tinyLinuxWhy } from '../helpers/guests.js';
import { qemuPids, qemuWhy } from '../helpers/qemu.js';
import { expect, test } from './fixtures.js';
import { docShot, watchFor } from './page-helpers.js';
import { canvasPixels, findText, sameness, screendump } from './vnc-pixels.js';

const why = qemuWhy() ?? tinyLinuxWhy();

test.describe.configure({ mode: 'serial' });

/**
 * One VM through the whole control room, booted once: the wizard, the console (pixels, not
 * "a canvas exists"), typing in both directions, the serial terminal, metrics, a snapshot,
 * pause, resume, stop and delete.
 */
test('a tiny Linux VM from the wizard through console, terminal, metrics, snapshot, migration, pause, resume, stop, crash and delete', async ({ app }) => {
  test.skip(why !== undefined && process.env.CI !== 'true', why ?? '');
  test.setTimeout(240_000);
  const { page } = app;
  const web = app.mode === 'web';
  if (web) mkdirSync('docs/screenshots', { recursive: true });
  const linux = tinyLinux();

  await app.open('#/workloads');
  await page.getByTestId('create-kvm').click();
  await page.getByTestId('field-name').fill('e2e-linux');
  await page.getByTestId('field-memoryMB').fill('128');
  await page.getByTestId('field-cpus').fill('0');
  await expect(page.getByTestId('error-cpus')).toHaveText('must be at least 1');
  await page.getByTestId('field-cpus').fill('1');
  await page.getByTestId('field-diskKind').selectOption('new');
  await page.getByTestId('field-disk').fill('1');
  await page.getByTestId('field-initrd').fill(linux.initrd);
  await expect(page.getByTestId('error-initrd')).toHaveText('needs a kernel');
  await page.getByTestId('field-kernel').fill(linux.kernel);
  await page.getByTestId('field-append').fill(linux.append);
  await page.getByTestId('field-accel').selectOption('tcg');
  if (web) await docShot(page, 'create-vm');
  await page.getByTestId('create-submit').click();

  const badge = page.locator('[data-testid^="detail-state-kvm:"]');
  await expect(badge).toHaveText('running', { timeout: 60_000 });
  const id = (await badge.getAttribute('data-testid'))!.replace('detail-state-', '');
  await expect(page.getByTestId('runtime-accel')).toHaveText('tcg');
  const qmp = (await page.getByTestId('runtime-qmp_socket').textContent())!;

  // The console: noVNC through the core's proxy. The banner the guest wrote on tty1 must be on
  // the canvas itself: the canvas equals QEMU's own screendump, and the banner is found on it
  // by the shape of its letters.
  await page.getByTestId('tab-console').click();
  await expect(page.getByTestId('console-status')).toHaveText('connected', { timeout: 30_000 });
  const canvas = page.getByTestId(`vnc-${id}`).locator('canvas');
  await expect.poll(() => canvas.evaluate((c: { width: number; height: number }) => `${c.width}x${c.height}`)).toBe('720x400');
  let bannerRow = -1;
  await expect
    .poll(
      async () => {
        const [truth, seen] = [await screendump(qmp), await canvasPixels(canvas)];
        bannerRow = findText(seen, LINUX_BANNER);
        return { sameAsQemu: sameness(truth, seen) > 0.99, bannerOnCanvas: bannerRow >= 0 && findText(truth, LINUX_BANNER) === bannerRow };
      },
      { timeout: 60_000, intervals: [1000] },
    )
    .toEqual({ sameAsQemu: true, bannerOnCanvas: true });
  if (web) await docShot(page, 'console');

  // Switching tabs keeps the very same connection (and canvas).
  await canvas.evaluate((c: { dataset: Record<string, string> }) => void (c.dataset.mark = 'kept'));
  await page.getByTestId('tab-overview').click();
  await page.getByTestId('tab-console').click();
  await expect(page.getByTestId('console-status')).toHaveText('connected');
  await expect(page.getByTestId(`vnc-${id}`).locator('canvas')).toHaveAttribute('data-mark', 'kept');

  // The serial console: the banner, and an answer computed by the guest's shell.
  await page.getByTestId('tab-terminal').click();
  const term = page.getByTestId(`terminal-${id}`);
  await expect(page.getByTestId('terminal-status')).toHaveText('open', { timeout: 15_000 });
  await expect(term).toContainText(LINUX_BANNER, { timeout: 30_000 });
  await term.click();
  await page.keyboard.type('echo answer-$((6*7))\n');
  await expect(term).toContainText('answer-42', { timeout: 15_000 });
  // Read what reaches tty1 (the VGA console) back onto the serial line…
  await page.keyboard.type('cat /dev/tty1 &\n');
  if (web) await docShot(page, 'terminal-vm');

  // …and type into the VM's screen through the console's paste: it arrives in the serial terminal.
  await page.getByTestId('tab-console').click();
  await page.getByTestId('console-paste').click();
  await page.getByTestId('paste-text').fill('typed-Through-VNC 1+1\n');
  await page.getByTestId('paste-send').click();
  await page.getByTestId('tab-terminal').click();
  await expect(term).toContainText('typed-Through-VNC 1+1', { timeout: 15_000 });
  // The text is on the VM's screen too, echoed on tty1 under the banner.
  await page.getByTestId('tab-console').click();
  await expect.poll(async () => findText(await canvasPixels(canvas), 'typed-Through-VNC 1+1'), { timeout: 10_000 }).toBeGreaterThan(bannerRow);

  // A console in a window of its own: the same route, alone.
  const [win] = await Promise.all([app.nextWindow(), page.getByTestId('console-window').click()]);
  await expect(win.getByTestId('console-status')).toHaveText('connected', { timeout: 20_000 });
  await expect(win.getByTestId(`vnc-${id}`).locator('canvas')).toBeVisible();
  if (web) await docShot(win, 'console-window', {});
  await win.close();

  // Live metrics with the history the core kept.
  await page.getByTestId('tab-metrics').click();
  await expect.poll(async () => Number(await page.getByTestId('chart-cpu').getAttribute('data-points')), { timeout: 15_000 }).toBeGreaterThan(3);
  await expect.poll(async () => Number(await page.getByTestId('chart-memory').getAttribute('data-last'))).toBeGreaterThan(16 * 1024 * 1024);
  if (web) await docShot(page, 'metrics-vm');

  // A snapshot with RAM, with progress, listed.
  await page.getByTestId('tab-snapshots').click();
  await page.getByTestId('snapshot-new').click();
  await page.getByTestId('snapshot-name').fill('bad/name');
  await expect(page.getByTestId('error-snapshot-name')).toHaveText("must not contain '/'");
  await page.getByTestId('snapshot-name').fill('before-pause');
  await page.getByTestId('snapshot-take').click();
  await expect(page.getByTestId('snapshot-before-pause')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('snapshot-before-pause')).toContainText('RAM');
  if (web) await docShot(page, 'snapshots');

  // Live migration onto a fresh QEMU on this host: progress with bytes and downtime, then the
  // console and the serial terminal find the new QEMU by themselves.
  await page.getByTestId('tab-overview').click();
  const pidBefore = await page.getByTestId('runtime-pid').textContent();
  await page.getByTestId(`action-migrate-${id}`).click();
  await expect(page.getByTestId('migrate-to')).toHaveValue('local');
  const sawProgress = await watchFor(page, 'migrate-progress');
  await page.getByTestId('migrate-start').click();
  await expect(page.getByTestId('migrate-dialog')).toHaveCount(0, { timeout: 60_000 });
  expect(await sawProgress()).toBe(true);
  await expect(page.getByTestId('runtime-pid')).not.toHaveText(pidBefore ?? '');
  await page.getByTestId('notifications-open').click();
  await expect(page.getByTestId('notification').filter({ hasText: 'migrated to local' })).toContainText(/downtime \d+ ms/);
  await page.keyboard.press('Escape');
  await page.getByTestId('tab-console').click();
  await expect(page.getByTestId('console-status')).toHaveText('connected', { timeout: 20_000 });
  await expect.poll(async () => findText(await canvasPixels(canvas), 'typed-Through-VNC 1+1'), { timeout: 10_000 }).toBe(bannerRow + 1);
  await page.getByTestId('tab-terminal').click();
  await expect(page.getByTestId('terminal-status')).toHaveText('open', { timeout: 20_000 });
  await term.click();
  await page.keyboard.type('echo after-$((40+2))\n');
  await expect(term).toContainText('after-42', { timeout: 15_000 });

  // Pause and resume: QEMU's own status follows; the buttons follow the state.
  await page.getByTestId(`action-pause-${id}`).click();
  await expect(badge).toHaveText('paused');
  await expect(page.getByTestId(`action-pause-${id}`)).toBeDisabled();
  await page.getByTestId('tab-overview').click();
  await expect(page.getByTestId('runtime-qemu_status')).toHaveText('paused');
  await page.getByTestId(`action-resume-${id}`).click();
  await expect(badge).toHaveText('running');

  // Stop: the ACPI power button; the guest powers off.
  await page.getByTestId(`action-stop-${id}`).click();
  await expect(badge).toHaveText('stopped', { timeout: 30_000 });
  await page.getByTestId('tab-console').click();
  await expect(page.getByTestId('console-status')).toHaveText('not running');

  // Started again and its QEMU killed: the driver reports the crash, and a notification says so.
  await page.getByTestId(`action-start-${id}`).click();
  await expect(badge).toHaveText('running', { timeout: 30_000 });
  await expect(page.getByTestId('console-status')).toHaveText('connected', { timeout: 30_000 });
  for (const pid of qemuPids(id)) process.kill(pid, 'SIGKILL');
  await expect(badge).toHaveText('crashed', { timeout: 15_000 });
  // One notification (the driver's words and the event log's record are one crash), in the session's
  // list: the toasts themselves may be crowded out by what other suites do to the shared engines.
  await page.getByTestId('notifications-open').click();
  const crash = page.getByTestId('notification').and(page.locator(`[data-workload="${id}"]`)).filter({ hasText: 'crashed' });
  await expect(crash).toHaveCount(1);
  await expect(crash).toHaveAttribute('data-level', 'error');
  await expect(crash).toContainText('SIGKILL');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('console-status')).toHaveText('not running');
  await expect(page.getByTestId('detail-exit')).toContainText('SIGKILL');

  await page.getByTestId(`action-delete-${id}`).click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('workload-rows')).toBeVisible();
  await expect(page.getByTestId(`workload-row-${id}`)).toHaveCount(0, { timeout: 30_000 });
  const dir = join(app.home, 'vms', id.slice(4));
  expect(existsSync(dir), existsSync(dir) ? `left in ${dir}: ${readdirSync(dir, { recursive: true }).join(', ')}` : '').toBe(false);
});
