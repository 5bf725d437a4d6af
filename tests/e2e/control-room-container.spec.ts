import { mkdirSync } from 'node:fs';
import { busyboxTarball } from '../helpers/busybox.js';
import { cleanupPrefix, docker, dockerWhy, uniquePrefix } from '../helpers/docker.js';
import { expect, test } from './fixtures.js';
import { docShot, fingerprint, lines, watchFor } from './page-helpers.js';

const P = uniquePrefix('ui');
const d = docker();

test.describe.configure({ mode: 'serial' });
test.beforeAll(() => {
  const why = dockerWhy();
  if (why && process.env.CI === 'true') throw new Error(`dockerd is required under CI but missing: ${why}`);
  test.skip(why !== undefined, why);
});
test.afterAll(async () => {
  if (!dockerWhy()) await cleanupPrefix(d, P);
});

test('a container from an imported image: terminal, live CPU chart, stop and delete', async ({ app }) => {
  test.setTimeout(180_000);
  const { page } = app;
  const web = app.mode === 'web';
  if (web) mkdirSync('docs/screenshots', { recursive: true });
  const image = `${P}-img:1`;

  // The wizard: import the busybox rootfs from a file (sent through the contract), with a progress bar.
  await app.open('#/workloads');
  await page.getByTestId('create-container').click();
  await page.getByTestId('import-toggle').click();
  await page.getByTestId('import-file').setInputFiles(busyboxTarball());
  await page.getByTestId('import-name').fill(image);
  const sawProgress = await watchFor(page, 'import-progress');
  await page.getByTestId('import-start').click();
  await expect(page.getByTestId('field-image')).toHaveValue(image, { timeout: 60_000 });
  expect(await sawProgress()).toBe(true);
  expect((await d.getImage(image).inspect()).RepoTags).toContain(image);

  const name = `${P}-${app.mode}`;
  await page.getByTestId('field-name').fill(name);
  await page.getByTestId('field-cmd').fill('sleep');
  await page.getByTestId('field-args').fill('3600');
  await page.getByTestId('field-env').fill('NOT A PAIR');
  await expect(page.getByTestId('error-env')).toContainText('KEY=VALUE');
  await page.getByTestId('field-env').fill('GREETING=hi');
  await page.getByTestId('field-memoryMB').fill('64');
  if (web) await docShot(page, 'create-container');
  await page.getByTestId('create-submit').click();
  const badge = page.locator('[data-testid^="detail-state-container:"]');
  await expect(badge).toHaveText('running', { timeout: 30_000 });
  const id = (await badge.getAttribute('data-testid'))!.replace('detail-state-', '');

  // The terminal: a shell in the container; what it prints is what the page shows.
  await page.getByTestId('tab-terminal').click();
  const term = page.getByTestId(`terminal-${id}`);
  await expect(page.getByTestId('terminal-status')).toHaveText('open', { timeout: 20_000 });
  await term.click();
  await page.keyboard.type('echo $GREETING\n');
  await expect.poll(() => lines(term), { timeout: 15_000 }).toContain('hi');

  // Its size reaches the TTY, and follows the window.
  const screen = term.locator('.terminal-screen');
  const size = async () => `${await screen.getAttribute('data-rows')} ${await screen.getAttribute('data-cols')}`;
  await page.keyboard.type('stty size\n');
  await expect.poll(() => lines(term), { timeout: 10_000 }).toContain(await size());
  const before = await size();
  await page.setViewportSize({ width: 1100, height: 760 });
  await expect.poll(size).not.toBe(before);
  await page.keyboard.type('clear; stty size\n');
  await expect.poll(() => lines(term), { timeout: 10_000 }).toContain(await size());
  await page.setViewportSize({ width: 1400, height: 860 });

  // Paste: the clipboard cannot be read without a permission, so a box to paste into opens.
  await page.getByTestId('terminal-paste').click();
  await page.getByTestId('paste-text').fill('echo pasted-$((2+3))\n');
  await page.getByTestId('paste-send').click();
  await expect.poll(() => lines(term), { timeout: 10_000 }).toContain('pasted-5');
  if (web) await docShot(page, 'terminal-container');

  // The CPU chart while idle…
  await page.getByTestId('tab-metrics').click();
  const cpu = page.getByTestId('chart-cpu');
  await expect.poll(async () => Number(await cpu.getAttribute('data-points')), { timeout: 15_000 }).toBeGreaterThan(2);
  // The machine is shared (2 cores, other suites): "busy" is judged against this idle figure, not 100%.
  const idleMax = Number(await cpu.getAttribute('data-max'));
  expect(idleMax).toBeLessThan(30);
  const idle = await fingerprint(cpu.locator('canvas'));

  // …moves when it burns CPU (the terminal session is still there after the tab switch).
  await page.getByTestId('tab-terminal').click();
  await expect(page.getByTestId('terminal-status')).toHaveText('open');
  await expect.poll(() => lines(term)).toContain('pasted-5');
  await term.click();
  await page.keyboard.type('while :; do :; done &\n');
  await page.getByTestId('tab-metrics').click();
  await expect.poll(async () => Number(await cpu.getAttribute('data-last')), { timeout: 20_000 }).toBeGreaterThan(Math.max(25, idleMax + 15));
  expect(await fingerprint(cpu.locator('canvas'))).not.toBe(idle);
  if (web) await docShot(page, 'metrics-container');

  // The inventory shows it too: the row's live CPU and its sparkline, for the rows on screen.
  await page.getByTestId('nav-workloads').click();
  await page.getByTestId('workload-search').fill(name);
  await expect.poll(async () => parseFloat((await page.getByTestId(`cpu-${id}`).textContent()) ?? ''), { timeout: 20_000 }).toBeGreaterThan(Math.max(25, idleMax + 15));
  await expect(page.getByTestId(`spark-${id}`).locator('polyline')).toHaveCount(1);
  await page.getByTestId('workload-search').fill('');

  // Out of memory (64 MiB): the engine's OOM event becomes an error notification tied to the container.
  await page.getByTestId(`workload-link-${id}`).click();
  await page.getByTestId('tab-terminal').click();
  await term.click();
  // dd's 200 MiB buffer is more than the 64 MiB limit: the kernel kills dd, the shell lives on.
  await page.keyboard.type('kill %1; dd if=/dev/zero of=/dev/null bs=200M count=1; echo dd-ended-$?\n');
  await expect.poll(() => lines(term), { timeout: 30_000 }).toContain('dd-ended-137');
  await page.getByTestId('notifications-open').click();
  const oom = page.getByTestId('notification').and(page.locator(`[data-workload="${id}"]`)).filter({ hasText: 'out of memory' });
  await expect(oom).toHaveCount(1, { timeout: 30_000 });
  await expect(oom).toHaveAttribute('data-level', 'error');
  if (web) await page.screenshot({ path: 'docs/screenshots/notifications.png' });
  await page.keyboard.press('Escape');
  await page.getByTestId('nav-workloads').click();

  // Stop from the row, delete from the command palette (asked first).
  await page.getByTestId(`action-stop-${id}`).click();
  await expect(page.getByTestId(`state-${id}`)).not.toHaveText('running', { timeout: 30_000 });
  await page.getByTestId(`workload-link-${id}`).click();
  await page.keyboard.press('Control+k');
  await page.getByTestId('palette-input').fill(`delete ${name}`);
  await page.keyboard.press('Enter');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId(`workload-row-${id}`)).toHaveCount(0, { timeout: 20_000 });
  await expect.poll(() => d.getContainer(name).inspect().then(() => 'there', (e: { statusCode?: number }) => e.statusCode)).toBe(404);
});
