import { existsSync, statSync } from 'node:fs';
import { cli } from '../helpers/cli.js';
import { expect, test } from './fixtures.js';

test.describe.configure({ mode: 'serial' });

test('the Events screen shows operations from the CLI and from the UI, filtered and live', async ({ app }) => {
  const { page } = app;
  const uiOrigin = app.mode === 'web' ? 'headless' : 'desktop';
  const id = (await cli(['create', '--driver', 'process', '--name', 'e2e-events', '--cmd', 'sleep', '--arg', '120'], app.env)).stdout.trim();
  expect((await cli(['start', id], app.env)).code).toBe(0);

  await app.open(`#/workloads/${encodeURIComponent(id)}`);
  await expect(page.getByTestId(`detail-state-${id}`)).toHaveText('running');
  await page.getByTestId(`action-stop-${id}`).click();
  await expect(page.getByTestId(`detail-state-${id}`)).toHaveText('stopped');

  await page.getByTestId('nav-events').click();
  const rows = page.locator(`[data-testid^="event-row-"][data-workload="${id}"]`);
  await expect(rows).toHaveCount(3);
  // Newest first: the UI's stop, then the CLI's start and create.
  await expect(rows.nth(0).getByTestId('event-what')).toHaveText('workloads.stop');
  await expect(rows.nth(0).getByTestId('event-origin')).toHaveText(uiOrigin);
  await expect(rows.nth(0).getByTestId('event-result')).toHaveText('ok');
  await expect(rows.nth(1).getByTestId('event-what')).toHaveText('workloads.start');
  await expect(rows.nth(1).getByTestId('event-origin')).toHaveText('cli');
  await expect(rows.nth(2).getByTestId('event-what')).toHaveText('workloads.create');

  // Filters run in the core: only the CLI's operations, then only failures.
  await page.getByTestId('events-filter-origin').selectOption('cli');
  await expect(rows).toHaveCount(2);
  await expect(page.locator('[data-testid^="event-row-"] [data-testid="event-origin"]').filter({ hasNotText: 'cli' })).toHaveCount(0);
  await page.getByTestId('events-filter-origin').selectOption('');
  await page.getByTestId('events-filter-result').selectOption('error');
  await expect(rows).toHaveCount(0);
  await page.getByTestId('events-filter-result').selectOption('');
  await page.getByTestId('events-search').fill('e2e-events');
  await expect(rows).toHaveCount(3);

  // Live: what another process does shows up without a reload.
  expect((await cli(['rm', id], app.env)).code).toBe(0);
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(0).getByTestId('event-what')).toHaveText('workloads.delete');
});

test('Settings writes a diagnostics bundle', async ({ app }) => {
  const { page } = app;
  await app.open('#/settings');
  await page.getByTestId('diag-create').click();
  const shown = page.getByTestId('diag-file');
  await expect(shown).toContainText('.tar.gz');
  const file = (await shown.textContent())!.trim();
  expect(file.startsWith(`${app.home}/diagnostics/`)).toBe(true);
  expect(existsSync(file) && statSync(file).size > 200).toBe(true);
});
