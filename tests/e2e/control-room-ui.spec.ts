import { mkdirSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { cli, serve } from '../helpers/cli.js';
import { bootSectorWhy, BOOT_BANNER } from '../helpers/guests.js';
import { qemuWhy } from '../helpers/qemu.js';
import { plainVncServer } from '../helpers/vnc-server.js';
import { CHROMIUM, CHROMIUM_ARGS, expect, test } from './fixtures.js';
import { docShot, focusedTestId } from './page-helpers.js';
import { canvasPixels, findText, sameness, screendump } from './vnc-pixels.js';


test.describe.configure({ mode: 'serial' });

test('the inventory: search, filters, groups, sorting, live numbers, keyboard, palette, themes and notifications', async ({ app }) => {
  test.setTimeout(120_000);
  const { page } = app;
  const web = app.mode === 'web';
  if (web) mkdirSync('docs/screenshots', { recursive: true });
  // A dozen processes: a few running (one of them busy), the rest stopped.
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const script = i === 0 ? 'while :; do :; done' : 'sleep 600';
    const r = await cli(['create', '--driver', 'process', '--name', `inv-${String(i).padStart(2, '0')}`, '--cmd', 'sh', '--arg=-c', '--arg', script], app.env);
    ids.push(r.stdout.trim());
  }
  for (const id of ids.slice(0, 3)) expect((await cli(['start', id], app.env)).code).toBe(0);
  const [busy, idle, , victim] = ids as [string, string, string, string];

  await app.open('#/workloads');
  const rows = page.locator('[data-testid^="workload-row-process:"]');
  await expect(rows).toHaveCount(12);
  // Started from the row's own button.
  await page.getByTestId(`action-start-${victim}`).click();
  await expect(page.getByTestId(`state-${victim}`)).toHaveText('running');
  // Live numbers for the running rows on screen, from one batched stream.
  await expect.poll(async () => parseFloat((await page.getByTestId(`cpu-${busy}`).textContent()) ?? ''), { timeout: 20_000 }).toBeGreaterThan(20);
  await expect(page.getByTestId(`mem-${idle}`)).toHaveText(/KiB|MiB/);
  await expect(page.getByTestId(`uptime-${idle}`)).toHaveText(/^\d+[smhd]/);
  await expect(page.getByTestId(`cpu-${ids[8]!}`)).toHaveText('—');
  if (web) await docShot(page, 'inventory');

  await page.getByTestId('workload-search').fill('inv-0');
  await expect(rows).toHaveCount(10);
  await page.getByTestId('filter-state').selectOption('running');
  await expect(rows).toHaveCount(4);
  await page.getByTestId('filter-state').selectOption('');
  await page.getByTestId('workload-search').fill('');
  // Other suites' containers share this machine's engines: group our processes only.
  await page.getByTestId('filter-driver').selectOption('process');
  await page.getByTestId('group-by').selectOption('state');
  await expect(page.getByTestId('group-running')).toContainText('(4)');
  await expect(page.getByTestId('group-stopped')).toContainText('(8)');
  await page.getByTestId('group-by').selectOption('none');
  await page.getByTestId('sort-name').click();
  await expect(rows.first()).toHaveAttribute('data-testid', `workload-row-${ids[11]!}`);
  await page.getByTestId('sort-cpu').click();
  await expect(page.getByTestId('sort-cpu')).toHaveAttribute('aria-sort', 'descending');

  // The keyboard: / searches, arrows walk the rows, Enter opens one.
  await page.getByTestId('sort-name').click();
  await page.locator('main').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('/');
  await expect.poll(() => focusedTestId(page)).toBe('workload-search');
  await page.keyboard.type('inv-0');
  await page.getByTestId(`workload-link-${ids[0]!}`).focus();
  await page.keyboard.press('ArrowDown');
  await expect.poll(() => focusedTestId(page)).toBe(`workload-link-${ids[1]!}`);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId(`detail-state-${idle}`)).toHaveText('running');
  // On a workload: p pauses and resumes, ] goes to the next tab.
  await page.locator('h1').click();
  await page.keyboard.press('p');
  await expect(page.getByTestId(`detail-state-${idle}`)).toHaveText('paused');
  await page.keyboard.press('p');
  await expect(page.getByTestId(`detail-state-${idle}`)).toHaveText('running');
  await page.keyboard.press(']');
  await expect(page.getByTestId('tab-metrics')).toHaveAttribute('aria-selected', 'true');

  // The command palette and the list of keys.
  await page.keyboard.press('Control+k');
  await page.getByTestId('palette-input').fill('go drivers');
  if (web) await docShot(page, 'command-palette', {});
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('capability-matrix')).toBeVisible();
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shortcuts')).toHaveCount(0);

  // Themes: the OS's choice until the admin picks one.
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.getByTestId('theme-toggle').click(); // light
  await page.getByTestId('theme-toggle').click(); // dark, whatever the OS says
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await app.open('#/workloads');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect.poll(async () => parseFloat((await page.getByTestId(`cpu-${busy}`).textContent()) ?? ''), { timeout: 20_000 }).toBeGreaterThan(20);
  if (web) await docShot(page, 'inventory-dark');
  await page.getByTestId('theme-toggle').click(); // system
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');

  // Notifications: what another process did, and a death the driver saw by itself, each tied to its
  // workload (a VM's crash and a container's OOM kill are in their own flows). Other suites share this
  // machine's engines, so a burst of their changes may keep a toast off the screen: the session's
  // notifications hold them all.
  expect((await cli(['stop', ids[2]!], app.env)).code).toBe(0);
  const pid = Number(JSON.parse((await cli(['inspect', victim, '--json'], app.env)).stdout).runtime.pid);
  process.kill(pid, 'SIGKILL');
  await expect(page.getByTestId(`state-${victim}`)).toHaveText(/exited|crashed/, { timeout: 15_000 });
  await page.keyboard.press('n');
  const said = page.getByTestId('notification');
  await expect(said.and(page.locator(`[data-workload="${ids[2]!}"]`)).filter({ hasText: 'cli workloads.stop' })).toContainText('ok → stopped');
  await expect(said.and(page.locator(`[data-workload="${victim}"]`)).filter({ hasText: /is (exited|crashed)/ })).toHaveCount(1);
  await page.keyboard.press('Escape');
  await page.getByTestId('nav-events').click();
  await expect(page.locator(`[data-testid^="event-row-"][data-workload="${victim}"][data-kind="state"]`)).toHaveCount(1);
  if (web) await docShot(page, 'events');

  for (const id of ids) await cli(['rm', '--force', id], app.env);
  await app.open('#/workloads');
  await expect(rows).toHaveCount(0);
});

test('saved VNC connections: off in the web mode unless allowed, then a console to a server NovaCron does not run', async ({ app }) => {
  const why = qemuWhy() ?? bootSectorWhy();
  if (why && process.env.CI === 'true') throw new Error(`QEMU is required under CI but missing: ${why}`);
  test.skip(why !== undefined, why ?? '');
  test.setTimeout(90_000);
  const vnc = await plainVncServer('lab-pw');
  let page = app.page;
  let cleanup = async () => undefined;
  try {
    if (app.mode === 'web') {
      await app.open('#/vnc');
      await expect(page.getByTestId('vnc-disabled')).toContainText('--vnc-allow');
      await expect(page.getByTestId('vnc-new')).toBeDisabled();
      // The operator allows loopback only, on a server of its own over the same data dir.
      const srv = await serve(app.env, ['--port', '0', '--vnc-allow', '127.0.0.1/32']);
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
      await page.goto(srv.loginUrl);
      cleanup = async () => {
        await browser.close();
        await srv.stop();
      };
      await page.goto(`${srv.url}#/vnc`);
    } else {
      await app.open('#/vnc');
    }
    await page.getByTestId('vnc-new').click();
    await page.getByTestId('vnc-field-label').fill('lab box');
    await page.getByTestId('vnc-field-host').fill('http://nope');
    await expect(page.getByTestId('error-vnc-host')).toContainText('host name or an IP address');
    await page.getByTestId('vnc-field-host').fill('127.0.0.1');
    await page.getByTestId('vnc-field-port').fill(String(vnc.port));
    await page.getByTestId('vnc-field-password').fill('wrong');
    await page.getByTestId('vnc-save').click();
    const row = page.locator('[data-testid^="vnc-row-"]');
    await expect(row).toContainText('saved');
    const connId = (await row.getAttribute('data-testid'))!.replace('vnc-row-', '');

    // A wrong password is a clear failure, not a black screen.
    await page.getByTestId(`vnc-open-${connId}`).click();
    await expect(page.getByTestId('console-status')).toHaveText('failed', { timeout: 15_000 });
    await expect(page.getByTestId('console-error')).toContainText(/security failure|refused the saved password/);

    await row.getByRole('button', { name: 'Edit' }).click();
    await page.getByTestId('vnc-field-password').fill('lab-pw');
    await page.getByTestId('vnc-save').click();
    await page.getByTestId(`vnc-open-${connId}`).click();
    await expect(page.getByTestId('console-status')).toHaveText('connected', { timeout: 15_000 });
    const canvas = page.getByTestId(`vnc-screen-${connId}`).locator('canvas');
    await expect
      .poll(async () => {
        const [truth, seen] = [await screendump(vnc.qmp), await canvasPixels(canvas)];
        return { sameAsQemu: sameness(truth, seen) > 0.99, banner: findText(seen, BOOT_BANNER) };
      }, { timeout: 20_000 })
      .toEqual({ sameAsQemu: true, banner: 0 });
    if (app.mode === 'web') await docShot(page, 'vnc-connections');
  } finally {
    await cleanup();
    await vnc.stop();
  }
});
