import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS, expect, test } from './fixtures.js';
import { docShot } from './page-helpers.js';

const procState = (pid: number) => {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2)[0];
  } catch {
    return undefined;
  }
};

test.describe.configure({ mode: 'serial' });

test('the capability matrix shows every driver, with reasons', async ({ app }) => {
  const { page } = app;
  await app.open('#/drivers');
  const matrix = page.getByTestId('capability-matrix');
  for (const d of ['kvm', 'container', 'containerd', 'kata-containers', 'process', 'libvirt']) {
    await expect(matrix.getByTestId(`driver-row-${d}`)).toBeVisible();
  }
  await expect(page.getByTestId('cap-process-pause')).toHaveAttribute('data-available', 'true');
  await expect(page.getByTestId('cap-process-console')).toHaveAttribute('data-available', 'false');
  // The reason shows on keyboard focus, not only on hover.
  await page.getByTestId('cap-process-console').focus();
  await expect(page.locator('#cap-process-console-why')).toBeVisible();
  await expect(page.locator('#cap-process-console-why')).toHaveText('a plain process has no display');
  if (app.mode === 'web') {
    mkdirSync('docs/screenshots', { recursive: true });
    await docShot(page, 'capability-matrix');
  }
});

test('a process workload from the form through its whole lifecycle', async ({ app }) => {
  const { page } = app;
  await app.open('#/workloads');
  await page.getByTestId('create-process').click();

  // Field-level validation as you type, with the contract's own words.
  await page.getByTestId('field-name').fill('a/b');
  await expect(page.getByTestId('error-name')).toHaveText("must not contain '/'");
  await page.getByTestId('field-name').fill('e2e-sleeper');
  await expect(page.getByTestId('error-name')).toHaveCount(0);

  // What only the core knows comes back onto the field it names.
  await page.getByTestId('field-cmd').fill('/no/such/program');
  await page.getByTestId('create-submit').click();
  await expect(page.getByTestId('error-cmd')).toHaveText('/no/such/program does not exist');
  expect(existsSync(join(app.home, 'processes')) ? readdirSync(join(app.home, 'processes')).filter((n) => !n.startsWith('.')) : []).toEqual([]);

  await page.getByTestId('field-cmd').fill('sleep');
  await page.getByTestId('field-args').fill('300');
  await page.getByTestId('create-submit').click();

  await expect(page.locator('[data-testid^="detail-state-"]')).toHaveText('stopped');
  const id = (await page.locator('[data-testid^="detail-state-"]').getAttribute('data-testid'))!.replace('detail-state-', '');
  expect(id).toMatch(/^process:[0-9a-f]{12}$/);
  const state = page.getByTestId(`detail-state-${id}`);

  await page.getByTestId(`action-start-${id}`).click();
  await expect(state).toHaveText('running');
  await expect(page.getByTestId('runtime-pid')).not.toHaveText('—');
  const pid = Number(await page.getByTestId('runtime-pid').textContent());
  expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('/usr/bin/sleep\u0000300\u0000');

  await page.getByTestId(`action-pause-${id}`).click();
  await expect(state).toHaveText('paused');
  expect(procState(pid)).toBe('T');
  await expect(page.getByTestId(`action-pause-${id}`)).toBeDisabled();

  await page.getByTestId(`action-resume-${id}`).click();
  await expect(state).toHaveText('running');
  expect(procState(pid)).not.toBe('T');

  await page.getByTestId(`action-stop-${id}`).click();
  await expect(state).toHaveText('stopped');
  await expect.poll(() => procState(pid) ?? 'gone').toMatch(/gone|Z/);

  await page.getByTestId(`action-delete-${id}`).click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('workload-list')).toBeVisible();
  await expect(page.getByTestId(`workload-row-${id}`)).toHaveCount(0);
  expect(existsSync(join(app.home, 'processes', id.slice('process:'.length)))).toBe(false);
});

test('a workload started elsewhere shows up, pushed, without a reload', async ({ app }) => {
  test.skip(app.mode !== 'web', 'uses the web server to create from another client');
  const { page } = app;
  await app.open('#/workloads');
  const { cli } = await import('../helpers/cli.js');
  const r = await cli(['create', '--driver', 'process', '--name', 'pushed', '--cmd', 'sleep', '--arg', '60'], app.env);
  const id = r.stdout.trim();
  await cli(['start', id], app.env);
  await expect(page.getByTestId(`state-${id}`)).toHaveText('running');
  await cli(['rm', '--force', id], app.env);
  await expect(page.getByTestId(`workload-row-${id}`)).toHaveCount(0);
});

test('the server refuses a browser that has no token', async ({ app }) => {
  test.skip(app.mode !== 'web', 'the desktop window has no server to refuse');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  const res = await page.goto(app.server!.url);
  expect(res?.status()).toBe(401);
  await expect(page.locator('body')).toContainText('needs its token');
  // And the WebSocket refuses the page's origin without the cookie.
  const wsStatus = await page.evaluate(
    (url) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => resolve('open');
        ws.onerror = () => resolve('refused');
      }),
    app.server!.url.replace('http', 'ws') + 'ws',
  );
  expect(wsStatus).toBe('refused');
  await browser.close();
});

test("a page whose app chunk cannot be fetched says so, not a blank window", async ({ app }) => {
  test.skip(app.mode !== 'web', 'the desktop window loads its files from disk');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    // The server went away after the first chunk: boot.tsx's chunk is refused.
    await page.route(/\/assets\/boot-[^/]+\.js$/, (r) => r.abort('connectionrefused'));
    await page.goto(`${app.server!.url}?token=${app.server!.token}`);
    await expect(page.locator('#root')).toContainText("NovaCron's page could not load");
    await expect(page.locator('#root')).toContainText('Reload it.');
  } finally {
    await browser.close();
  }
});
